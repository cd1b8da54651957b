package dev.pods.diff;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One difference between two versions of a unit.
 *
 * @param path what changed, e.g. {@code memory}, {@code firewall[web-fw].ingress[0]}, {@code scripts.reload[1]}
 * @param before the old value as text, or {@code null} when it was added
 * @param after the new value as text, or {@code null} when it was removed
 * @param impact what applying it takes
 * @param lines for multi-line values (scripts, prose), a line diff: lines prefixed {@code "  "}, {@code "- "}
 *     or {@code "+ "}; empty otherwise
 */
public record Change(
    String path, @Nullable String before, @Nullable String after, Impact impact, List<String> lines) {
  /** Validates and copies. */
  public Change {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(impact, "impact");
    lines = List.copyOf(Objects.requireNonNull(lines, "lines"));
    if (before == null && after == null) {
      throw new IllegalArgumentException("a change has a value before or after");
    }
  }

  /** Whether the value was added. */
  public boolean isAddition() {
    return before == null;
  }

  /** Whether the value was removed. */
  public boolean isRemoval() {
    return after == null;
  }
}
