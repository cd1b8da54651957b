package dev.pods.template.internal;

import java.time.Duration;

/**
 * Timeouts as written in script fences: a sequence of whole numbers each followed by a unit, {@code h},
 * {@code m}, {@code s}, {@code ms}, {@code us} or {@code ns}, e.g. {@code 30s}, {@code 1h30m}, {@code 250ms}.
 * {@link #format(Duration)} writes the shortest such form, and {@code parse(format(d))} equals {@code d} for
 * any non-negative duration up to a day.
 */
public final class Durations {
  private static final long MAX_NANOS = Duration.ofDays(1).toNanos();

  private Durations() {}

  /**
   * Parses a timeout.
   *
   * @throws IllegalArgumentException with the reason, for anything else
   */
  public static Duration parse(String text) {
    if (text.isEmpty()) {
      throw invalid(text);
    }
    long total = 0;
    int i = 0;
    int n = text.length();
    while (i < n) {
      int digits = i;
      long value = 0;
      while (i < n && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
        value = value * 10 + (text.charAt(i) - '0');
        if (value > MAX_NANOS) {
          throw new IllegalArgumentException("timeout '" + text + "' is longer than 24h");
        }
        i++;
      }
      if (i == digits) {
        throw invalid(text);
      }
      int unitStart = i;
      while (i < n && Character.isLetter(text.charAt(i))) {
        i++;
      }
      long nanosPerUnit =
          switch (text.substring(unitStart, i)) {
            case "h" -> 3_600_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "s" -> 1_000_000_000L;
            case "ms" -> 1_000_000L;
            case "us" -> 1_000L;
            case "ns" -> 1L;
            default -> throw invalid(text);
          };
      if (value > (MAX_NANOS - total) / nanosPerUnit + 1) {
        throw new IllegalArgumentException("timeout '" + text + "' is longer than 24h");
      }
      total += value * nanosPerUnit;
      if (total > MAX_NANOS) {
        throw new IllegalArgumentException("timeout '" + text + "' is longer than 24h");
      }
    }
    return Duration.ofNanos(total);
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException(
        "invalid timeout '" + text + "': expected whole numbers with units h, m, s, ms, us or ns, e.g. 30s or 1h30m");
  }

  /** The shortest text {@link #parse(String)} reads back as {@code d}; {@code 0s} for zero. */
  public static String format(Duration d) {
    long nanos = d.toNanos();
    if (nanos == 0) {
      return "0s";
    }
    StringBuilder b = new StringBuilder();
    long[] units = {3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L, 1L};
    String[] names = {"h", "m", "s", "ms", "us", "ns"};
    for (int u = 0; u < units.length; u++) {
      long q = nanos / units[u];
      if (q > 0) {
        b.append(q).append(names[u]);
        nanos -= q * units[u];
      }
    }
    return b.toString();
  }
}
