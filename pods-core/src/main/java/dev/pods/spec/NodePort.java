package dev.pods.spec;

import java.util.Objects;

/**
 * A port of the host forwarded to a port of every instance of the unit.
 *
 * @param protocol {@link Protocol#TCP} or {@link Protocol#UDP}
 * @param externalPort the host's port, 1-65535
 * @param internalPort the instance's port, 1-65535
 */
public record NodePort(Protocol protocol, int externalPort, int internalPort) {
  /** Validates. */
  public NodePort {
    Objects.requireNonNull(protocol, "protocol");
    if (!protocol.hasPorts()) {
      throw new IllegalArgumentException("a node port is tcp or udp, not " + protocol.id());
    }
    if (externalPort < 1 || externalPort > 65535 || internalPort < 1 || internalPort > 65535) {
      throw new IllegalArgumentException("node ports are 1-65535: " + externalPort + " -> " + internalPort);
    }
  }
}
