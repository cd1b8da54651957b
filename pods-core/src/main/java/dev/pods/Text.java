package dev.pods;

/** Text normalization shared by the model's values. Not API. */
final class Text {
  private Text() {}

  static String normalizeNewlines(String s) {
    return s.indexOf('\r') < 0 ? s : s.replace("\r\n", "\n").replace('\r', '\n');
  }

  /** Removes leading and trailing lines that are empty or only white space; keeps inner lines as they are. */
  static String trimBlankLines(String s) {
    int start = 0;
    int i = 0;
    while (i < s.length()) {
      int nl = s.indexOf('\n', i);
      int end = nl < 0 ? s.length() : nl;
      if (!s.substring(i, end).isBlank()) {
        break;
      }
      start = nl < 0 ? s.length() : nl + 1;
      i = start;
    }
    int stop = s.length();
    int j = s.length();
    while (j > start) {
      int nl = s.lastIndexOf('\n', j - 1);
      int lineStart = nl < start ? start : nl + 1;
      if (!s.substring(lineStart, j).isBlank()) {
        break;
      }
      stop = nl < start ? start : nl;
      j = stop;
    }
    return s.substring(start, Math.max(start, stop));
  }
}
