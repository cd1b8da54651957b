package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.net.internal.Exec;
import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkDriverContract;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The NetworkDriver contract on real namespaces, plus what only the Linux driver can show. The VM side shares the
 * host namespace here, as in production; {@link LinuxNetworkScenarioIT} puts it apart.
 */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LinuxNetworkDriverIT extends NetworkDriverContract {
  private NetTestEnv env;
  private LinuxNetworkDriver driver;

  /** Whether the driver under test loads nftables programs in-process through libnftables (or through nft -f). */
  boolean netlink() {
    return true;
  }

  @BeforeAll
  void world() throws Exception {
    NetTestEnv.assumeCapable();
    env = new NetTestEnv();
    driver = shared();
  }

  private LinuxNetworkDriver shared() {
    return LinuxNetworkDriver.builder().stateDir(env.dir.resolve("state")).prefix(env.prefix)
        .vmNamespace(env.hostNs).netlink(netlink()).build();
  }

  @BeforeEach
  void nothingLeftByThePreviousTest() throws Exception {
    assertThat(NetTestEnv.namespaces(env.prefix + "-")).isEmpty();
    assertThat(NetTestEnv.links(env.hostNs, env.prefix)).containsExactlyInAnyOrder(env.uplinkBridge,
        env.prefix + "O");
  }

  @AfterAll
  void endWorld() throws Exception {
    if (driver != null) {
      assertThat(driver.reap(owner(env))).isEmpty();
      driver.close();
    }
    if (env != null) {
      env.destroy();
    }
  }

  @Override
  protected NetworkDriver driver() {
    return driver;
  }

  @Override
  protected NetworkSpec.Builder spec(String instanceId, int index) {
    NetworkSpec.Builder b = NetworkSpec.builder().instanceId(instanceId)
        .mac(String.format("52:54:00:c0:00:%02x", index))
        .subnet(Cidr.parse("10.98." + index + ".0/30"))
        .hostNamespace(env.hostNs)
        .uplink(new NetworkUplink(env.uplinkBridge, Cidr.parseAddress("10.99.2." + (10 + index)), 16,
            Cidr.parseAddress(NetTestEnv.GATEWAY)))
        .dnsServer(Cidr.parseAddress("10.99.0.53")).searchDomain("pods.internal").keptBackPort(5900);
    if (index % 2 == 0) {
      b.vpc(new NetworkVpc("contract", Cidr.parse("10.98.0.0/16")));
    }
    return b;
  }

  /** The stand-in VMs made by {@link #reaches}, by instance id; removed after each test. */
  private final java.util.Map<String, String> standIns = new java.util.HashMap<>();

  @Override
  protected java.net.Inet4Address outside() {
    return Cidr.parseAddress(NetTestEnv.OUTSIDE);
  }

  @Override
  protected boolean reaches(NetworkInstance n, int port) throws Exception {
    if (!standIns.containsKey(n.instanceId())) {
      String name = "p" + standIns.size();
      env.standIn(name, n.spec().mac(), env.hostNs, n.vmBridge(), 80, 8080);
      standIns.put(n.instanceId(), name);
    }
    String pub = Cidr.dotted(n.spec().uplink().address());
    return NetTestEnv.get(env.outsideNs, pub, port, java.time.Duration.ofMillis(800)).startsWith("hello");
  }

  @org.junit.jupiter.api.AfterEach
  void removeStandIns() throws Exception {
    for (String name : standIns.values()) {
      env.removeStandIn(name);
    }
    standIns.clear();
  }

  @Override
  protected @org.jspecify.annotations.Nullable String hostNamespace() {
    return env.hostNs;
  }

  @Override
  protected java.net.InetSocketAddress hostAddress() {
    return new java.net.InetSocketAddress(Cidr.parseAddress(NetTestEnv.GATEWAY), 30080);
  }

  @Override
  protected java.net.Socket connectAsHostClient(java.net.InetSocketAddress address) throws Exception {
    return Netns.call(Netns.path(env.outsideNs), () -> {
      java.net.Socket s = new java.net.Socket();
      s.connect(address, 5000);
      return s;
    });
  }

  @Override
  protected void deleteNamespaceBehindItsBack(NetworkInstance n) throws Exception {
    Exec.check(java.util.List.of("ip", "netns", "delete", n.namespace()), null, java.time.Duration.ofSeconds(10));
  }

  @Override
  protected void killDhcpServerBehindItsBack(NetworkInstance n) throws Exception {
    long pid = Long.parseLong(java.nio.file.Files.readString(env.dir.resolve("state").resolve("instances")
        .resolve(n.instanceId()).resolve("dnsmasq.pid")).strip());
    ProcessHandle dnsmasq = ProcessHandle.of(pid).orElseThrow();
    assertThat(dnsmasq.destroyForcibly()).isTrue();
    dnsmasq.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Override
  protected String owner() {
    return owner(env);
  }

  private static String owner(NetTestEnv e) {
    return "dev.pods/session=" + e.prefix;
  }

  @Test
  void concurrentCreatesAndDeletesInOneVpcLeaveNothing() throws Exception {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
    List<String> ids = new java.util.ArrayList<>();
    try {
      List<java.util.concurrent.Future<NetworkInstance>> made = new java.util.ArrayList<>();
      for (int i = 0; i < 6; i++) {
        NetworkSpec s = spec("par" + i, 10 + i).owner(owner())
            .vpc(new NetworkVpc("parallel", Cidr.parse("10.98.0.0/16"))).build();
        ids.add(s.instanceId());
        made.add(pool.submit(() -> driver.create(s)));
      }
      for (var f : made) {
        assertThat(f.get(120, java.util.concurrent.TimeUnit.SECONDS).spec().vpc().id()).isEqualTo("parallel");
      }
      assertThat(driver.list(owner())).hasSize(6);
      assertThat(NetTestEnv.links(env.hostNs, env.prefix + "V")).hasSize(1);
      List<java.util.concurrent.Future<?>> gone = new java.util.ArrayList<>();
      for (String id : ids) {
        gone.add(pool.submit(() -> driver.delete(id)));
      }
      for (var f : gone) {
        f.get(120, java.util.concurrent.TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(driver.list(owner())).isEmpty();
    assertThat(NetTestEnv.namespaces(env.prefix + "-par")).isEmpty();
    assertThat(NetTestEnv.links(env.hostNs, env.prefix)).containsExactlyInAnyOrder(env.uplinkBridge,
        env.prefix + "O");
  }

  @Test
  void theRegisteredProviderIsAvailableHereAndMakesAWorkingDriver() {
    LinuxNetworkDriverProvider p = new LinuxNetworkDriverProvider();
    assertThat(p.unavailableReason()).isEmpty();
    try (NetworkDriver d = p.create(new dev.pods.spi.NetworkDriverConfig(env.dir.resolve("state"), env.prefix,
        env.hostNs))) {
      NetworkInstance n = d.create(spec("prov", 3).owner(owner()).build());
      assertThat(driver.find("prov")).contains(n);
      d.delete("prov");
      assertThat(d.find("prov")).isEmpty();
    }
  }

  @Test
  void createAgainRestartsADeadDnsmasqAndRebuildsALostAddress() throws Exception {
    NetworkInstance n = driver.create(spec("heal", 5).owner(owner()).build());
    try {
      List<Long> before = dev.pods.net.internal.Processes.inNamespace(Netns.inode(n.namespace()));
      assertThat(before).hasSize(1);
      dev.pods.net.internal.Processes.end(before, java.time.Duration.ofSeconds(2));
      assertThat(dev.pods.net.internal.Processes.inNamespace(Netns.inode(n.namespace()))).isEmpty();
      assertThat(driver.create(n.spec())).isEqualTo(n);
      List<Long> after = dev.pods.net.internal.Processes.inNamespace(Netns.inode(n.namespace()));
      assertThat(after).hasSize(1).doesNotContainAnyElementsOf(before);

      // a marker link tells the old namespace from the new one (the kernel reuses a freed namespace's inode number)
      NetTestEnv.ipIn(n.namespace(), "link add old0 type bridge\naddr flush dev up0\n");
      assertThat(driver.probe(n.instanceId())).containsExactly("up0 lost its address "
          + Cidr.dotted(n.spec().uplink().address()) + "/16 (or is down)");
      assertThat(driver.create(n.spec())).isEqualTo(n);
      assertThat(NetTestEnv.links(n.namespace(), "old0")).as("rebuilt in a new namespace").isEmpty();
      assertThat(driver.probe(n.instanceId())).isEmpty();
      String addrs = Netns.call(Netns.path(n.namespace()), () -> dev.pods.net.internal.Exec.check(
          List.of("ip", "-j", "addr", "show", "dev", "up0"), null, java.time.Duration.ofSeconds(5)).stdout());
      assertThat(dev.pods.net.internal.IpJson.addresses(addrs)).extracting(a -> a.address())
          .containsExactly(Cidr.dotted(n.spec().uplink().address()));
    } finally {
      driver.delete("heal");
    }
  }

  @Test
  void aStateFolderOfPerFolderIndexesHasItsIndexesClaimedHostWide() throws Exception {
    NetworkInstance n = driver.create(spec("legacy", 1).owner(owner()).build());
    try {
      // as a state folder written before indexes were claimed host-wide: its own link-index.json, no claim
      dev.pods.net.internal.LinkIndexes claims = new dev.pods.net.internal.LinkIndexes(NetTestEnv.LINK_INDEXES,
          env.prefix, driver.stateDir());
      long index = claims.lookup("i-legacy").orElseThrow();
      claims.release("i-legacy");
      Files.writeString(driver.stateDir().resolve("link-index.json"), "{}");
      try (LinuxNetworkDriver second = shared()) {
        assertThat(claims.lookup("i-legacy")).contains(index);
        assertThat(driver.stateDir().resolve("link-index.json")).doesNotExist();
        assertThat(second.find("legacy")).contains(n);
      }
    } finally {
      driver.delete("legacy");
    }
  }

  @Test
  void aDriverOnTheSameStateFindsTheNetworksAgain() throws Exception {
    NetworkInstance n = driver.create(spec("again", 1).owner(owner()).build());
    try (LinuxNetworkDriver second = shared()) {
      assertThat(second.find("again")).contains(n);
      assertThat(second.list(owner())).containsExactly(n);
    } finally {
      driver.delete("again");
    }
    assertThat(Netns.exists(n.namespace())).isFalse();
    assertThat(Files.exists(driver.stateDir().resolve("instances/again"))).isFalse();
  }
}
