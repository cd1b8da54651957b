package dev.pods.spi;

import java.util.Optional;

/**
 * Makes {@link NetworkDriver}s; implementations are listed in
 * {@code META-INF/services/dev.pods.spi.NetworkDriverProvider} and found with {@link java.util.ServiceLoader}. The
 * runtime takes the available provider of highest priority unless one is chosen explicitly, and lists every
 * provider with its reason when none is available. Fakes are never registered. Implementations are stateless and
 * thread-safe; {@link #unavailableReason()} may probe the host (quickly, without side effects).
 *
 * @since 0.1
 */
public interface NetworkDriverProvider {
  /** A short name, such as {@code linux}. */
  String name();

  /** Higher wins among available providers. */
  int priority();

  /** Why this provider cannot work on this host, or empty when it can. */
  Optional<String> unavailableReason();

  /**
   * Makes a driver; the caller closes it.
   *
   * @throws dev.pods.NetworkException when the driver cannot be made (its state directory is unusable, say)
   */
  NetworkDriver create(NetworkDriverConfig config);
}
