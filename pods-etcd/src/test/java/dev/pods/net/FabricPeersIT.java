package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.etcd.ClusterNode;
import dev.pods.etcd.EtcdCluster;
import dev.pods.etcd.EtcdKeyspace;
import dev.pods.etcd.FabricPeers;
import dev.pods.etcd.NodeSpec;
import dev.pods.etcd.RecordingInstances;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkVpc;
import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fabric peers from etcd membership with the Linux driver: two simulated hosts in namespaces of this run
 * ({@link TwoHosts}), each a node of a cluster on a real etcd member on loopback, each following the cluster with
 * {@link FabricPeers}; a stand-in VM on each host, in one VPC. Everything is removed at the end.
 */
@Tag("system")
class FabricPeersIT {
  private static final Duration LEASE = Duration.ofSeconds(3);
  private static final Duration WAIT = Duration.ofSeconds(40);

  @Test
  void instancesOfOneVpcOnTwoLinuxHostsReachEachOtherOnceBothJoinedAndNotAfterOneIsLost() throws Exception {
    NetTestEnv.assumeCapable();
    NetTestEnv env = new NetTestEnv();
    List<AutoCloseable> open = new ArrayList<>();
    TwoHosts hosts = null;
    try {
      hosts = new TwoHosts(env);
      EtcdCluster etcd = EtcdCluster.start(1);
      open.add(etcd);
      String prefix = "/pods-test/" + env.prefix;
      String owner = "dev.pods/session=" + env.prefix;
      LinuxNetworkDriver a = hosts.a;
      LinuxNetworkDriver b = hosts.b;
      NetworkInstance x = a.create(spec(hosts, a, "fpx", 1).owner(owner).build());
      NetworkInstance y = b.create(spec(hosts, b, "fpy", 2).owner(owner).build());
      env.standIn("px", x.spec().mac(), hosts.hostNs(a), x.vmBridge(), 80);
      env.standIn("py", y.spec().mac(), hosts.hostNs(b), y.vmBridge(), 80);
      String yAddress = Cidr.dotted(y.spec().privateAddress());
      String xAddress = Cidr.dotted(x.spec().privateAddress());

      Client ca = etcd.client();
      open.add(ca);
      Client cb = etcd.client();
      open.add(cb);
      open.add(ClusterNode.join(EtcdKeyspace.of(ca, prefix), new NodeSpec("ha", TwoHosts.UNDERLAY_A, 2, 2048)
          .withUnderlay(Cidr.parseAddress(TwoHosts.UNDERLAY_A)), new RecordingInstances(), LEASE));
      open.add(FabricPeers.follow(EtcdKeyspace.of(ca, prefix), "ha", a.fabric().orElseThrow()));
      assertThat(NetTestEnv.get(env.standInNs("px"), yAddress, 80, Duration.ofMillis(1500)))
          .as("x -> y before host B joined").startsWith("ERR");

      ClusterNode hb = ClusterNode.join(EtcdKeyspace.of(cb, prefix), new NodeSpec("hb", TwoHosts.UNDERLAY_B, 2, 2048)
          .withUnderlay(Cidr.parseAddress(TwoHosts.UNDERLAY_B)), new RecordingInstances(), LEASE);
      open.add(hb);
      FabricPeers pb = FabricPeers.follow(EtcdKeyspace.of(cb, prefix), "hb", b.fabric().orElseThrow());
      open.add(pb);
      awaitGet(env, "px", yAddress, true);
      awaitGet(env, "py", xAddress, true);
      assertThat(a.fabric().orElseThrow().peers()).containsExactly(Cidr.parseAddress(TwoHosts.UNDERLAY_B));
      assertThat(NetTestEnv.get(env.standInNs("px"), yAddress, 80, Duration.ofSeconds(3))).isEqualTo("hello from py");

      // host B is lost: its follower and etcd connection gone (its lease expires), its links as they were
      pb.close();
      cb.close();
      awaitGet(env, "px", yAddress, false);
      assertThat(a.fabric().orElseThrow().peers()).isEmpty();
      assertThat(b.fabric().orElseThrow().peers()).containsExactly(Cidr.parseAddress(TwoHosts.UNDERLAY_A));
      assertThat(NetTestEnv.get(env.standInNs("py"), xAddress, 80, Duration.ofMillis(1500)))
          .as("B still lists A, but A sends B nothing").startsWith("ERR");

      for (String s : List.of("px", "py")) {
        env.removeStandIn(s);
      }
      a.delete(x.instanceId());
      b.delete(y.instanceId());
    } finally {
      for (int i = open.size() - 1; i >= 0; i--) {
        open.get(i).close();
      }
      try {
        if (hosts != null) {
          assertThat(hosts.a.reap("dev.pods/session=" + env.prefix)).isEmpty();
          assertThat(hosts.b.reap("dev.pods/session=" + env.prefix)).isEmpty();
          hosts.remove();
        }
      } finally {
        env.destroy();
      }
    }
  }

  private static NetworkSpec.Builder spec(TwoHosts hosts, LinuxNetworkDriver host, String id, int index) {
    return NetworkSpec.builder().instanceId(id).hostNamespace(hosts.hostNs(host))
        .mac(String.format("52:54:00:fb:00:%02x", index)).subnet(Cidr.parse("10.96." + index + ".0/30"))
        .vpc(new NetworkVpc("peers", Cidr.parse("10.96.0.0/16"))).firewall(NetworkFirewall.open());
  }

  /** Until an HTTP GET from stand-in {@code from} to {@code address} gets through ({@code through}) or not. */
  private static void awaitGet(NetTestEnv env, String from, String address, boolean through) throws Exception {
    long end = System.nanoTime() + WAIT.toNanos();
    String last;
    do {
      last = NetTestEnv.get(env.standInNs(from), address, 80, Duration.ofMillis(1500));
      if (last.startsWith("hello from") == through) {
        return;
      }
    } while (System.nanoTime() < end);
    throw new AssertionError(from + " -> " + address + ": still '" + last + "' after " + WAIT.toSeconds() + " s");
  }
}
