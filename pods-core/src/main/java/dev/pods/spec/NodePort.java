package dev.pods.spec;

import java.util.Objects;

/**
 * A port of the host forwarded to the unit's instances: the runtime listens on {@code externalPort} of its node
 * address ({@code PodRuntime.Builder.nodeAddress}, in its host namespace) and forwards each TCP connection to
 * {@code internalPort} of one READY instance of the unit, taken in turn, so connections spread over the instances
 * when {@code count > 1} and follow scale, recreation and self-heal; a client that arrives while none is ready is
 * reset. The connection reaches the instance from its own network namespace, as {@code Instance.endpoint} does, so
 * the unit's firewall does not filter it: publishing a node port admits it. Two units claiming one external port
 * (in one pod, or in two pods of one runtime) are an error at deploy naming both; so is a UDP node port (only TCP is
 * forwarded here; {@code pods validate} warns) and a pod with node ports on a runtime without node address. A change
 * of a unit's node ports is live.
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
