package dev.pods.template.internal;

import java.util.Arrays;

/**
 * A document split into lines the way CommonMark splits it ({@code \n}, {@code \r\n} or {@code \r} end a
 * line), without copying the text. Line indexes are 0-based here; problems report them 1-based.
 */
public final class SourceText {
  private final String text;
  private final int[] starts;
  private final int[] ends;
  private final int count;
  private final boolean lineFeedsOnly;

  /** Splits the text into lines. */
  public SourceText(String text) {
    this.text = text;
    int len = text.length();
    // String.indexOf is vectorized; a template without '\r' (the usual case) needs nothing else.
    boolean crs = text.indexOf('\r') >= 0;
    int[] s = new int[Math.max(16, len / 24)];
    int[] e = new int[s.length];
    int n = 0;
    int start = 0;
    while (start < len) {
      int end = crs ? nextBreak(text, start) : text.indexOf('\n', start);
      if (end < 0) {
        end = len;
      }
      if (n == s.length) {
        s = Arrays.copyOf(s, n * 2);
        e = Arrays.copyOf(e, n * 2);
      }
      s[n] = start;
      e[n] = end;
      n++;
      if (end == len) {
        break;
      }
      start = end + (text.charAt(end) == '\r' && end + 1 < len && text.charAt(end + 1) == '\n' ? 2 : 1);
    }
    this.starts = s;
    this.ends = e;
    this.count = n;
    this.lineFeedsOnly = !crs;
  }

  private static int nextBreak(String text, int from) {
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n' || c == '\r') {
        return i;
      }
    }
    return -1;
  }

  /** The whole text. */
  public String text() {
    return text;
  }

  /** The number of lines (a final line break does not start another line). */
  public int lineCount() {
    return count;
  }

  /** Line {@code i} (0-based), without its line break. */
  public String line(int i) {
    return text.substring(starts[i], ends[i]);
  }

  /** The offset of line {@code i}'s first character. */
  public int lineStart(int i) {
    return starts[i];
  }

  /** The offset just after line {@code i}'s last character (before its line break). */
  public int lineEnd(int i) {
    return ends[i];
  }

  /** Lines {@code from} (inclusive) to {@code to} (exclusive) joined with {@code \n}; empty when none. */
  public String join(int from, int to) {
    if (from >= to) {
      return "";
    }
    if (lineFeedsOnly) {
      return text.substring(starts[from], ends[to - 1]); // the lines and the '\n's between them, as they stand
    }
    StringBuilder b = new StringBuilder(ends[to - 1] - starts[from] + 1);
    for (int i = from; i < to; i++) {
      if (i > from) {
        b.append('\n');
      }
      b.append(text, starts[i], ends[i]);
    }
    return b.toString();
  }

  /** Whether every line from {@code from} to {@code to} (exclusive) is empty or white space. */
  public boolean isBlank(int from, int to) {
    for (int i = from; i < to; i++) {
      for (int j = starts[i]; j < ends[i]; j++) {
        if (!Character.isWhitespace(text.charAt(j))) {
          return false;
        }
      }
    }
    return true;
  }
}
