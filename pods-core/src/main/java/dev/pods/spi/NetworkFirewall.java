package dev.pods.spi;

import java.util.List;

/**
 * The ingress firewall of one instance. When {@code enforced} is false every inbound connection that reaches the
 * instance (through its public address or from its VPC) is admitted; when true only the traffic that one of
 * {@code ingress} admits gets through, plus replies to the instance's own connections. Outbound traffic is never
 * filtered. Immutable value.
 *
 * @param enforced whether {@code ingress} is a whitelist
 * @param ingress the admitting rules, in order; must be empty when not enforced
 * @since 0.1
 */
public record NetworkFirewall(boolean enforced, List<FirewallRuleSpec> ingress) {

  private static final NetworkFirewall OPEN = new NetworkFirewall(false, List.of());

  /** Copies the list and rejects rules on an open firewall. */
  public NetworkFirewall {
    ingress = List.copyOf(ingress);
    if (!enforced && !ingress.isEmpty()) {
      throw new IllegalArgumentException("an open firewall has no ingress rules");
    }
  }

  /** No firewall: everything that reaches the instance is admitted. */
  public static NetworkFirewall open() {
    return OPEN;
  }

  /** Only what the rules admit; {@code rules()} with no argument admits nothing. */
  public static NetworkFirewall rules(FirewallRuleSpec... rules) {
    return new NetworkFirewall(true, List.of(rules));
  }

  /** Only what the rules admit. */
  public static NetworkFirewall rules(List<FirewallRuleSpec> rules) {
    return new NetworkFirewall(true, rules);
  }
}
