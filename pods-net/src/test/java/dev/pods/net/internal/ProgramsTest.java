package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.Cidr;
import dev.pods.spi.DnsHost;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkProtocol;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class ProgramsTest {
  private static final NetworkSpec FULL = NetworkSpec.builder().instanceId("web-0").owner("o")
      .mac("52:54:00:00:00:01").subnet(Cidr.parse("10.98.1.0/30")).dnsServer(Cidr.parseAddress("10.99.0.53"))
      .searchDomain("web.pods.internal", "pods.internal").vpc(new NetworkVpc("a", Cidr.parse("10.98.0.0/16")))
      .hostNamespace("h")
      .uplink(new NetworkUplink("br-up", Cidr.parseAddress("10.99.1.1"), 16, Cidr.parseAddress("10.99.0.1")))
      .keptBackPort(5900, 5901)
      .firewall(NetworkFirewall.rules(
          FirewallRuleSpec.tcp(80, Cidr.parse("10.98.2.2/32"), Cidr.parse("192.168.0.0/16")),
          new FirewallRuleSpec(NetworkProtocol.UDP, 1000, 2000, List.of(Cidr.parse("0.0.0.0/0"))),
          FirewallRuleSpec.icmp(Cidr.parse("0.0.0.0/0")), FirewallRuleSpec.all(Cidr.parse("10.0.0.0/8"))))
      .build();
  private static final NetworkSpec BARE = NetworkSpec.builder().instanceId("lone").owner("o")
      .mac("52:54:00:00:00:02").subnet(Cidr.parse("192.168.254.0/30")).build();
  private static final Names N = Names.of("pods", "pods", "web-0", 37, 2);

  private static String fixture(String name) throws IOException {
    try (InputStream in = Objects.requireNonNull(ProgramsTest.class.getResourceAsStream("/fixtures/" + name))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void theNftTableOfAFullSpecIsTheReviewedOne() throws IOException {
    assertThat(Programs.nftTable(FULL, N, true)).isEqualTo(fixture("nft-web-0-replace.nft"));
  }

  @Test
  void aFreshNamespaceGetsTheTableWithoutTheReplacePreamble() {
    String fresh = Programs.nftTable(FULL, N, false);
    assertThat(fresh).startsWith("table ip pods {\n").doesNotContain("delete table");
    assertThat(Programs.nftTable(FULL, N, true)).endsWith(fresh);
  }

  @Test
  void linkLocalIsNeverForwardedAndTheForwardPolicyIsDrop() {
    for (NetworkSpec s : List.of(FULL, BARE)) {
      String t = Programs.nftTable(s, N, false);
      assertThat(t).contains("type filter hook forward priority filter; policy drop;")
          .contains("ip daddr 169.254.0.0/16 drop").contains("ip saddr 169.254.0.0/16 drop");
      assertThat(t.indexOf("169.254.0.0/16 drop")).isLessThan(t.indexOf("ct direction reply accept"));
    }
  }

  @Test
  void onlyRepliesPassUnjudgedAndEveryInboundPacketMeetsTheFirewall() {
    String t = Programs.nftTable(FULL, N, false);
    String forward = t.substring(t.indexOf("chain forward {"), t.indexOf("chain input {"));
    assertThat(forward).doesNotContain("established").contains("ct direction reply accept\n")
        .contains("ct state related accept\n");
    assertThat(forward).contains("iifname \"vpc0\" oifname \"gw0\" ip saddr 10.98.0.0/16 ip daddr 10.98.1.2 jump firewall");
  }

  @Test
  void withoutUplinkThereIsNoNatAndWithoutVpcNoVpcRule() {
    String t = Programs.nftTable(BARE, N, false);
    assertThat(t).doesNotContain("nat hook").doesNotContain("\"up0\"").doesNotContain("\"vpc0\"");
    assertThat(t).contains("chain firewall {\n    accept\n  }");
    assertThat(Programs.hostBatch(BARE, N, false)).isEmpty();
    assertThat(Programs.instanceBatch(BARE)).isEqualTo("""
        link set lo up
        addr add 192.168.254.1/30 dev gw0
        addr add 169.254.169.254/32 dev gw0
        link set gw0 up
        """);
  }

  @Test
  void anEnforcedFirewallWithoutRulesDropsEverythingInbound() {
    String t = Programs.nftTable(BARE.withFirewall(NetworkFirewall.rules()), N, false);
    assertThat(t).contains("chain firewall {\n    drop\n  }");
  }

  @Test
  void theVmSideIsABridgeWithTheTapAndTheVethToTheGatewayAllInTheInstanceGroup() {
    assertThat(Programs.vmSideBatch(N, "libvirt-qemu")).isEqualTo("""
        link add podsb11 group 1826619429 type bridge
        link set podsb11 addrgenmode none
        tuntap add dev podst11 mode tap user libvirt-qemu
        link set podst11 group 1826619429 addrgenmode none master podsb11
        link add podsg11 group 1826619429 type veth peer name gw0 address 02:d8:2f:6a:b0:8a netns pods-web-0
        link set podsg11 addrgenmode none master podsb11
        link set podst11 up
        link set podsg11 up
        link set podsb11 up
        """);
  }

  @Test
  void theHostSideCreatesTheVpcBridgeOnlyWhenAsked() {
    String with = Programs.hostBatch(FULL, N, true);
    String without = Programs.hostBatch(FULL, N, false);
    assertThat(with).contains("link add podsV2 type bridge\n").contains("master br-up\n")
        .contains("link add podsp11 group 1826619429 type veth peer name vpc0 address 02:6c:ca:76:dd:58 netns"
            + " pods-web-0\n");
    assertThat(without).doesNotContain("type bridge").contains("master podsV2");
    assertThat(with.lines().filter(l -> !l.contains("podsV2 type bridge") && !l.startsWith("link set podsV2")))
        .containsExactlyElementsOf(without.lines().toList());
  }

  @Test
  void theInstanceBatchHoldsGatewayImdsPublicAddressAndRoutes() {
    assertThat(Programs.instanceBatch(FULL)).isEqualTo("""
        link set lo up
        addr add 10.98.1.1/30 dev gw0
        addr add 169.254.169.254/32 dev gw0
        link set gw0 up
        addr add 10.99.1.1/16 dev up0
        link set up0 up
        route add default via 10.99.0.1 dev up0
        link set vpc0 up
        route add 10.98.0.0/16 dev vpc0
        """);
  }

  @Test
  void teardownIsOneGroupDeletionThatCanTakeTheUnusedVpcBridgeAlong() {
    assertThat(Programs.groupDelete(N, null)).isEqualTo("link del group 1826619429\n");
    assertThat(Programs.groupDelete(N, "podsV2"))
        .isEqualTo("link set podsV2 group 1826619429\nlink del group 1826619429\n");
  }

  @Test
  void proxyArpIsOnlyForTheVpcInterface() {
    assertThat(Programs.sysctlsAfterLinks(BARE)).isEmpty();
    assertThat(Programs.sysctlsAfterLinks(FULL)).extracting(kv -> kv[0] + "=" + kv[1])
        .containsExactly("net/ipv4/conf/vpc0/proxy_arp=1", "net/ipv4/neigh/vpc0/proxy_delay=0",
            "net/ipv4/neigh/vpc0/base_reachable_time_ms=5000", "net/ipv4/neigh/vpc0/delay_first_probe_time=1", "net/ipv4/neigh/vpc0/ucast_solicit=1",
            "net/ipv4/neigh/vpc0/mcast_resolicit=3");
    assertThat(Programs.sysctlsBeforeLinks()).extracting(kv -> kv[0] + "=" + kv[1])
        .contains("net/ipv4/ip_forward=1", "net/ipv6/conf/default/disable_ipv6=1");
  }

  @Test
  void dnsmasqServesDhcpOnlyWithTheFixedAddressAndOptions() {
    List<String> a = Programs.dnsmasq("/usr/sbin/dnsmasq", FULL, Path.of("/st/web-0"));
    assertThat(a.get(0)).isEqualTo("/usr/sbin/dnsmasq");
    assertThat(a).contains("--keep-in-foreground", "--port=0", "--interface=gw0", "--except-interface=lo",
        "--dhcp-range=10.98.1.2,static,255.255.255.252,infinite",
        "--dhcp-host=52:54:00:00:00:01,10.98.1.2,web-0,infinite", "--dhcp-option=option:router,10.98.1.1",
        "--dhcp-option=option:dns-server,10.99.0.53",
        "--dhcp-option=option:domain-search,web.pods.internal,pods.internal",
        "--dhcp-leasefile=/st/web-0/leases", "--pid-file=/st/web-0/dnsmasq.pid");
    assertThat(Programs.dnsmasq("dnsmasq", BARE, Path.of("/st"))).noneMatch(s -> s.contains("dns-server"))
        .noneMatch(s -> s.contains("domain-search"));
  }

  @Test
  void withTheResolverDnsmasqAnswersTheHostsFileForwardsTheRestAndHandsOutTheGateway() {
    NetworkSpec r = FULL.toBuilder().resolver(true).dnsHosts(List.of(
        new DnsHost("api.example.test", List.of(Cidr.parseAddress("10.98.1.2"), Cidr.parseAddress("10.98.2.2"))),
        new DnsHost("db.example.test", List.of(Cidr.parseAddress("10.98.3.2"))))).build();
    List<String> a = Programs.dnsmasq("dnsmasq", r, Path.of("/st/web-0"));
    assertThat(a).contains("--addn-hosts=/st/web-0/hosts", "--local-ttl=0", "--server=10.99.0.53",
        "--dhcp-option=option:dns-server,10.98.1.1", "--interface=gw0", "--except-interface=lo")
        .doesNotContain("--port=0", "--dhcp-option=option:dns-server,10.99.0.53");
    assertThat(Programs.hostsFile(r)).isEqualTo(
        "10.98.1.2 api.example.test\n10.98.2.2 api.example.test\n10.98.3.2 db.example.test\n");
    assertThat(Programs.nftTable(r, N, false))
        .contains("iifname \"gw0\" ip daddr 10.98.1.1 meta l4proto { tcp, udp } th dport 53 accept");
    assertThat(Programs.nftTable(FULL, N, false)).doesNotContain("dport 53");
  }

  @Test
  void aChangeOfTheResolversNamesAloneIsToldApart() {
    NetworkSpec r = FULL.toBuilder().resolver(true).build();
    NetworkSpec named = r.withDnsHosts(List.of(new DnsHost("a.example.test", List.of(Cidr.parseAddress("10.98.1.2")))));
    assertThat(Programs.onlyDnsHostsDiffer(r, named)).isTrue();
    assertThat(Programs.sameDhcp(r, named)).isTrue();
    assertThat(Programs.onlyDnsHostsDiffer(r, r)).isFalse();
    assertThat(Programs.onlyDnsHostsDiffer(r, named.withFirewall(NetworkFirewall.open()))).isFalse();
    assertThat(Programs.sameDhcp(FULL, r)).isFalse();
  }

  @Test
  void specChangesAreClassifiedByWhatTheyTouch() {
    NetworkSpec fw = FULL.withFirewall(NetworkFirewall.open());
    assertThat(Programs.sameLinks(FULL, fw)).isTrue();
    assertThat(Programs.sameDhcp(FULL, fw)).isTrue();
    NetworkSpec dns = FULL.toBuilder().searchDomain("extra.internal").build();
    assertThat(Programs.sameLinks(FULL, dns)).isTrue();
    assertThat(Programs.sameDhcp(FULL, dns)).isFalse();
    NetworkSpec moved = FULL.toBuilder().subnet(Cidr.parse("10.98.9.0/30"))
        .privateAddress(Cidr.parseAddress("10.98.9.2")).gateway(Cidr.parseAddress("10.98.9.1")).build();
    assertThat(Programs.sameLinks(FULL, moved)).isFalse();
  }
}
