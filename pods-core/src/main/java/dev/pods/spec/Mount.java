package dev.pods.spec;

import dev.pods.SourceLocation;
import dev.pods.internal.HostStrings;
import dev.pods.internal.SafeText;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A file system mounted in the guest: named persistent disks (which survive the recreation of an instance)
 * or a folder of the host.
 *
 * @param name an optional name
 * @param type disk or host folder
 * @param path where it is mounted in the guest (absolute)
 * @param hostPath the host folder, for {@link Type#HOST_PATH}
 * @param disks the persistent disks ({@code +/disk/NAME}), for {@link Type#DISK}
 * @param readOnly for {@link Type#HOST_PATH}: whether the folder is shared read-only (the default; template
 *     key {@code readOnly: false} makes it writable), enforced on the host so that root in the guest cannot write
 *     to it either; always {@code false} for disks
 * @param location where a template declared the mount, or {@code null}; not part of the value (left out of
 *     {@link #equals}, {@link #hashCode} and {@link #toString}, so a template and its rendering stay equal): a
 *     deploy that refuses the mount names it
 */
public record Mount(
    @Nullable String name, Type type, String path, @Nullable String hostPath, List<Reference> disks,
    boolean readOnly, @Nullable SourceLocation location) {

  /** What is mounted. */
  public enum Type {
    /** Named persistent disks. */
    DISK,
    /** A folder of the host. */
    HOST_PATH;

    private static final java.util.Map<String, Type> BY_ID = new java.util.HashMap<>();

    static {
      for (Type v : values()) {
        BY_ID.put(v.id, v);
      }
    }

    private final String id = name().toLowerCase(Locale.ROOT);

    /** The template word: {@code disk} or {@code host_path}. */
    public String id() {
      return id;
    }

    /** The type for a template word, or {@code null}. */
    public static @Nullable Type fromId(String id) {
      return BY_ID.get(id);
    }
  }

  private static final java.util.regex.Pattern NAME =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  /**
   * Validates the combination, and the strings that reach the guest's or the host's file system as strictly as
   * names ({@link HostStrings#pathProblem}): {@code path} and {@code hostPath} absolute, without {@code .},
   * {@code ..} or empty segments, control characters or line breaks; {@code name} 1-63 letters, digits and
   * {@code _.-}, without {@code ..}.
   */
  public Mount {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(path, "path");
    disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("a mount path is absolute, not '" + SafeText.oneLine(path, 200) + "'");
    }
    String bad = HostStrings.pathProblem(path);
    if (bad != null) {
      throw new IllegalArgumentException("mount path: " + bad);
    }
    if (type == Type.HOST_PATH && (hostPath == null || !hostPath.startsWith("/") || !disks.isEmpty())) {
      throw new IllegalArgumentException("a host_path mount names an absolute hostPath and no disks");
    }
    if (hostPath != null && (bad = HostStrings.pathProblem(hostPath)) != null) {
      throw new IllegalArgumentException("mount hostPath: " + bad);
    }
    if (name != null && (!NAME.matcher(name).matches() || name.contains(".."))) {
      throw new IllegalArgumentException("a mount name is 1-63 letters, digits and '_.-' without '..', not '"
          + SafeText.oneLine(name, 100) + "'");
    }
    if (type == Type.DISK) {
      if (disks.isEmpty() || hostPath != null) {
        throw new IllegalArgumentException("a disk mount names disks (+/disk/NAME) and no hostPath");
      }
      for (Reference d : disks) {
        if (!d.kind().equals("disk")) {
          throw new IllegalArgumentException("a disk mount names +/disk/NAME references, not '" + d + "'");
        }
      }
    } else if (hostPath == null || !hostPath.startsWith("/") || !disks.isEmpty()) {
      throw new IllegalArgumentException("a host_path mount names an absolute hostPath and no disks");
    }
    if (type == Type.DISK && readOnly) {
      throw new IllegalArgumentException("readOnly is for host_path mounts; a disk mount is writable");
    }
  }

  /** A mount built in code (no source location). */
  public Mount(@Nullable String name, Type type, String path, @Nullable String hostPath, List<Reference> disks,
      boolean readOnly) {
    this(name, type, path, hostPath, disks, readOnly, null);
  }

  /** A mount with the default access: a host folder read-only, a disk writable. */
  public Mount(@Nullable String name, Type type, String path, @Nullable String hostPath, List<Reference> disks) {
    this(name, type, path, hostPath, disks, type == Type.HOST_PATH);
  }

  /** Equal in every component but the location. */
  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Mount m && Objects.equals(name, m.name) && type == m.type && path.equals(m.path)
        && Objects.equals(hostPath, m.hostPath) && disks.equals(m.disks) && readOnly == m.readOnly;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, type, path, hostPath, disks, readOnly);
  }

  @Override
  public String toString() {
    return "Mount[name=" + name + ", type=" + type + ", path=" + path + ", hostPath=" + hostPath + ", disks="
        + disks + ", readOnly=" + readOnly + "]";
  }
}
