package dev.pods.runtime;

import dev.pods.spec.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The host-folder policy of a runtime: a {@code host_path} mount's folder, resolved with symbolic links followed,
 * must lie inside one of the folders the host application allowed ({@code PodRuntime.Builder.hostFolder}).
 * Stateless.
 */
final class HostFolders {
  private HostFolders() {}

  /** Why {@code m}'s host folder is refused, or {@code null} when it is allowed. */
  static @Nullable String refusal(Mount m, List<Path> allowed) {
    String hp = m.hostPath();
    if (hp == null) {
      return "a host_path mount names a hostPath";
    }
    Path real;
    try {
      real = Path.of(hp).toRealPath();
    } catch (IOException e) {
      return "hostPath " + hp + " does not exist on this host";
    }
    if (!Files.isDirectory(real)) {
      return "hostPath " + hp + " is not a folder";
    }
    for (Path a : allowed) {
      try {
        if (real.startsWith(a.toRealPath())) {
          return null;
        }
      } catch (IOException e) {
        // an allowed folder that does not exist allows nothing
      }
    }
    return "hostPath " + hp + (real.toString().equals(hp) ? "" : " (" + real + ")")
        + " is outside the host folders this runtime allows ("
        + (allowed.isEmpty() ? "none: PodRuntime.Builder.hostFolder, pods up --host-folder" : allowed.toString())
        + ")";
  }

  /** The resolved folder of an allowed mount. */
  static Path resolve(Mount m) {
    try {
      return Path.of(java.util.Objects.requireNonNull(m.hostPath(), "hostPath")).toRealPath();
    } catch (IOException e) {
      throw new dev.pods.PodsException("hostPath " + m.hostPath() + " vanished: " + e, e);
    }
  }
}
