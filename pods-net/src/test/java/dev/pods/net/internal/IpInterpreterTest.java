package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import org.junit.jupiter.api.Test;

/** Every program the driver writes lies in the subset the in-process interpreter knows; nothing else does. */
class IpInterpreterTest {
  @Test
  void acceptsEveryGeneratedProgram() {
    NetworkSpec s = NetworkSpec.builder().instanceId("w").owner("o").mac("52:54:00:00:00:01")
        .subnet(Cidr.parse("10.98.1.0/30")).vpc(new NetworkVpc("a", Cidr.parse("10.98.0.0/16")))
        .uplink(new NetworkUplink("br", Cidr.parseAddress("10.99.1.1"), 16, Cidr.parseAddress("10.99.0.1")))
        .build();
    Names n = Names.of("pods", "pods", "w", 3, 4);
    assertThat(IpInterpreter.parse(Programs.vmSideBatch(n, "65534"))).hasSize(9);
    assertThat(IpInterpreter.parse(Programs.hostBatch(s, n, true))).hasSize(9);
    assertThat(IpInterpreter.parse(Programs.instanceBatch(s))).hasSize(9);
    assertThat(IpInterpreter.parse(Programs.groupDelete(n, "podsV4"))).hasSize(2);
    assertThat(IpInterpreter.parse("link del gw0\nlink del up0\n")).hasSize(2);
  }

  @Test
  void rejectsWhatItCannotRun() {
    assertThatThrownBy(() -> IpInterpreter.parse("link add x type vxlan id 5")).hasMessageContaining("vxlan");
    assertThatThrownBy(() -> IpInterpreter.parse("netns add x")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IpInterpreter.parse("addr add 1.2.3.4/24 dev x scope link"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IpInterpreter.parse("tuntap add dev t mode tun"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
