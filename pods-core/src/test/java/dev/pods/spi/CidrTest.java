package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CidrTest {
  @Test
  void parsesAndPrints() {
    Cidr c = Cidr.parse("10.98.4.0/30");
    assertThat(c.toString()).isEqualTo("10.98.4.0/30");
    assertThat(c.size()).isEqualTo(4);
    assertThat(c.netmask()).isEqualTo("255.255.255.252");
    assertThat(Cidr.dotted(c.address(2))).isEqualTo("10.98.4.2");
    assertThat(Cidr.parse("192.168.1.7")).isEqualTo(new Cidr(Cidr.toInt(Cidr.parseAddress("192.168.1.7")), 32));
    assertThat(Cidr.parse("0.0.0.0/0").contains(Cidr.parseAddress("255.255.255.255"))).isTrue();
  }

  @Test
  void containmentAndOverlap() {
    Cidr vpc = Cidr.parse("10.98.0.0/16");
    assertThat(vpc.contains(Cidr.parse("10.98.200.4/30"))).isTrue();
    assertThat(vpc.contains(Cidr.parse("10.99.0.0/30"))).isFalse();
    assertThat(Cidr.parse("10.98.200.4/30").overlaps(vpc)).isTrue();
    assertThat(Cidr.containing(Cidr.parseAddress("10.98.3.6"), 30)).isEqualTo(Cidr.parse("10.98.3.4/30"));
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> Cidr.parse("10.98.0.1/16")).hasMessageContaining("10.98.0.0/16");
    assertThatThrownBy(() -> Cidr.parse("10.98.0/16")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Cidr.parse("10.98.0.256")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Cidr.parse("10.98.0.0/33")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Cidr.parse("1.2.3.4/x")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void specDefaultsGatewayAndAddressAndValidates() {
    NetworkSpec s = NetworkSpec.builder().instanceId("web-0").owner("o").mac("52:54:00:AA:00:01")
        .subnet(Cidr.parse("10.98.1.0/30")).build();
    assertThat(Cidr.dotted(s.gateway())).isEqualTo("10.98.1.1");
    assertThat(Cidr.dotted(s.privateAddress())).isEqualTo("10.98.1.2");
    assertThat(s.mac()).isEqualTo("52:54:00:aa:00:01");
    assertThat(s.hostname()).isEqualTo("web-0");
    assertThatThrownBy(() -> s.toBuilder().instanceId("Web_0").build()).hasMessageContaining("instanceId");
    assertThatThrownBy(() -> s.toBuilder().mac("53:54:00:aa:00:01").build()).hasMessageContaining("unicast");
    assertThatThrownBy(() -> s.toBuilder().privateAddress(Cidr.parseAddress("10.98.1.3")).build())
        .hasMessageContaining("broadcast");
    assertThatThrownBy(() -> s.toBuilder().vpc(new NetworkVpc("v", Cidr.parse("10.97.0.0/16"))).build())
        .hasMessageContaining("outside the VPC");
    assertThatThrownBy(() -> s.toBuilder().keptBackPort(5900).build()).hasMessageContaining("uplink");
  }
}
