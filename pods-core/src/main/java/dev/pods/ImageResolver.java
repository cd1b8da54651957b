package dev.pods;

/**
 * Maps a unit's {@link Unit#image() image} name to the files the hypervisor boots (for now a function the caller
 * gives, e.g. every image to the tiny guest of {@code dev.pods.kvm.GuestImages}).
 *
 * <p>Called by the runtime from its worker threads, possibly concurrently, once per instance being created; it may
 * block (to build or download an image) and must be thread-safe.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface ImageResolver {

  /**
   * The boot files of {@code image}.
   *
   * @throws PodsException when the image is unknown or cannot be made available; the instance then fails
   */
  BootImage resolve(String image);
}
