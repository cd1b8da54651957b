package dev.pods.spi;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link HypervisorProvider} needs to connect: the connection URI (or {@code null} for the
 * provider's configured default, e.g. system property {@code pods.kvm.uri}, then {@code PODS_KVM_URI}, then
 * {@code qemu:///system}) and the acceleration used for domains that ask for {@link Acceleration#AUTO}.
 * Immutable.
 *
 * @param uri the connection URI, or {@code null} for the configured default
 * @param acceleration what {@link Acceleration#AUTO} resolves to; {@code AUTO} probes the host
 * @since 0.1
 */
public record HypervisorConfig(@Nullable String uri, Acceleration acceleration) {
  /** The configured URI, with acceleration probed. */
  public static final HypervisorConfig DEFAULT = new HypervisorConfig(null, Acceleration.AUTO);

  /** Validates. */
  public HypervisorConfig {
    Objects.requireNonNull(acceleration, "acceleration");
  }

  /** A configuration for a URI, acceleration probed. */
  public static HypervisorConfig uri(String uri) {
    return new HypervisorConfig(Objects.requireNonNull(uri, "uri"), Acceleration.AUTO);
  }
}
