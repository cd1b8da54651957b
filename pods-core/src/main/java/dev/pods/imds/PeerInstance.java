package dev.pods.imds;

import java.util.List;
import java.util.Objects;

/**
 * One instance of a unit as another instance sees it through the metadata service: its name, its addresses
 * and whether the runtime currently considers it healthy. Immutable.
 *
 * @param name the instance's name, e.g. {@code db-0}
 * @param index its index in its unit
 * @param privateIps its private addresses
 * @param publicIps its public addresses (empty without {@code publicAddress})
 * @param healthy whether it is healthy (feeds the {@code healthy_*} and {@code unhealthy_*} selectors)
 */
public record PeerInstance(String name, int index, List<String> privateIps, List<String> publicIps, boolean healthy) {

  /** Validates and copies. */
  public PeerInstance {
    Objects.requireNonNull(name, "name");
    privateIps = List.copyOf(privateIps);
    publicIps = List.copyOf(publicIps);
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, not " + index);
    }
  }

  /** A healthy instance with one private address and no public one. */
  public static PeerInstance healthy(String name, int index, String privateIp) {
    return new PeerInstance(name, index, List.of(privateIp), List.of(), true);
  }

  /** This instance with another health. */
  public PeerInstance withHealthy(boolean newHealthy) {
    return new PeerInstance(name, index, privateIps, publicIps, newHealthy);
  }
}
