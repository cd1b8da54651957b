package dev.pods.spec;

import dev.pods.internal.Names;
import java.util.List;
import java.util.Objects;

/**
 * A {@code kind: journal} resource: log sources in the guest to follow and ship to the host.
 *
 * @param name the resource's name, unique in its unit
 * @param inputs the sources
 */
public record Journal(String name, List<JournalInput> inputs) {
  /** Validates and copies. */
  public Journal {
    Names.require("journal name", Objects.requireNonNull(name, "name"));
    inputs = List.copyOf(Objects.requireNonNull(inputs, "inputs"));
  }
}
