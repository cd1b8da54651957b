package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.Cidr;
import org.junit.jupiter.api.Test;

/** The /proc net parsers on text captured from a namespace with gw0 holding 10.1.2.1/30 and 169.254.169.254/32. */
class ProcNetTest {
  private static final String FIB_TRIE = """
      Main:
        +-- 0.0.0.0/0 2 0 2
           +-- 10.1.2.0/30 2 0 1
              |-- 10.1.2.0
                 /30 link UNICAST
              |-- 10.1.2.1
                 /32 host LOCAL
              |-- 10.1.2.3
                 /32 link BROADCAST
           |-- 169.254.169.254
              /32 host LOCAL
      Local:
        +-- 0.0.0.0/0 2 0 2
           +-- 10.1.2.0/30 2 0 1
              |-- 10.1.2.0
                 /30 link UNICAST
              |-- 10.1.2.1
                 /32 host LOCAL
              |-- 10.1.2.3
                 /32 link BROADCAST
           |-- 169.254.169.254
              /32 host LOCAL
      """;
  private static final String ROUTE = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      + "gw0\t0002010A\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0\n"
      + "up0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
  private static final String DEV = """
      Inter-|   Receive                                                |  Transmit
       face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
          lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
         gw0:      90       1    0    0    0     0          0         0       90       1    0    0    0     0       0          0
      """;

  @Test
  void localAddressesAreTheHostLocalLeaves() {
    assertThat(ProcNet.localAddresses(FIB_TRIE)).containsExactlyInAnyOrder(Cidr.parseAddress("10.1.2.1"),
        Cidr.parseAddress("169.254.169.254"));
  }

  @Test
  void aLinkRouteMatchesInterfacePrefixAndNoGateway() {
    assertThat(ProcNet.hasLinkRoute(ROUTE, "gw0", Cidr.parse("10.1.2.0/30"))).isTrue();
    assertThat(ProcNet.hasLinkRoute(ROUTE, "gw0", Cidr.parse("10.1.2.0/29"))).isFalse();
    assertThat(ProcNet.hasLinkRoute(ROUTE, "up0", Cidr.parse("10.1.2.0/30"))).isFalse();
    assertThat(ProcNet.hasLinkRoute(ROUTE, "up0", Cidr.parse("0.0.0.0/0"))).as("a default route via a gateway")
        .isFalse();
  }

  @Test
  void linksAreTheNamesBeforeTheColon() {
    assertThat(ProcNet.links(DEV)).containsExactlyInAnyOrder("lo", "gw0");
  }
}
