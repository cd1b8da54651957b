package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Unit;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spi.Cidr;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkProtocol;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FirewallRulesTest {
  private static final List<FirewallRules.Peer> PEERS = List.of(
      new FirewallRules.Peer("web", Cidr.parseAddress("10.98.0.6"), Cidr.parseAddress("198.51.100.6")),
      new FirewallRules.Peer("web", Cidr.parseAddress("10.98.0.2"), null),
      new FirewallRules.Peer("lb", Cidr.parseAddress("10.98.0.10"), Cidr.parseAddress("198.51.100.10")));

  private static IngressRule rule(Protocol p, PortRange ports, String... sources) {
    return new IngressRule(p, ports, Arrays.stream(sources).map(IngressSource::parse).toList());
  }

  private static Unit unit(IngressRule... rules) {
    return Unit.builder().name("db").image("tiny").firewall(new Firewall("fw", List.of(rules))).build();
  }

  @Test
  void aUnitWithoutFirewallIsOpen() {
    assertThat(FirewallRules.of(Unit.builder().name("db").image("tiny").build(), PEERS))
        .isEqualTo(NetworkFirewall.open());
  }

  @Test
  void unitSourcesExpandToTheLiveAddressesBySelectorAndCidrsLoseTheirHostBits() {
    NetworkFirewall fw = FirewallRules.of(unit(
        rule(Protocol.TCP, PortRange.of(5432), "+/unit/web", "10.1.2.3/8"),
        rule(Protocol.UDP, new PortRange(1000, 2000), "+/unit/web/public_ips", "+/unit/lb/public_ips"),
        rule(Protocol.ICMP, null, "+/unit/lb/private_ips"),
        rule(Protocol.ALL, null, "0.0.0.0/0")), PEERS);
    assertThat(fw.enforced()).isTrue();
    assertThat(fw.ingress()).containsExactly(
        new FirewallRuleSpec(NetworkProtocol.TCP, 5432, 5432,
            List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("10.98.0.2/32"), Cidr.parse("10.98.0.6/32"))),
        new FirewallRuleSpec(NetworkProtocol.UDP, 1000, 2000,
            List.of(Cidr.parse("198.51.100.6/32"), Cidr.parse("198.51.100.10/32"))),
        FirewallRuleSpec.icmp(Cidr.parse("10.98.0.10/32")),
        FirewallRuleSpec.all(Cidr.parse("0.0.0.0/0")));
  }

  @Test
  void whatCannotOccurHereAdmitsNothingAndAnEmptyRuleIsLeftOut() {
    NetworkFirewall fw = FirewallRules.of(unit(
        rule(Protocol.TCP, PortRange.of(1), "+/unit/web/private_ips6", "+/unit/web/cloud_private_ips",
            "+/unit/web/host_ips", "::/0"),
        rule(Protocol.MULTICAST, null, "0.0.0.0/0"),
        rule(Protocol.BROADCAST, null, "0.0.0.0/0"),
        rule(Protocol.TCP, PortRange.of(2), "+/unit/nobody"),
        rule(Protocol.TCP, PortRange.of(3), "+/unit/web", "::/0")), PEERS);
    assertThat(fw.enforced()).isTrue();
    assertThat(fw.ingress()).containsExactly(new FirewallRuleSpec(NetworkProtocol.TCP, 3, 3,
        List.of(Cidr.parse("10.98.0.2/32"), Cidr.parse("10.98.0.6/32"))));
    assertThat(FirewallRules.of(unit(rule(Protocol.TCP, PortRange.of(1), "+/unit/nobody")), PEERS))
        .isEqualTo(NetworkFirewall.rules());
  }

  @Test
  void severalFirewallResourcesFormOneWhitelist() {
    Unit u = Unit.builder().name("db").image("tiny")
        .firewall(new Firewall("a", List.of(rule(Protocol.TCP, PortRange.of(1), "10.0.0.0/8"))))
        .firewall(new Firewall("b", List.of(rule(Protocol.TCP, PortRange.of(2), "10.0.0.0/8")))).build();
    assertThat(FirewallRules.of(u, PEERS).ingress()).extracting(FirewallRuleSpec::fromPort).containsExactly(1, 2);
  }
}
