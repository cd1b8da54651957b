package dev.pods.spec;

/**
 * A port or an inclusive range of ports, written {@code 22} or {@code 8000-8080}.
 *
 * @param from first port, 1-65535
 * @param to last port, {@code from}-65535
 */
public record PortRange(int from, int to) {
  /** Validates the bounds. */
  public PortRange {
    if (from < 1 || from > 65535 || to < from || to > 65535) {
      throw new IllegalArgumentException(
          "invalid port range " + from + "-" + to + ": ports are 1-65535 and the first is not above the last");
    }
  }

  /** A single port. */
  public static PortRange of(int port) {
    return new PortRange(port, port);
  }

  /**
   * Parses {@code N} or {@code N-M}.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static PortRange parse(String text) {
    String t = text.strip();
    int dash = t.indexOf('-');
    try {
      if (dash < 0) {
        return of(Integer.parseInt(t));
      }
      return new PortRange(Integer.parseInt(t.substring(0, dash).strip()), Integer.parseInt(t.substring(dash + 1).strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid port '" + text + "': expected N or N-M", e);
    }
  }

  /** Whether the range holds one port. */
  public boolean isSingle() {
    return from == to;
  }

  /** {@code N} or {@code N-M}. */
  @Override
  public String toString() {
    return isSingle() ? Integer.toString(from) : from + "-" + to;
  }
}
