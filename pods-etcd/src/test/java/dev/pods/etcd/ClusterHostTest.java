package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.etcd.internal.ClusterJson;
import dev.pods.etcd.internal.EventRecord;
import dev.pods.etcd.internal.ExecRecord;
import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.PodMembership;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@link ClusterHost}s on a real etcd member, each with a local runtime on the in-memory fakes (its own
 * hypervisor, network driver and files; guests played by {@link FakeGuests}): a pod put in the cluster with
 * {@link ClusterPods#put} is spread over them, each instance READY on exactly one host with its status record;
 * remote peers appear in each host's membership; exec requests through etcd are answered; events arrive as event
 * records; a host that leaves has its instances READY on the others with the same private address; a host fenced
 * (its etcd connection gone) stops its instances, and once it returns nothing runs twice.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterHostTest {
  static final Duration LEASE = Duration.ofSeconds(3);
  static final InetSocketAddress METADATA = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  private static EtcdCluster etcd;
  private static int runs;

  @TempDir Path tmp;
  private String prefix = "";
  private EtcdKeyspace view;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final Map<String, Host> hosts = new TreeMap<>();

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
    for (Host h : hosts.values()) {
      h.close();
    }
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** One simulated host: its fakes, guests, etcd connection and cluster host (replaced when it rejoins). */
  final class Host implements AutoCloseable {
    final String name;
    final InMemoryHypervisor hv = InMemoryHypervisor.create();
    final InMemoryNetworkDriver net = new InMemoryNetworkDriver();
    final DirectoryInstanceFiles files;
    final FakeGuests guests;
    final BootImage image;
    final Path dir;
    Client client;
    ClusterHost host;

    Host(String name) throws IOException {
      this.name = name;
      this.dir = Files.createDirectories(tmp.resolve(name));
      this.files = new DirectoryInstanceFiles(dir.resolve("instances"));
      this.image = BootImage.kernel(Files.writeString(dir.resolve("vmlinuz"), "k"),
          Files.writeString(dir.resolve("initrd"), "i"), "console=ttyS0");
      this.guests = new FakeGuests(hv, net, files, name + "-");
      join();
    }

    void join() {
      client = etcd.client();
      PodRuntime.Builder b = PodRuntime.builder().hypervisor(hv).instanceFiles(files).images(n -> image)
          .stateDir(dir.resolve("state")).owner("test/" + name).namePrefix(name + "-").metadataAddress(METADATA);
      host = ClusterHost.join(EtcdKeyspace.of(client, prefix), new NodeSpec(name, "10.250.0." + name.substring(1), 2,
          4096), LEASE, guests.driver(), b);
    }

    /** The instances of pod {@code pod} its local runtime runs now ({@code UNIT-INDEX}). */
    Set<String> running(String pod) {
      Set<String> out = new TreeSet<>();
      host.runtime().deployment(pod).ifPresent(d -> d.instances().stream()
          .filter(i -> i.state() != InstanceState.DESTROYED).forEach(i -> out.add(i.name())));
      return out;
    }

    /** Running domains of its hypervisor. */
    Set<String> domains() {
      Set<String> out = new TreeSet<>();
      for (var d : hv.listAll()) {
        if (d.state().isActive()) {
          out.add(d.name().substring(name.length() + 1));
        }
      }
      return out;
    }

    @Override
    public void close() {
      if (host != null) {
        host.close();
      }
      guests.close();
      client.close();
      hv.close();
      net.close();
    }
  }

  private void fresh() throws IOException {
    prefix = "/pods-test/host-" + runs++;
    Client observer = etcd.client();
    open.add(observer);
    view = EtcdKeyspace.of(observer, prefix);
    for (String n : List.of("h1", "h2", "h3")) {
      hosts.put(n, new Host(n));
    }
  }

  private static Pod shop() {
    Script hello = Script.shell(Phase.INITIAL, "echo hello\n");
    return Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("tiny").count(3).memoryMib(256).script(hello).build())
        .unit(Unit.builder().name("lb").image("tiny").memoryMib(256).script(hello).build())
        .build();
  }

  private void await(String what, BooleanSupplier done) throws Exception {
    Waits.until(view, what, Duration.ofSeconds(60), done);
  }

  /** The status records of pod {@code pod}, by instance. */
  private Map<String, StatusRecord> statuses(String pod) {
    Map<String, StatusRecord> out = new TreeMap<>();
    String dir = ClusterKeys.STATUS + pod + "/";
    for (KeyValue kv : get(dir)) {
      out.put(new ClusterKeys(view).nameIn(dir, kv), new ClusterKeys(view).value(kv, StatusRecord.class));
    }
    return out;
  }

  private List<KeyValue> get(String dir) {
    return view.call("test reading " + dir,
        () -> view.kv().get(view.key(dir), GetOption.builder().isPrefix(true).build())).getKvs();
  }

  /** Whether every instance of shop is READY on exactly one live host, which its status names. */
  private boolean spreadAndReady(Set<String> live) {
    Map<String, StatusRecord> s = statuses("shop");
    if (!s.keySet().equals(Set.of("web-0", "web-1", "web-2", "lb-0"))) {
      return false;
    }
    for (Map.Entry<String, StatusRecord> e : s.entrySet()) {
      List<String> on = live.stream().filter(h -> hosts.get(h).running("shop").contains(e.getKey())).toList();
      if (!e.getValue().state().equals("READY") || !on.equals(List.of(e.getValue().node()))) {
        return false;
      }
    }
    return true;
  }

  @Test
  void aPodPutInTheClusterRunsSpreadWithStatusPeersExecAndEventsThenMovesWhenAHostLeaves() throws Exception {
    fresh();
    new ClusterPods(view).put(shop());
    Set<String> all = Set.of("h1", "h2", "h3");
    await("every instance READY on one host", () -> spreadAndReady(all));
    Map<String, StatusRecord> before = statuses("shop");
    // spread: the three web instances on three hosts
    assertThat(Set.of(before.get("web-0").node(), before.get("web-1").node(), before.get("web-2").node()))
        .hasSize(3);
    // each host's runtime sees the instances of the others as remote peers, READY, at their private addresses
    for (Host h : hosts.values()) {
      Map<String, String> peers = new TreeMap<>();
      for (PodMembership.RemotePeer p : h.host.membership().remotePeers("shop")) {
        peers.put(p.name(), p.privateAddress().getHostAddress() + " " + p.state());
      }
      Map<String, String> expected = new TreeMap<>();
      before.forEach((n, s) -> {
        if (!s.node().equals(h.name)) {
          expected.put(n, s.privateAddress() + " READY");
        }
      });
      assertThat(peers).as("remote peers seen on %s", h.name).isEqualTo(expected);
      for (String n : h.running("shop")) {
        assertThat(h.host.membership().hosts("shop", n)).isTrue();
      }
    }
    // exec through etcd: a request to the node that runs web-1 is answered with the instance's output
    String node = before.get("web-1").node();
    ExecRecord.Result r = exec(node, "web-1", "hostname");
    assertThat(r.error()).isNull();
    assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo(
        hosts.get(node).host.runtime().deployment("shop").orElseThrow().instance("web", 1).name() + "\n");
    ExecRecord.Result nowhere = exec(node, "lb-9", "hostname");
    assertThat(nowhere.error()).contains("shop/lb-9", "does not run on node " + node);
    // events: every instance's way to READY and its first block's output, from the node that ran it
    await("events of every instance", () -> {
      List<PodEvent> events = events("shop");
      return before.keySet().stream().allMatch(n -> events.stream().anyMatch(e -> e.instance().equals(n)
          && e instanceof PodEvent.StateChanged c && c.to() == InstanceState.READY)
          && events.stream().anyMatch(e -> e.instance().equals(n) && e instanceof PodEvent.OutputLine l
          && l.line().startsWith("booted ")));
    });
    // a host leaves: its instances come back READY on the others with the same private addresses
    String leaving = before.get("lb-0").node();
    Set<String> moved = hosts.get(leaving).running("shop");
    hosts.remove(leaving).close();
    Set<String> rest = new TreeSet<>(all);
    rest.remove(leaving);
    await("every instance READY on the two others", () -> spreadAndReady(rest));
    Map<String, StatusRecord> after = statuses("shop");
    for (String n : before.keySet()) {
      assertThat(after.get(n).privateAddress()).as("private address of %s", n)
          .isEqualTo(before.get(n).privateAddress());
      if (moved.contains(n)) {
        assertThat(after.get(n).node()).isNotEqualTo(leaving);
      }
    }
    // the pod taken away: its instances and local deployments go, and the leader releases their private addresses
    assertThat(held("shop-")).hasSize(4);
    new ClusterPods(view).remove("shop");
    await("shop gone everywhere", () -> statuses("shop").isEmpty() && held("shop-").isEmpty()
        && get(ClusterKeys.ADDRESSES).isEmpty()
        && hosts.values().stream().allMatch(h -> h.host.runtime().deployment("shop").isEmpty()));
    for (Host h : hosts.values()) {
      assertThat(h.domains()).isEmpty();
    }
  }

  /** The holders in the cluster's address pools whose name starts with {@code start}. */
  private List<String> held(String start) {
    List<String> out = new ArrayList<>();
    for (KeyValue kv : get("pools/")) {
      String k = ClusterKeys.text(kv.getKey());
      int at = k.indexOf("/holder/");
      if (at >= 0 && k.substring(at + "/holder/".length()).startsWith(start)) {
        out.add(k.substring(at + "/holder/".length()));
      }
    }
    return out;
  }

  @Test
  void aPodNoNodeCanBuildIsReportedFailedWithTheReasonAndHoldsUpNoOther() throws Exception {
    fresh();
    // node ports need a node address, which these hosts' runtimes lack: every local deploy refuses the pod
    Pod ports = Pod.builder().name("ports").unit(Unit.builder().name("web").image("tiny").memoryMib(256)
        .nodePort(new dev.pods.spec.NodePort(dev.pods.spec.Protocol.TCP, 8080, 80)).build()).build();
    new ClusterPods(view).put(ports);
    await("ports/web-0 reported FAILED", () -> {
      StatusRecord r = statuses("ports").get("web-0");
      return r != null && r.state().equals("FAILED");
    });
    StatusRecord failed = statuses("ports").get("web-0");
    assertThat(failed.reason()).startsWith("node '" + failed.node() + "' cannot run it: ").contains("node port");
    assertThat(failed.privateAddress()).isNull();
    assertThat(events("ports")).filteredOn(PodEvent.StateChanged.class::isInstance)
        .anySatisfy(e -> assertThat(((PodEvent.StateChanged) e).to()).isEqualTo(InstanceState.FAILED));
    // the same node still builds what it can
    new ClusterPods(view).put(shop());
    await("every instance of shop READY on one host", () -> spreadAndReady(Set.of("h1", "h2", "h3")));
    // once the pod is removed, its FAILED report goes
    new ClusterPods(view).remove("ports");
    await("the FAILED report removed", () -> statuses("ports").isEmpty());
  }

  @Test
  void aNewerPodDocumentIsAppliedOnEveryHost() throws Exception {
    fresh();
    new ClusterPods(view).put(shop());
    await("every instance READY on one host", () -> spreadAndReady(Set.of("h1", "h2", "h3")));
    Map<String, StatusRecord> before = statuses("shop");
    Pod bigger = shop().withUnit(shop().unit("web").orElseThrow().toBuilder().memoryMib(320).build());
    String v2 = StatusRecord.specVersion(bigger.unit("web").orElseThrow());
    String lb = StatusRecord.specVersion(bigger.unit("lb").orElseThrow());
    assertThat(before.get("web-0").specVersion()).isNotEqualTo(v2);
    new ClusterPods(view).put(bigger);
    await("every web instance READY on the new spec", () -> {
      Map<String, StatusRecord> s = statuses("shop");
      return s.size() == 4 && s.values().stream().allMatch(r -> r.state().equals("READY"))
          && s.entrySet().stream().allMatch(e -> e.getValue().specVersion().equals(e.getKey().startsWith("web")
          ? v2 : lb));
    });
    for (Host h : hosts.values()) {
      assertThat(h.host.runtime().deployment("shop").orElseThrow().pod()).isEqualTo(bigger);
    }
    Map<String, StatusRecord> after = statuses("shop");
    before.forEach((n, s) -> assertThat(after.get(n).node()).as(n).isEqualTo(s.node()));
  }

  @Test
  void aFencedHostStopsItsInstancesAndRunsNoDuplicateWhenItReturns() throws Exception {
    fresh();
    new ClusterPods(view).put(shop());
    Set<String> all = Set.of("h1", "h2", "h3");
    await("every instance READY on one host", () -> spreadAndReady(all));
    Map<String, StatusRecord> before = statuses("shop");
    String lost = before.get("web-0").node();
    Host h = hosts.get(lost);
    // its etcd connection gone: its keep-alives stop, it fences itself and the lease expires
    h.client.close();
    await("host " + lost + " fenced", () -> h.host.lost());
    assertThat(h.running("shop")).isEmpty();
    assertThat(h.domains()).isEmpty();
    Set<String> rest = new TreeSet<>(all);
    rest.remove(lost);
    await("every instance READY on the two others", () -> spreadAndReady(rest));
    // it returns (the runtime on the same state folder and hypervisor)
    h.host.close();
    h.join();
    await("host " + lost + " back", () -> new Nodes(view).list().stream()
        .anyMatch(n -> n.name().equals(lost) && n.health() == NodeStatus.Health.READY));
    // nothing runs twice: each instance is a running domain on exactly one host
    Map<String, Integer> copies = new HashMap<>();
    for (Host x : hosts.values()) {
      x.domains().forEach(d -> copies.merge(d, 1, Integer::sum));
    }
    assertThat(copies).hasSize(4).allSatisfy((d, n) -> assertThat(n).as(d).isEqualTo(1));
    Map<String, StatusRecord> after = statuses("shop");
    before.forEach((n, s) -> assertThat(after.get(n).privateAddress()).isEqualTo(s.privateAddress()));
  }

  /** Puts an exec request for {@code pod}'s {@code instance} to {@code node} and waits for its answer. */
  private ExecRecord.Result exec(String node, String instance, String... argv) throws Exception {
    String id = UUID.randomUUID().toString();
    long lease = view.call("test lease", () -> view.client().getLeaseClient().grant(60)).getID();
    ExecRecord req = new ExecRecord("shop", instance, List.of(argv), null, 10_000);
    view.call("test exec", () -> view.kv().put(view.key(ClusterKeys.EXEC + node + "/" + id),
        ByteSequence.from(ClusterJson.write(req)), PutOption.builder().withLeaseId(lease).build()));
    String key = ClusterKeys.EXEC_RESULT + id;
    await("answer of exec " + id, () -> !get(key).isEmpty());
    return ClusterJson.read(get(key).get(0).getValue().getBytes(), ExecRecord.Result.class, key);
  }

  private List<PodEvent> events(String pod) {
    List<PodEvent> out = new ArrayList<>();
    for (KeyValue kv : get(ClusterKeys.EVENTS + pod + "/")) {
      out.add(EventRecord.read(kv.getValue().getBytes(), ClusterKeys.text(kv.getKey())));
    }
    return out;
  }
}
