package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkProtocol;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkVpc;
import dev.pods.spi.VpcFabric;
import dev.pods.testing.InMemoryNetworkDriver;
import io.etcd.jetcd.Client;
import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fabric peers from etcd membership: nodes on a real etcd on loopback, each with the in-memory network driver's
 * fabric on one simulated underlay, an instance of one VPC on each.
 */
class FabricPeersTest {
  private static final Duration LEASE = Duration.ofSeconds(3);
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static EtcdCluster etcd;
  private static int runs;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final InMemoryNetworkDriver.Underlay underlay = new InMemoryNetworkDriver.Underlay();
  private String prefix = "";
  private EtcdKeyspace view;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.start(1);
  }

  @AfterAll
  static void stopEtcd() {
    etcd.close();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** A host: its etcd connection, node, driver (with an instance {@code NAME-web} in VPC shop) and follower. */
  record Host(Client client, ClusterNode node, InMemoryNetworkDriver driver, String instance, FabricPeers peers) {
    VpcFabric fabric() {
      return driver.fabric().orElseThrow();
    }
  }

  private <T extends AutoCloseable> T opened(T c) {
    open.add(c);
    return c;
  }

  private void fresh() {
    prefix = "/pods-test/fabric-peers-" + ProcessHandle.current().pid() + "-" + runs++;
    view = EtcdKeyspace.of(opened(etcd.client()), prefix);
  }

  private static Inet4Address ip(String dotted) {
    return Cidr.parseAddress(dotted);
  }

  private Host host(String name, int n) {
    return host(name, n, f -> f);
  }

  private Host host(String name, int n, java.util.function.UnaryOperator<VpcFabric> fabric) {
    Client c = opened(etcd.client());
    EtcdKeyspace space = EtcdKeyspace.of(c, prefix);
    InMemoryNetworkDriver d = opened(new InMemoryNetworkDriver(underlay, ip("10.250.0." + n)));
    String instance = name + "-web";
    d.create(NetworkSpec.builder().instanceId(instance).owner("fabric-peers-test")
        .mac(String.format("52:54:00:f1:00:%02x", n)).subnet(Cidr.parse("10.96." + n + ".0/30"))
        .vpc(new NetworkVpc("shop", Cidr.parse("10.96.0.0/16"))).build());
    ClusterNode node = opened(ClusterNode.join(space,
        new NodeSpec(name, "10.250.0." + n, 2, 2048).withUnderlay(ip("10.250.0." + n)), new RecordingInstances(),
        LEASE));
    FabricPeers peers = opened(FabricPeers.follow(space, name, fabric.apply(d.fabric().orElseThrow())));
    return new Host(c, node, d, instance, peers);
  }

  private static boolean reach(Host from, Host to) {
    return from.driver().vpcReaches(from.instance(), to.driver(), to.instance(), NetworkProtocol.TCP, 80);
  }

  private void await(String what, java.util.function.BooleanSupplier done) throws Exception {
    Waits.until(view, what, WAIT, done);
  }

  private Map<String, NodeStatus> nodes() {
    return new Nodes(view).list().stream().collect(Collectors.toMap(NodeStatus::name, Function.identity()));
  }

  @Test
  void instancesOfOneVpcReachEachOtherWhileBothNodesAreLiveAndNotAfterOneIsLost() throws Exception {
    fresh();
    Host h1 = host("h1", 1);
    assertThat(h1.fabric().peers()).isEmpty();
    Host h2 = host("h2", 2);
    await("h1 and h2 peers of each other", () -> reach(h1, h2) && reach(h2, h1));
    assertThat(h1.fabric().peers()).containsExactly(ip("10.250.0.2"));
    assertThat(h2.fabric().peers()).containsExactly(ip("10.250.0.1"));
    assertThat(nodes().get("h2").underlay()).isEqualTo(ip("10.250.0.2"));

    // A node without a fabric is no peer; a third node with one enters everywhere.
    opened(ClusterNode.join(EtcdKeyspace.of(opened(etcd.client()), prefix), new NodeSpec("plain", "10.250.0.9", 1,
        1024), new RecordingInstances(), LEASE));
    Host h3 = host("h3", 3);
    await("h3 a peer of h1 and h2", () -> reach(h3, h1) && reach(h3, h2) && reach(h1, h3));
    assertThat(h1.fabric().peers()).containsExactlyInAnyOrder(ip("10.250.0.2"), ip("10.250.0.3"));
    assertThat(nodes().get("plain").underlay()).isNull();

    // h2 is lost (its follower and connection gone, as when its JVM is killed); its fabric still lists the others,
    // but theirs drop it, so nothing of the VPC passes between it and them any more.
    h2.peers().close();
    h2.client().close();
    await("h2 lost and dropped", () -> nodes().get("h2").health() == NodeStatus.Health.LOST
        && h1.fabric().peers().equals(Set.of(ip("10.250.0.3")))
        && h3.fabric().peers().equals(Set.of(ip("10.250.0.1"))));
    assertThat(h2.fabric().peers()).containsExactlyInAnyOrder(ip("10.250.0.1"), ip("10.250.0.3"));
    assertThat(reach(h1, h2)).isFalse();
    assertThat(reach(h2, h1)).isFalse();
    assertThat(reach(h1, h3)).isTrue();

    // A node that leaves (close) is dropped too.
    h3.node().close();
    await("h3 dropped by h1", () -> h1.fabric().peers().isEmpty());
    assertThat(reach(h1, h3)).isFalse();
  }

  /**
   * A fabric whose first change of the peers fails as the Linux driver's does when {@code ip} fails: it keeps the set
   * (and reports it) but changes no link.
   */
  static final class FailingOnce implements VpcFabric {
    private final VpcFabric real;
    private final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Set<Inet4Address> kept = Set.of();

    FailingOnce(VpcFabric real) {
      this.real = real;
    }

    @Override
    public Inet4Address underlay() {
      return real.underlay();
    }

    @Override
    public int mtu() {
      return real.mtu();
    }

    @Override
    public Set<Inet4Address> peers() {
      return kept;
    }

    @Override
    public void peers(Set<Inet4Address> peers) {
      kept = Set.copyOf(peers);
      if (calls.incrementAndGet() == 1) {
        throw new dev.pods.NetworkException("set the fabric's peers " + peers + " failed: ip exited with 2");
      }
      real.peers(peers);
    }
  }

  @Test
  void aChangeTheFabricFailedIsTriedAgain() throws Exception {
    fresh();
    FailingOnce[] failing = new FailingOnce[1];
    Host h2 = host("h2", 2);
    Host h1 = host("h1", 1, f -> failing[0] = new FailingOnce(f)); // its first set, {h2}, fails
    await("h1 and h2 peers of each other", () -> reach(h1, h2) && reach(h2, h1));
    assertThat(failing[0].calls.get()).as("calls of h1's peers(set)").isGreaterThanOrEqualTo(2);
    assertThat(h1.driver().fabric().orElseThrow().peers()).containsExactly(ip("10.250.0.2"));
  }

  @Test
  void peersAreTheLiveOthersWithAnUnderlayOtherThanOnesOwn() {
    List<NodeStatus> nodes = List.of(
        status("h1", NodeStatus.Health.READY, "10.250.0.1"),
        status("h2", NodeStatus.Health.READY, "10.250.0.2"),
        status("h3", NodeStatus.Health.LOST, "10.250.0.3"),
        status("h4", NodeStatus.Health.READY, null),
        status("h5", NodeStatus.Health.READY, "10.250.0.1"));
    assertThat(FabricPeers.peersOf(nodes, "h1", ip("10.250.0.1"))).containsExactly(ip("10.250.0.2"));
    assertThat(FabricPeers.peersOf(nodes, "h4", ip("10.250.0.4")))
        .containsExactlyInAnyOrder(ip("10.250.0.1"), ip("10.250.0.2"));
  }

  private static NodeStatus status(String name, NodeStatus.Health health, String underlay) {
    return new NodeStatus(name, name, 1, 1024, 1024, List.of(), 0, 0, health, false,
        underlay == null ? null : ip(underlay));
  }
}
