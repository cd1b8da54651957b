package dev.pods.spi;

import dev.pods.PodRuntime;

/**
 * Starts the {@link PodRuntime} that {@link PodRuntime.Builder#build()} returns: the API finds its implementation
 * the way it finds its backends, through {@link java.util.ServiceLoader} ({@link Providers#runtime()}), so that the
 * API package depends on no implementation package. {@code pods-core} registers its own engine
 * ({@code META-INF/services/dev.pods.spi.PodRuntimeProvider} and {@code provides} in its module descriptor); host
 * applications do not implement this. Implementations are stateless and thread-safe.
 *
 * @since 0.1
 */
public interface PodRuntimeProvider {
  /** A short name, such as {@code default}, for error messages. */
  String name();

  /** Higher wins when several are registered. */
  int priority();

  /**
   * Starts a runtime on {@code settings}: creates the state folder, takes its lock and adopts the deployments
   * recorded there (blocks meanwhile; rebuilding runs on the executor). The caller owns the returned runtime and
   * closes it; the runtime owns {@link RuntimeSettings#owned()}.
   *
   * @throws dev.pods.ConflictException when another runtime holds the state folder
   * @throws dev.pods.PodsException when the state folder cannot be created or opened
   */
  PodRuntime start(RuntimeSettings settings);
}
