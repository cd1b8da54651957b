package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pods.NetworkException;
import dev.pods.net.internal.Exec;
import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkVpc;
import dev.pods.spi.VpcFabric;
import dev.pods.spi.VpcFabricContract;
import java.net.Inet4Address;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two simulated hosts, each a host namespace of this run with its own Linux driver (state folder, prefix, link
 * prefix), joined by a "datacenter" namespace holding a bridge, each host's underlay address on it
 * ({@link TwoHosts}); their VPCs joined by the VXLAN fabric. Stand-in VMs (busybox udhcpc
 * and httpd in namespaces on the instances' bridges) open the TCP connections. All traffic stays in this run's
 * namespaces.
 */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LinuxVpcFabricIT extends VpcFabricContract {
  static final String UNDERLAY_A = TwoHosts.UNDERLAY_A;
  static final String UNDERLAY_B = TwoHosts.UNDERLAY_B;
  private static final ObjectMapper JSON = new ObjectMapper();

  private NetTestEnv env;
  private String hostB;
  private String dc;
  private TwoHosts hosts;
  private LinuxNetworkDriver a;
  private LinuxNetworkDriver b;
  /** Stand-in VMs by instance id: their names and leases; removed after each test. */
  private final Map<String, String> standIns = new HashMap<>();
  private final Map<String, NetTestEnv.Lease> leases = new HashMap<>();

  @BeforeAll
  void world() throws Exception {
    NetTestEnv.assumeCapable();
    env = new NetTestEnv();
    hosts = new TwoHosts(env);
    a = hosts.a;
    b = hosts.b;
    hostB = hosts.hostB;
    dc = hosts.dc;
  }

  @AfterAll
  void endWorld() throws Exception {
    try {
      if (hosts != null) {
        assertThat(a.reap(owner())).isEmpty();
        assertThat(b.reap(owner())).isEmpty();
        hosts.remove();
      }
    } finally {
      if (env != null) {
        env.destroy();
      }
    }
  }

  @AfterEach
  void removeStandIns() throws Exception {
    for (String name : standIns.values()) {
      env.removeStandIn(name);
    }
    standIns.clear();
    leases.clear();
  }

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
    return 1500;
  }

  private String hostNs(NetworkDriver host) {
    return hosts.hostNs((LinuxNetworkDriver) host);
  }

  @Override
  protected NetworkSpec.Builder spec(NetworkDriver host, String instanceId, int index) {
    return NetworkSpec.builder().instanceId(instanceId).hostNamespace(hostNs(host))
        .mac(String.format("52:54:00:fa:00:%02x", index)).subnet(Cidr.parse("10.96." + index + ".0/30"));
  }

  @Override
  protected String owner() {
    return "dev.pods/session=" + env.prefix;
  }

  private String standIn(NetworkDriver host, NetworkInstance n) throws Exception {
    String name = standIns.get(n.instanceId());
    if (name == null) {
      name = "f" + standIns.size();
      leases.put(n.instanceId(), env.standIn(name, n.spec().mac(), hostNs(host), n.vmBridge(), 80, 8080));
      standIns.put(n.instanceId(), name);
    }
    return name;
  }

  @Override
  protected boolean reaches(NetworkDriver fromHost, NetworkInstance from, NetworkDriver toHost, NetworkInstance to,
      int port) throws Exception {
    standIn(toHost, to);
    String vm = standIn(fromHost, from);
    return NetTestEnv.get(env.standInNs(vm), Cidr.dotted(to.spec().privateAddress()), port, Duration.ofMillis(1500))
        .startsWith("hello from");
  }

  @Override
  protected OptionalInt dhcpMtu(NetworkDriver host, NetworkInstance n) throws Exception {
    standIn(host, n);
    String mtu = leases.get(n.instanceId()).field("mtu");
    return mtu.isEmpty() ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(mtu));
  }

  @Override
  protected void breakFabricBehindItsBack(NetworkDriver host, NetworkInstance member) throws Exception {
    String ns = hostNs(host);
    int vni = VpcFabric.vni(member.spec().vpc().id());
    for (String vx : NetTestEnv.links(ns, (host == a ? env.prefix : NetTestEnv.secondLinkPrefix(env.prefix)) + "X")) {
      if (link(ns, vx).path("linkinfo").path("info_data").path("id").asInt() == vni) {
        run(ns, "ip", "link", "del", vx);
        return;
      }
    }
    throw new AssertionError("no VXLAN link of VPC " + member.spec().vpc().id() + " in " + ns);
  }

  private static JsonNode link(String ns, String name) throws Exception {
    String json = Netns.call(Netns.path(ns), () -> Exec.check(List.of("ip", "-j", "-d", "link", "show", "dev", name),
        null, Duration.ofSeconds(10)).stdout());
    return JSON.readTree(json).get(0);
  }

  private static List<String> replicationTargets(String ns, String vx) throws Exception {
    String json = Netns.call(Netns.path(ns), () -> Exec.check(List.of("bridge", "-j", "fdb", "show", "dev", vx),
        null, Duration.ofSeconds(10)).stdout());
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode e : JSON.readTree(json)) {
      if (e.path("mac").asText().equals("00:00:00:00:00:00")) {
        out.add(e.path("dst").asText());
      }
    }
    return out;
  }

  @Test
  void eachVpcBridgeGetsAVxlanLinkThatComesAndGoesWithItAndFollowsThePeers() throws Exception {
    NetworkSpec s = spec(a, "fl1", 1).owner(owner()).vpc(new NetworkVpc("links", VPC_RANGE)).build();
    NetworkInstance n1 = a.create(s);
    NetworkInstance n2 = a.create(spec(a, "fl2", 2).owner(owner()).vpc(new NetworkVpc("links", VPC_RANGE)).build());
    try {
      List<String> vxlans = NetTestEnv.links(env.hostNs, env.prefix + "X");
      assertThat(vxlans).hasSize(1);
      String vx = vxlans.get(0);
      JsonNode l = link(env.hostNs, vx);
      JsonNode info = l.path("linkinfo").path("info_data");
      assertThat(l.path("linkinfo").path("info_kind").asText()).isEqualTo("vxlan");
      assertThat(info.path("id").asInt()).isEqualTo(VpcFabric.vni("links"));
      assertThat(info.path("port").asInt()).isEqualTo(4789);
      assertThat(info.path("local").asText()).isEqualTo(UNDERLAY_A);
      assertThat(info.path("learning").asBoolean()).isFalse();
      assertThat(l.path("mtu").asInt()).isEqualTo(1450);
      assertThat(l.path("master").asText()).startsWith(env.prefix + "V");
      assertThat(link(env.hostNs, l.path("master").asText()).path("mtu").asInt()).isEqualTo(1450);
      JsonNode vpc0 = JSON.readTree(Netns.call(Netns.path(n1.namespace()), () -> Exec.check(
          List.of("ip", "-j", "link", "show", "dev", "vpc0"), null, Duration.ofSeconds(10)).stdout())).get(0);
      assertThat(vpc0.path("mtu").asInt()).as("vpc0 in the instance's namespace").isEqualTo(1450);
      assertThat(replicationTargets(env.hostNs, vx)).containsExactly(UNDERLAY_B);

      // the guard: a VXLAN datagram of this VPC from the underlay but not from a peer is dropped before decapsulation
      String guard = env.prefix + "fabric";
      assertThat(guardDrops(guard)).as("nothing dropped yet").isZero();
      NetTestEnv.ipIn(dc, "addr add 10.250.0.9/24 dev dc0\n");
      sendVxlan(dc, VpcFabric.vni("links"));
      assertThat(guardDrops(guard)).as("a rogue host's datagram").isEqualTo(1);
      sendVxlan(hostB, VpcFabric.vni("links"));
      assertThat(guardDrops(guard)).as("a peer's datagram passes").isEqualTo(1);

      Inet4Address c = Cidr.parseAddress("10.250.0.3");
      a.fabric().orElseThrow().peers(Set.of(Cidr.parseAddress(UNDERLAY_B), c));
      assertThat(replicationTargets(env.hostNs, vx)).containsExactlyInAnyOrder(UNDERLAY_B, "10.250.0.3");
      a.fabric().orElseThrow().peers(Set.of(c));
      assertThat(replicationTargets(env.hostNs, vx)).containsExactly("10.250.0.3");
      assertThat(a.probe("fl1")).as("the instances are untouched").isEmpty();
      assertThat(a.find("fl1")).contains(n1);

      // a new driver on the same state gives the existing links its own peers
      try (LinuxNetworkDriver again = hosts.againA(Set.of(Cidr.parseAddress(UNDERLAY_B)))) {
        assertThat(replicationTargets(env.hostNs, vx)).containsExactly(UNDERLAY_B);
        assertThat(again.find("fl2")).contains(n2);
      }
      a.delete("fl1");
      assertThat(NetTestEnv.links(env.hostNs, vx)).as("the VPC still has a member").containsExactly(vx);
    } finally {
      a.delete("fl1");
      a.delete("fl2");
    }
    assertThat(NetTestEnv.links(env.hostNs, env.prefix + "X")).as("gone with the bridge").isEmpty();
    assertThat(NetTestEnv.links(env.hostNs, env.prefix + "V")).isEmpty();
    assertThat(Netns.call(Netns.path(env.hostNs), () -> Exec.check(List.of("nft", "list", "tables"), null,
        Duration.ofSeconds(10)).stdout())).as("the guard goes with the last VXLAN link")
        .doesNotContain(env.prefix + "fabric");
  }

  /**
   * The runtime's periodic check of one instance: its driver's probe, and when that finds damage the idempotent create
   * with the spec of the network found (what {@code DefaultDeployment.checkNetwork} does).
   *
   * @return what the probe found
   */
  private static List<String> reconcile(NetworkDriver host, String instanceId) {
    List<String> defects = host.probe(instanceId);
    if (!defects.isEmpty()) {
      host.create(host.find(instanceId).orElseThrow().spec());
    }
    return defects;
  }

  /** Runs {@code command} in namespace {@code ns}, failing when it fails. */
  private static void run(String ns, String... command) throws Exception {
    Netns.call(Netns.path(ns), () -> Exec.check(List.of(command), null, Duration.ofSeconds(10)));
  }

  /** Whether the VM of {@code from} reaches {@code to}, asked again for up to 15 s while it does not. */
  private boolean reachesSoon(NetworkDriver fromHost, NetworkInstance from, NetworkDriver toHost, NetworkInstance to)
      throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (true) {
      if (reaches(fromHost, from, toHost, to, 80)) {
        return true;
      }
      if (System.nanoTime() > end) {
        return false;
      }
    }
  }

  private boolean guardThere() throws Exception {
    return Netns.call(Netns.path(env.hostNs), () -> Exec.check(List.of("nft", "list", "tables"), null,
        Duration.ofSeconds(10)).stdout()).contains("table ip " + env.prefix + "fabric\n");
  }

  @Test
  void aFabricBrokenBehindTheDriversBackProbesBrokenAndTheReconcilePathMendsIt() throws Exception {
    NetworkInstance x = a.create(spec(a, "fr1", 1).owner(owner()).vpc(new NetworkVpc("mend", VPC_RANGE)).build());
    NetworkInstance z = a.create(spec(a, "fr2", 2).owner(owner()).vpc(new NetworkVpc("mend", VPC_RANGE)).build());
    NetworkInstance y = b.create(spec(b, "fr3", 3).owner(owner()).vpc(new NetworkVpc("mend", VPC_RANGE)).build());
    try {
      assertThat(reaches(a, x, b, y, 80)).as("x -> y across hosts, before").isTrue();
      String vx = NetTestEnv.links(env.hostNs, env.prefix + "X").get(0);
      String vpcBridge = link(env.hostNs, vx).path("master").asText();
      String ns = env.hostNs;
      String guard = env.prefix + "fabric";
      // each: what is done by hand on host A, what the probe names, whether it cuts host A's side of the VPC
      record Breakage(String what, Callable<?> act, String defect, boolean cuts) {}
      List<Breakage> breakages = List.of(
          new Breakage("VXLAN link deleted", () -> { run(ns, "ip", "link", "del", vx); return null; },
              "VXLAN link " + vx + " is gone", true),
          new Breakage("forwarding entries flushed", () -> {
            run(ns, "bridge", "fdb", "del", "00:00:00:00:00:00", "dev", vx, "dst", UNDERLAY_B);
            return null;
          }, "VXLAN link " + vx + " has no forwarding entry to peer " + UNDERLAY_B, true),
          new Breakage("port detached", () -> { run(ns, "ip", "link", "set", vx, "nomaster"); return null; },
              "VXLAN link " + vx + " is not a port of VPC bridge " + vpcBridge, true),
          new Breakage("link down", () -> { run(ns, "ip", "link", "set", vx, "down"); return null; },
              "VXLAN link " + vx + " is down", true),
          new Breakage("guard deleted", () -> { run(ns, "nft", "delete", "table", "ip", guard); return null; },
              "the fabric's guard (nftables table ip " + guard + ") is gone", false),
          new Breakage("VPC bridge deleted", () -> { run(ns, "ip", "link", "del", vpcBridge); return null; },
              "VPC bridge " + vpcBridge + " is gone", true));
      for (Breakage k : breakages) {
        assertThat(a.probe(x.instanceId())).as("before: " + k.what()).isEmpty();
        k.act().call();
        if (k.cuts()) {
          assertThat(reaches(a, x, b, y, 80)).as("x -> y cut: " + k.what()).isFalse();
        }
        assertThat(a.probe(z.instanceId())).as("the other member on host A: " + k.what()).contains(k.defect());
        assertThat(b.probe(y.instanceId())).as("host B is whole: " + k.what()).isEmpty();
        assertThat(reconcile(a, x.instanceId())).as("probed: " + k.what()).contains(k.defect());
        assertThat(a.probe(x.instanceId())).as("mended: " + k.what()).isEmpty();
        assertThat(a.probe(z.instanceId())).as("mended for the other member: " + k.what()).isEmpty();
        assertThat(a.find(x.instanceId())).as("the instance's network kept: " + k.what()).contains(x);
        assertThat(reachesSoon(a, x, b, y)).as("x -> y again: " + k.what()).isTrue();
        assertThat(reachesSoon(b, y, a, z)).as("y -> z again: " + k.what()).isTrue();
        assertThat(guardThere()).as("the guard: " + k.what()).isTrue();
        assertThat(replicationTargets(ns, vx)).as("one entry per peer: " + k.what()).containsExactly(UNDERLAY_B);
        assertThat(link(ns, vx).path("master").asText()).as("on its bridge: " + k.what()).isEqualTo(vpcBridge);
      }
      // the guard mended is the guard: a rogue host's datagram is dropped, a peer's passes
      long before = guardDrops(guard);
      NetTestEnv.ipIn(dc, "addr add 10.250.0.8/24 dev dc0\n");
      sendVxlan(dc, VpcFabric.vni("mend"));
      assertThat(guardDrops(guard)).isEqualTo(before + 1);

      // a peer gone from the fabric leaves an entry the probe names, and the same path removes it
      run(ns, "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", vx, "dst", "10.250.0.7");
      assertThat(reconcile(a, x.instanceId())).containsExactly("VXLAN link " + vx
          + " has a forwarding entry to 10.250.0.7, which is not a peer");
      assertThat(replicationTargets(ns, vx)).containsExactly(UNDERLAY_B);
    } finally {
      a.delete("fr1");
      a.delete("fr2");
      b.delete("fr3");
    }
  }

  /** Sends, from namespace {@code ns}, one VXLAN datagram of {@code vni} to host A's underlay address. */
  private static void sendVxlan(String ns, int vni) throws Exception {
    byte[] d = new byte[8 + 14];
    d[0] = 0x08; // the VNI is valid
    d[4] = (byte) (vni >>> 16);
    d[5] = (byte) (vni >>> 8);
    d[6] = (byte) vni;
    Netns.call(Netns.path(ns), () -> {
      try (java.net.DatagramSocket s = new java.net.DatagramSocket()) {
        s.send(new java.net.DatagramPacket(d, d.length,
            new java.net.InetSocketAddress(Cidr.parseAddress(UNDERLAY_A), VpcFabric.PORT)));
      }
      return null;
    });
  }

  /** The packets the guard table {@code table} of host A dropped, all rules together (0 when it has none). */
  private long guardDrops(String table) throws Exception {
    String json = Netns.call(Netns.path(env.hostNs), () -> Exec.check(List.of("nft", "-j", "list", "table", "ip",
        table), null, Duration.ofSeconds(10)).stdout());
    long n = 0;
    for (JsonNode item : JSON.readTree(json).path("nftables")) {
      for (JsonNode e : item.path("rule").path("expr")) {
        n += e.path("counter").path("packets").asLong();
      }
    }
    return n;
  }

  @Test
  void badFabricSettingsAreRefusedNamingWhatIsWrong() throws Exception {
    assertThatThrownBy(() -> LinuxNetworkDriver.builder().stateDir(env.dir.resolve("host-x")).prefix(env.prefix)
        .fabric(hostB, Cidr.parseAddress(UNDERLAY_A), Set.of()).build()).isInstanceOf(NetworkException.class)
        .hasMessageContaining(UNDERLAY_A).hasMessageContaining(hostB);
    NetworkSpec elsewhere = spec(a, "fw1", 1).owner(owner()).hostNamespace(hostB)
        .vpc(new NetworkVpc("links", VPC_RANGE)).build();
    assertThatThrownBy(() -> a.create(elsewhere)).isInstanceOf(NetworkException.class)
        .hasMessageContaining("host namespace " + hostB).hasMessageContaining(env.hostNs);
    assertThat(a.find("fw1")).isEmpty();
    assertThat(NetTestEnv.namespaces(env.prefix + "-fw1")).isEmpty();

    // two VPC ids with one VXLAN identifier (the first three bytes of their SHA-256) on one host: the second is refused
    assertThat(VpcFabric.vni("vpc-1390")).isEqualTo(VpcFabric.vni("vpc-8366"));
    NetworkInstance fv1 = a.create(spec(a, "fv1", 1).owner(owner()).vpc(new NetworkVpc("vpc-1390", VPC_RANGE))
        .build());
    try {
      assertThatThrownBy(() -> a.update(fv1.spec().toBuilder().hostNamespace(hostB).build()))
          .isInstanceOf(NetworkException.class).hasMessageStartingWith("update network of instance 'fv1' failed")
          .hasMessageContaining("host namespace " + hostB);
      assertThat(a.find("fv1")).as("left as it was").contains(fv1);
      NetworkSpec clash = spec(a, "fv2", 2).owner(owner()).vpc(new NetworkVpc("vpc-8366", VPC_RANGE)).build();
      assertThatThrownBy(() -> a.create(clash)).isInstanceOf(NetworkException.class)
          .hasMessageContaining("'vpc-8366'").hasMessageContaining("'vpc-1390'").hasMessageContaining("fv1");
      assertThat(a.find("fv2")).isEmpty();
      assertThat(NetTestEnv.namespaces(env.prefix + "-fv2")).isEmpty();
    } finally {
      a.delete("fv1");
    }
  }
}
