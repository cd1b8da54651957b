package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkVpc;
import dev.pods.spi.VpcFabric;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VxlansTest {
  private static final NetworkSpec VPC = NetworkSpec.builder().instanceId("web-0").owner("o")
      .mac("52:54:00:00:00:01").subnet(Cidr.parse("10.98.1.0/30")).vpc(new NetworkVpc("a", Cidr.parse("10.98.0.0/16")))
      .hostNamespace("h").build();
  private static final Names N = Names.of("pods", "pods", "web-0", 37, 2);
  private final Vxlans fabric = new Vxlans("h", Cidr.parseAddress("10.250.0.1"), new Vxlans.UnderlayLink("eth1", 1500),
      Set.of(Cidr.parseAddress("10.250.0.2")), "bridge", Duration.ofSeconds(5));

  @Test
  void theVxlanLinkIsMadeWithTheVpcsVniPortUnderlayAndMtuWithoutLearning() {
    assertThat(fabric.mtu()).isEqualTo(1450);
    assertThat(Vxlans.name("pods", 2)).isEqualTo("podsX2");
    assertThat(fabric.createLines("podsX2", "podsV2", VpcFabric.vni("a"))).isEqualTo(
        "link add podsX2 mtu 1450 type vxlan id " + VpcFabric.vni("a") + " dstport 4789 local 10.250.0.1 nolearning\n"
            + "link set podsX2 addrgenmode none master podsV2\nlink set podsX2 up\n");
  }

  @Test
  void withAnMtuTheVpcBridgeAndBothEndsOfTheVpcVethGetIt() {
    String batch = Programs.hostBatch(VPC, N, true, 1450);
    assertThat(batch).contains("link add podsV2 mtu 1450 type bridge")
        .contains("link add podsp11 group " + N.group() + " mtu 1450 type veth peer name vpc0 mtu 1450 address ");
    assertThat(Programs.hostBatch(VPC, N, true)).doesNotContain("mtu");
  }

  @Test
  void dhcpHandsOutTheMtuOnlyWhenThereIsOne() {
    assertThat(Programs.dnsmasq("dnsmasq", VPC, Path.of("/d"), 1450)).contains("--dhcp-option=option:mtu,1450");
    assertThat(Programs.dnsmasq("dnsmasq", VPC, Path.of("/d"))).noneMatch(a -> a.contains("mtu"));
  }

  @Test
  void anUnusedVpcsBridgeAndVxlanLinkJoinTheGroupDeletion() {
    assertThat(Programs.groupDeleteWith(N, java.util.List.of("podsV2", "podsX2"))).isEqualTo(
        "link set podsV2 group " + N.group() + "\nlink set podsX2 group " + N.group() + "\nlink del group "
            + N.group() + "\n");
    assertThat(Programs.groupDelete(N, "podsV2")).isEqualTo(Programs.groupDeleteWith(N, java.util.List.of("podsV2")));
  }

  @Test
  void theGuardDropsTheFabricsVnisFromOtherDevicesAndNonPeersAndGoesWithTheLastVni() {
    int a = VpcFabric.vni("a");
    assertThat(fabric.guardProgram("podsfabric", Set.of(a))).isEqualTo(
        "table ip podsfabric\ndelete table ip podsfabric\ntable ip podsfabric {\n  chain input {\n"
            + "    type filter hook input priority -10; policy accept;\n"
            + "    udp dport 4789 @th,96,24 " + a + " iifname != \"eth1\" counter drop\n"
            + "    udp dport 4789 @th,96,24 " + a + " ip saddr != { 10.250.0.2 } counter drop\n  }\n}\n");
    assertThat(fabric.guardProgram("podsfabric", Set.of())).isEqualTo(
        "table ip podsfabric\ndelete table ip podsfabric\n");
    fabric.peers(Set.of());
    assertThat(fabric.guardProgram("podsfabric", Set.of(a))).as("no peer: nobody's datagrams")
        .contains("    udp dport 4789 @th,96,24 " + a + " counter drop\n");
  }

  @Test
  void theHostsOwnUnderlayIsNoPeer() {
    assertThatThrownBy(() -> fabric.peers(Set.of(Cidr.parseAddress("10.250.0.1"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.250.0.1");
    assertThat(fabric.peers()).containsExactly(Cidr.parseAddress("10.250.0.2"));
  }
}
