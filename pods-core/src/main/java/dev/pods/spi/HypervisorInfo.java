package dev.pods.spi;

import java.util.Objects;

/**
 * What a {@link Hypervisor} is connected to.
 *
 * @param uri the connection URI (e.g. {@code qemu:///system})
 * @param driver the hypervisor driver's name (e.g. {@code QEMU}, {@code TEST}, {@code in-memory})
 * @param version the hypervisor's version as text
 * @param acceleration what {@link Acceleration#AUTO} resolves to on this host
 */
public record HypervisorInfo(String uri, String driver, String version, Acceleration acceleration) {
  /** Validates: no nulls, acceleration is not AUTO. */
  public HypervisorInfo {
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(driver, "driver");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(acceleration, "acceleration");
    if (acceleration == Acceleration.AUTO) {
      throw new IllegalArgumentException("acceleration must be resolved, not AUTO");
    }
  }
}
