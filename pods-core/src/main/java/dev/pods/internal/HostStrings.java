package dev.pods.internal;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Rules for strings of a description that reach a host or a guest's system outside a script: paths (mount points,
 * host folders, log files) and systemd unit names. As strict as names: no control characters, no {@code ..},
 * bounded length, absolute where a path is meant. Each check returns why the string is refused, or {@code null}.
 * Not API: may change without notice. Stateless and thread-safe.
 */
public final class HostStrings {
  /** The longest path accepted, in characters. */
  public static final int MAX_PATH = 1024;

  /** A systemd unit name: its characters (systemd.unit(5)), a letter or digit first (no option such as {@code -x}). */
  private static final Pattern UNIT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9:_.@\\\\-]{0,254}");

  private HostStrings() {}

  /**
   * Why {@code path} is not an absolute, normalized path without control characters, or {@code null}: it starts
   * with {@code /}, has no {@code .} or {@code ..} segment, no empty segment ({@code //}), no control or line
   * separator character, and at most {@link #MAX_PATH} characters.
   */
  public static @Nullable String pathProblem(String path) {
    if (path.isEmpty()) {
      return "a path is not empty";
    }
    if (path.length() > MAX_PATH) {
      return "a path has at most " + MAX_PATH + " characters, this one " + path.length();
    }
    if (!SafeText.isSafe(path)) {
      return "a path has no control characters or line breaks: '" + SafeText.oneLine(path, 200) + "'";
    }
    if (!path.startsWith("/")) {
      return "a path is absolute (starts with '/'), not '" + path + "'";
    }
    String rest = path.length() > 1 && path.endsWith("/") ? path.substring(1, path.length() - 1) : path.substring(1);
    if (path.length() > 1) {
      for (String segment : rest.split("/", -1)) {
        if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
          return "a path has no '.', '..' or empty segments, not '" + path + "'";
        }
      }
    }
    return null;
  }

  /**
   * Why {@code unit} is not a systemd unit name, or {@code null}: 1 to 255 of {@code A-Z a-z 0-9 : _ . @ \ -},
   * starting with a letter or digit, and no {@code ..}.
   */
  public static @Nullable String unitProblem(String unit) {
    if (!SafeText.isSafe(unit)) {
      return "a systemd unit name has no control characters or line breaks: '" + SafeText.oneLine(unit, 200) + "'";
    }
    if (!UNIT.matcher(unit).matches() || unit.contains("..")) {
      return "a systemd unit name is 1-255 of letters, digits and ':_.@\\-', a letter or digit first, without"
          + " '..', not '" + unit + "'";
    }
    return null;
  }
}
