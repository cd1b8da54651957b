package dev.pods.etcd;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a node offers the cluster: its name (unique among the live nodes), the address other nodes reach it on, and
 * the CPUs and memory it gives instances. Immutable.
 *
 * @param name letters, digits, '.', '_' and '-', starting with a letter or digit (as in {@code +/node/NAME})
 * @param address where other nodes reach it (free text for now, e.g. {@code 10.250.0.1})
 * @param cpus virtual CPUs it gives instances, at least 1
 * @param memoryMib memory it gives instances, at least 1 MiB
 * @since 0.1
 */
public record NodeSpec(String name, String address, int cpus, int memoryMib) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  /** Validates. */
  public NodeSpec {
    requireName(name);
    Objects.requireNonNull(address, "address");
    if (cpus < 1 || memoryMib < 1) {
      throw new IllegalArgumentException("node '" + name + "' offers at least 1 CPU and 1 MiB, not " + cpus
          + " CPUs and " + memoryMib + " MiB");
    }
  }

  static void requireName(String name) {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("node name '" + name + "' is not 1-63 letters, digits, '.', '_' and '-'"
          + " starting with a letter or digit");
    }
  }
}
