package dev.pods.spec;

import dev.pods.internal.HostStrings;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One log source inside the guest: a systemd unit's journal or a file.
 *
 * @param key a short key naming the stream
 * @param type where the lines come from
 * @param unit the systemd unit, for {@link Type#SYSTEMD}
 * @param path the file, for {@link Type#FILE}
 */
public record JournalInput(String key, Type type, @Nullable String unit, @Nullable String path) {

  /** Where the lines come from. */
  public enum Type {
    /** A systemd unit's journal. */
    SYSTEMD,
    /** A log file. */
    FILE;

    private static final java.util.Map<String, Type> BY_ID = new java.util.HashMap<>();

    static {
      for (Type v : values()) {
        BY_ID.put(v.id, v);
      }
    }

    private final String id = name().toLowerCase(Locale.ROOT);

    /** The template word. */
    public String id() {
      return id;
    }

    /** The type for a template word, or {@code null}. */
    public static @Nullable Type fromId(String id) {
      return BY_ID.get(id);
    }
  }

  private static final java.util.regex.Pattern KEY = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  /**
   * Validates the combination, and the strings that reach the guest's system as strictly as names: {@code unit} a
   * systemd unit name ({@link HostStrings#unitProblem}), {@code path} absolute without {@code .}, {@code ..} or
   * empty segments, control characters or line breaks ({@link HostStrings#pathProblem}).
   */
  public JournalInput {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(type, "type");
    if (!KEY.matcher(key).matches()) {
      throw new IllegalArgumentException("invalid journal key '" + key + "'");
    }
    if (type == Type.SYSTEMD && (unit == null || path != null)) {
      throw new IllegalArgumentException("a systemd input names a unit and no path");
    }
    if (type == Type.FILE && (path == null || unit != null || !path.startsWith("/"))) {
      throw new IllegalArgumentException("a file input names an absolute path and no unit");
    }
    String bad = unit == null ? null : HostStrings.unitProblem(unit);
    if (bad == null && path != null) {
      bad = HostStrings.pathProblem(path);
    }
    if (bad != null) {
      throw new IllegalArgumentException(bad);
    }
  }
}
