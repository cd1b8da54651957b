package dev.pods.internal;

/**
 * Makes text from templates and guests safe to print on a terminal, in a log or inside an error message: control
 * characters (C0, DEL, C1), line and paragraph separators and bidirectional overrides are replaced by visible escapes
 * ({@code \n}, {@code \r}, {@code \t}, {@code \e}, else {@code \xHH}, or a backslash, {@code u} and four hex
 * digits), so no escape sequence reaches the terminal and no embedded newline can forge a
 * {@code file:line:col: error:} line; very long text is cut, saying how much was left out. Printable text,
 * non-ASCII letters included, passes unchanged; a backslash stays a backslash (so a literal {@code \n} reads like an
 * escaped newline: harmless, since neither moves the cursor).
 *
 * <p>Written here rather than taken from a library: Commons Text's {@code escapeJava} also escapes every non-ASCII
 * letter and quotes, Guava's escapers need Guava, and neither cuts long values; this is one small loop. Not API:
 * may change without notice. Stateless and thread-safe.
 */
public final class SafeText {
  /** The default bound of one escaped value or line, in characters. */
  public static final int DEFAULT_MAX_CHARS = 2000;

  private SafeText() {}

  /** {@link #oneLine(String, int)} with {@link #DEFAULT_MAX_CHARS}. */
  public static String oneLine(String s) {
    return oneLine(s, DEFAULT_MAX_CHARS);
  }

  /**
   * {@code s} as one printable line: every control character escaped (tabs too), cut after {@code maxChars}
   * characters of input with {@code ... (N more characters)}.
   */
  public static String oneLine(String s, int maxChars) {
    return escape(s, maxChars, false);
  }

  /**
   * A line of guest output for a terminal or log: as {@link #oneLine(String, int)}, except that tabs are kept
   * (they move the cursor forward only, and output such as {@code ls -l} relies on them).
   */
  public static String outputLine(String s, int maxChars) {
    return escape(s, maxChars, true);
  }

  /** Whether {@code s} is already safe: no character {@link #oneLine} would escape. */
  public static boolean isSafe(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (unsafe(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean unsafe(char c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029'
        || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069') || c == '\u200e' || c == '\u200f'
        || c == '\u061c';
  }

  private static String escape(String s, int maxChars, boolean keepTabs) {
    int max = Math.max(0, maxChars);
    int n = Math.min(s.length(), max);
    if (n > 0 && n < s.length() && Character.isHighSurrogate(s.charAt(n - 1))) {
      n--; // never cut a character in two
    }
    boolean clean = n == s.length();
    for (int i = 0; i < n && clean; i++) {
      char c = s.charAt(i);
      clean = !unsafe(c) || (keepTabs && c == '\t');
    }
    if (clean) {
      return s;
    }
    StringBuilder b = new StringBuilder(n + 16);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (!unsafe(c) || (keepTabs && c == '\t')) {
        b.append(c);
        continue;
      }
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\u001b' -> b.append("\\e");
        default -> b.append(c <= 0xff ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
      }
    }
    if (n < s.length()) {
      b.append("... (").append(s.length() - n).append(" more characters)");
    }
    return b.toString();
  }
}
