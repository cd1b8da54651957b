package dev.pods.spec;

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

    /** The template word. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The type for a template word, or {@code null}. */
    public static @Nullable Type fromId(String id) {
      for (Type t : values()) {
        if (t.id().equals(id)) {
          return t;
        }
      }
      return null;
    }
  }

  /** Validates the combination. */
  public JournalInput {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(type, "type");
    if (!key.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
      throw new IllegalArgumentException("invalid journal key '" + key + "'");
    }
    if (type == Type.SYSTEMD && (unit == null || path != null)) {
      throw new IllegalArgumentException("a systemd input names a unit and no path");
    }
    if (type == Type.FILE && (path == null || unit != null || !path.startsWith("/"))) {
      throw new IllegalArgumentException("a file input names an absolute path and no unit");
    }
  }
}
