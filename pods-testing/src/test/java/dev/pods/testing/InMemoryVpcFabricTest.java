package dev.pods.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkProtocol;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.VpcFabric;
import dev.pods.spi.VpcFabricContract;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class InMemoryVpcFabricTest extends VpcFabricContract {
  private final InMemoryNetworkDriver.Underlay underlay = new InMemoryNetworkDriver.Underlay(9000);
  private final InMemoryNetworkDriver a = new InMemoryNetworkDriver(underlay, Cidr.parseAddress("10.250.0.1"));
  private final InMemoryNetworkDriver b = new InMemoryNetworkDriver(underlay, Cidr.parseAddress("10.250.0.2"));

  @Override
  protected NetworkDriver hostA() {
    return a;
  }

  @Override
  protected NetworkDriver hostB() {
    return b;
  }

  @Override
  protected int underlayMtu() {
    return 9000;
  }

  @Override
  protected NetworkSpec.Builder spec(NetworkDriver host, String instanceId, int index) {
    return NetworkSpec.builder().instanceId(instanceId).mac(String.format("52:54:00:f0:00:%02x", index))
        .subnet(Cidr.parse("10.96." + index + ".0/30"));
  }

  @Override
  protected String owner() {
    return "fabric-owner";
  }

  @Override
  protected boolean reaches(NetworkDriver fromHost, NetworkInstance from, NetworkDriver toHost, NetworkInstance to,
      int port) {
    return ((InMemoryNetworkDriver) fromHost).vpcReaches(from.instanceId(), (InMemoryNetworkDriver) toHost,
        to.instanceId(), NetworkProtocol.TCP, port);
  }

  @Override
  protected OptionalInt dhcpMtu(NetworkDriver host, NetworkInstance n) {
    return ((InMemoryNetworkDriver) host).dhcpMtu(n.instanceId());
  }

  @Override
  protected void breakFabricBehindItsBack(NetworkDriver host, NetworkInstance member) {
    ((InMemoryNetworkDriver) host).breakBehindItsBack(member.instanceId(), InMemoryNetworkDriver.Part.FABRIC);
  }

  @Test
  void theFabricOfAVpcBreaksOnlyOnADriverWithAFabricAndGoesWithItsLastMember() {
    InMemoryNetworkDriver plain = new InMemoryNetworkDriver();
    NetworkInstance p = plain.create(spec(plain, "k1", 1).owner(owner())
        .vpc(new dev.pods.spi.NetworkVpc("shop", VPC_RANGE)).build());
    assertThatThrownBy(() -> plain.breakBehindItsBack(p.instanceId(), InMemoryNetworkDriver.Part.FABRIC))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no fabric");
    NetworkInstance alone = a.create(spec(a, "k2", 2).owner(owner()).build());
    assertThatThrownBy(() -> a.breakBehindItsBack(alone.instanceId(), InMemoryNetworkDriver.Part.FABRIC))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no VPC");
    NetworkInstance m = a.create(spec(a, "k3", 3).owner(owner()).vpc(new dev.pods.spi.NetworkVpc("shop", VPC_RANGE))
        .build());
    a.breakBehindItsBack(m.instanceId(), InMemoryNetworkDriver.Part.FABRIC);
    assertThat(a.probe(m.instanceId())).containsExactly("the VXLAN link of VPC 'shop' is gone");
    a.delete(m.instanceId());
    NetworkInstance again = a.create(m.spec());
    assertThat(a.probe(again.instanceId())).as("a VPC built again after its last member left").isEmpty();
    a.delete(again.instanceId());
    a.delete(alone.instanceId());
  }

  @Test
  void aDriverWithoutFabricHasNoneAndKeepsItsVpcsToItself() {
    InMemoryNetworkDriver plain = new InMemoryNetworkDriver();
    assertThat(plain.fabric()).isEmpty();
    NetworkSpec s = spec(plain, "p1", 1).owner(owner())
        .vpc(new dev.pods.spi.NetworkVpc("shop", VPC_RANGE)).build();
    plain.create(s);
    b.create(spec(b, "p2", 2).owner(owner()).vpc(new dev.pods.spi.NetworkVpc("shop", VPC_RANGE)).build());
    assertThat(plain.dhcpMtu("p1")).isEmpty();
    assertThat(plain.vpcReaches("p1", b, "p2", NetworkProtocol.TCP, 80)).isFalse();
    b.delete("p2");
  }

  @Test
  void theVniIsTheFirstThreeBytesOfTheSha256OfTheVpcId() {
    // printf shop | sha256sum: 8d9001...; and two ids that share their first three bytes
    assertThat(VpcFabric.vni("shop")).isEqualTo(0x8d9001);
    assertThat(VpcFabric.vni("vpc-1390")).isEqualTo(8612631).isEqualTo(VpcFabric.vni("vpc-8366"));
    assertThat(VpcFabric.vni("shop")).isBetween(1, (1 << 24) - 1);
  }

  @Test
  void anUnderlayAddressHoldsOneHost() {
    assertThatThrownBy(() -> new InMemoryNetworkDriver(underlay, Cidr.parseAddress("10.250.0.1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.250.0.1");
  }
}
