package dev.pods.spi;

import dev.pods.ImageResolver;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Makes {@link Hypervisor}s; implementations are listed in
 * {@code META-INF/services/dev.pods.spi.HypervisorProvider} and found with {@link java.util.ServiceLoader}
 * (see {@link Providers#discover}). The runtime takes the available provider of highest priority unless one
 * is chosen explicitly. Fakes are never registered. Implementations are stateless and thread-safe;
 * {@link #unavailableReason()} may probe the host quickly, without side effects.
 *
 * @since 0.1
 */
public interface HypervisorProvider {
  /** A short name, such as {@code libvirt}. */
  String name();

  /** Higher wins among available providers. */
  int priority();

  /** Why this provider cannot work on this host, or empty when it can. */
  Optional<String> unavailableReason();

  /**
   * Makes a hypervisor connection; the caller closes it.
   *
   * @throws dev.pods.BackendException when the connection cannot be opened
   */
  Hypervisor create(HypervisorConfig config);

  /**
   * The files of this backend's instances (disks, seeds, console logs) under {@code dir}, for
   * {@link dev.pods.PodRuntime#local()}. Nothing is created before the first instance is prepared.
   */
  InstanceFiles instanceFiles(Path dir);

  /**
   * The named persistent disks of this backend under {@code dir} (the same folder as
   * {@link #instanceFiles(Path)}'s), for {@link dev.pods.PodRuntime#local()}. Nothing is created before the first
   * volume is.
   */
  DiskStore disks(Path dir);

  /**
   * The images this backend knows by name (its catalogue), for {@link dev.pods.PodRuntime#local()}; downloaded
   * images are cached under {@code dir} (the same folder as {@link #instanceFiles(Path)}'s). Resolving may build or
   * download an image, and blocks meanwhile. The resolver applies {@code policy} to every image it is asked for
   * (paths with their symbolic links resolved, download size, redirects, destination addresses).
   */
  ImageResolver images(Path dir, dev.pods.ImagePolicy policy);
}
