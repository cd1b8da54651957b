package dev.pods;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * When a script block runs, written {@code {phase=initial|reboot|reload}} after a template's fence.
 *
 * <p>A block without a phase attribute is {@link #INITIAL}. Unlike Pritunl Cloud, an unknown or misspelled
 * value is an error, never a silent {@code initial}. See {@link #runsOn(Trigger)} for the cumulative rule.
 */
public enum Phase {
  /** Runs once, at the first boot of an instance. */
  INITIAL,
  /** Runs at the first boot and at every later boot. */
  REBOOT,
  /** Runs at every boot and whenever the cluster state changes; must be convergent. */
  RELOAD;

  /** The word used in templates: {@code initial}, {@code reboot} or {@code reload}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Whether blocks of this phase run for a trigger: every phase at {@link Trigger#FIRST_BOOT}, {@code reboot}
   * and {@code reload} at {@link Trigger#REBOOT}, only {@code reload} at {@link Trigger#CLUSTER_CHANGE}.
   */
  public boolean runsOn(Trigger trigger) {
    return switch (trigger) {
      case FIRST_BOOT -> true;
      case REBOOT -> this != INITIAL;
      case CLUSTER_CHANGE -> this == RELOAD;
    };
  }

  /**
   * The blocks that run for a trigger, in document order.
   *
   * @param scripts a unit's scripts in document order
   */
  public static List<Script> select(List<Script> scripts, Trigger trigger) {
    return scripts.stream().filter(s -> s.phase().runsOn(trigger)).toList();
  }

  /**
   * Parses a phase word, exactly as written in templates (lower case).
   *
   * @throws IllegalArgumentException naming the accepted values, for anything else
   */
  public static Phase parse(String id) {
    for (Phase p : values()) {
      if (p.id().equals(id)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown phase '"
            + id
            + "': expected one of "
            + Arrays.stream(values()).map(Phase::id).collect(Collectors.joining(", ")));
  }
}
