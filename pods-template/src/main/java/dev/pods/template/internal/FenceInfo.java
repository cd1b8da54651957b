package dev.pods.template.internal;

import dev.pods.Phase;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The info string of a fence's opening line, read from the raw line so that columns are exact: the first word
 * ({@code yaml}, {@code bash}, ...) and what follows it. Script fences take attributes
 * {@code {phase=initial|reboot|reload, timeout=30s}}: comma-separated {@code key=value} pairs whose value may be
 * in double quotes.
 */
public final class FenceInfo {
  private final String line;
  private final String word;
  private final int wordStart;
  private final int restStart;

  private FenceInfo(String line, String word, int wordStart, int restStart) {
    this.line = line;
    this.word = word;
    this.wordStart = wordStart;
    this.restStart = restStart;
  }

  /**
   * Reads the opening line of a fence.
   *
   * @param line the raw line
   * @param indent the fence's indentation (spaces before the fence characters)
   * @param fenceLength how many fence characters open it
   */
  public static FenceInfo of(String line, int indent, int fenceLength) {
    int i = Math.min(line.length(), indent + fenceLength);
    while (i < line.length() && isSpace(line.charAt(i))) {
      i++;
    }
    int start = i;
    while (i < line.length() && !isSpace(line.charAt(i)) && line.charAt(i) != '{') {
      i++;
    }
    return new FenceInfo(line, line.substring(start, i), start, i);
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t';
  }

  /** The first word of the info string, empty when there is none. */
  public String word() {
    return word;
  }

  /** The 1-based column of the word. */
  public int wordColumn() {
    return wordStart + 1;
  }

  /** Whether anything but white space follows the word. */
  public boolean hasRest() {
    return !line.substring(restStart).isBlank();
  }

  /** The 1-based column where the text after the word starts (after white space). */
  public int restColumn() {
    int i = restStart;
    while (i < line.length() && isSpace(line.charAt(i))) {
      i++;
    }
    return i + 1;
  }

  /** A script fence's attributes, as far as they are valid. */
  public record Attributes(Phase phase, @Nullable Duration timeout) {}

  /**
   * Reads a script fence's attributes, reporting every problem.
   *
   * @param problems where problems go
   * @param lineNumber the 1-based line of the fence
   * @return the attributes, with {@code initial} and no timeout for anything missing or invalid
   */
  public Attributes attributes(Problems problems, int lineNumber) {
    Phase phase = Phase.INITIAL;
    Duration timeout = null;
    int i = restStart;
    int n = line.length();
    while (i < n && isSpace(line.charAt(i))) {
      i++;
    }
    if (i == n) {
      return new Attributes(phase, null);
    }
    if (line.charAt(i) != '{') {
      problems.error(
          problems.at(lineNumber, i + 1),
          "script",
          "unexpected text after '" + word + "': attributes are written {phase=reload, timeout=30s}");
      return new Attributes(phase, null);
    }
    int close = line.lastIndexOf('}');
    if (close < i || !line.substring(close + 1).isBlank()) {
      problems.error(
          problems.at(lineNumber, i + 1),
          "script",
          "the attributes opened by '{' are not closed by a '}' at the end of the line");
      return new Attributes(phase, null);
    }
    Set<String> seen = new HashSet<>();
    int p = i + 1;
    while (p < close) {
      while (p < close && isSpace(line.charAt(p))) {
        p++;
      }
      if (p == close) {
        if (!seen.isEmpty()) {
          problems.error(problems.at(lineNumber, p + 1), "script", "empty attribute after ','");
        }
        break;
      }
      int keyStart = p;
      while (p < close && line.charAt(p) != '=' && line.charAt(p) != ',' && !isSpace(line.charAt(p))) {
        p++;
      }
      String key = line.substring(keyStart, p);
      while (p < close && isSpace(line.charAt(p))) {
        p++;
      }
      if (key.isEmpty() || p == close || line.charAt(p) != '=') {
        problems.error(
            problems.at(lineNumber, keyStart + 1),
            "script",
            key.isEmpty() ? "empty attribute: expected key=value" : "attribute '" + key + "' has no '=value'");
        p = skipToComma(p, close);
        continue;
      }
      p++;
      while (p < close && isSpace(line.charAt(p))) {
        p++;
      }
      int valueStart = p;
      String value;
      if (p < close && line.charAt(p) == '"') {
        int q = line.indexOf('"', p + 1);
        if (q < 0 || q > close) {
          problems.error(problems.at(lineNumber, p + 1), "script", "the quoted value of '" + key + "' is not closed");
          break;
        }
        value = line.substring(p + 1, q);
        p = q + 1;
      } else {
        while (p < close && line.charAt(p) != ',' && !isSpace(line.charAt(p))) {
          p++;
        }
        value = line.substring(valueStart, p);
      }
      while (p < close && isSpace(line.charAt(p))) {
        p++;
      }
      if (p < close && line.charAt(p) != ',') {
        problems.error(
            problems.at(lineNumber, p + 1), "script", "expected ',' or '}' after the value of '" + key + "'");
        p = skipToComma(p, close);
        continue;
      }
      if (p < close) {
        p++;
        if (line.substring(p, close).isBlank()) {
          problems.error(problems.at(lineNumber, p), "script", "empty attribute after ','");
          break;
        }
      }
      if (!seen.add(key)) {
        problems.error(problems.at(lineNumber, keyStart + 1), "script." + key, "attribute '" + key + "' is given twice");
        continue;
      }
      switch (key) {
        case "phase" -> {
          Phase known = Ids.phase(value);
          if (known != null) {
            phase = known;
          } else {
            try {
              Phase.parse(value); // throws, with the model's words for the accepted values
            } catch (IllegalArgumentException e) {
              problems.error(problems.at(lineNumber, valueStart + 1), "script.phase", e.getMessage());
            }
          }
        }
        case "timeout" -> {
          try {
            Duration d = Durations.parse(value);
            if (d.isZero()) {
              problems.error(
                  problems.at(lineNumber, valueStart + 1), "script.timeout", "timeout must be more than 0");
            } else {
              timeout = d;
            }
          } catch (IllegalArgumentException e) {
            problems.error(problems.at(lineNumber, valueStart + 1), "script.timeout", e.getMessage());
          }
        }
        default ->
            problems.error(
                problems.at(lineNumber, keyStart + 1),
                "script",
                "unknown attribute '" + key + "': expected phase or timeout");
      }
    }
    return new Attributes(phase, timeout);
  }

  private int skipToComma(int from, int close) {
    int p = from;
    while (p < close && line.charAt(p) != ',') {
      p++;
    }
    return p < close ? p + 1 : close;
  }
}
