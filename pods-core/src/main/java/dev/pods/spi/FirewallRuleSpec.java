package dev.pods.spi;

import java.util.List;
import java.util.Objects;

/**
 * One ingress rule of an instance's firewall: traffic of {@code protocol} to destination ports
 * {@code fromPort..toPort} from any of {@code sources} is admitted. Sources are CIDRs only; template references
 * such as {@code +/unit/web} are expanded by the runtime into the referenced instances' current addresses, and the
 * runtime replaces the rules (atomically, through {@link NetworkDriver#update}) when those addresses change.
 *
 * <p>Immutable value; validated on construction.
 *
 * @param protocol the protocol; {@link NetworkProtocol#ALL} and {@link NetworkProtocol#ICMP} take no ports
 * @param fromPort first destination port, 1..65535 (0 with {@code toPort} 65535 for "all ports")
 * @param toPort last destination port, {@code >= fromPort}
 * @param sources source networks, at least one ({@code 0.0.0.0/0} for anywhere)
 * @since 0.1
 */
public record FirewallRuleSpec(NetworkProtocol protocol, int fromPort, int toPort, List<Cidr> sources) {

  /** Validates ports and sources and copies the list. */
  public FirewallRuleSpec {
    Objects.requireNonNull(protocol, "protocol");
    sources = List.copyOf(sources);
    if (sources.isEmpty()) {
      throw new IllegalArgumentException("a firewall rule needs at least one source CIDR");
    }
    boolean allPorts = fromPort == 0 && toPort == 65535;
    if (!allPorts && (fromPort < 1 || toPort > 65535 || fromPort > toPort)) {
      throw new IllegalArgumentException("bad port range " + fromPort + "-" + toPort);
    }
    if ((protocol == NetworkProtocol.ALL || protocol == NetworkProtocol.ICMP) && !allPorts) {
      throw new IllegalArgumentException(protocol + " rules take no port range");
    }
  }

  /** Admits TCP to one port from the sources. */
  public static FirewallRuleSpec tcp(int port, Cidr... sources) {
    return new FirewallRuleSpec(NetworkProtocol.TCP, port, port, List.of(sources));
  }

  /** Admits UDP to one port from the sources. */
  public static FirewallRuleSpec udp(int port, Cidr... sources) {
    return new FirewallRuleSpec(NetworkProtocol.UDP, port, port, List.of(sources));
  }

  /** Admits ICMP from the sources. */
  public static FirewallRuleSpec icmp(Cidr... sources) {
    return new FirewallRuleSpec(NetworkProtocol.ICMP, 0, 65535, List.of(sources));
  }

  /** Admits every protocol and port from the sources. */
  public static FirewallRuleSpec all(Cidr... sources) {
    return new FirewallRuleSpec(NetworkProtocol.ALL, 0, 65535, List.of(sources));
  }

  /** Whether the rule covers every port. */
  public boolean allPorts() {
    return fromPort == 0 && toPort == 65535;
  }
}
