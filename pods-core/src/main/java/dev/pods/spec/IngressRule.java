package dev.pods.spec;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One firewall ingress rule: traffic of a protocol (and ports, for TCP and UDP) from any of the sources is
 * admitted; everything not admitted by some rule is dropped.
 *
 * @param protocol the protocol
 * @param ports the ports, required for TCP and UDP and absent otherwise
 * @param sources where the traffic may come from; at least one
 */
public record IngressRule(Protocol protocol, @Nullable PortRange ports, List<IngressSource> sources) {
  /** Validates the combination. */
  public IngressRule {
    Objects.requireNonNull(protocol, "protocol");
    sources = List.copyOf(Objects.requireNonNull(sources, "sources"));
    if (protocol.hasPorts() && ports == null) {
      throw new IllegalArgumentException(protocol.id() + " rules need a port or port range");
    }
    if (!protocol.hasPorts() && ports != null) {
      throw new IllegalArgumentException(protocol.id() + " rules have no ports (only tcp and udp do)");
    }
    if (sources.isEmpty()) {
      throw new IllegalArgumentException("a rule needs at least one source (use 0.0.0.0/0 for anywhere)");
    }
  }
}
