package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.Pod;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.etcd.Assignment.State;
import dev.pods.etcd.internal.ClusterJson;
import dev.pods.etcd.internal.NodeRecord;
import dev.pods.spec.InstanceOptions;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpPoolSpec;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Nodes, the leader, placement and node loss on a real three-member etcd on loopback, with three nodes in this JVM,
 * each on its own etcd connection (closing a node's connection without leaving is what etcd sees of a node whose
 * JVM was killed: its keep-alives stop and its lease expires).
 */
class ClusterTest {
  static final Duration LEASE = Duration.ofSeconds(4);
  private static EtcdCluster etcd;
  private static int runs;
  private final List<AutoCloseable> open = new ArrayList<>();
  private String prefix = "";
  private Client observer;
  private EtcdKeyspace view;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.start(3);
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

  private void fresh() {
    prefix = "/pods-test/cluster-" + runs++;
    observer = client();
    view = EtcdKeyspace.of(observer, prefix);
  }

  private Client client() {
    Client c = etcd.client();
    open.add(c);
    return c;
  }

  /** A node on a connection of its own; returns the connection too, to kill it. */
  record Joined(ClusterNode node, Client client, RecordingInstances host) {}

  /** Private addresses, a pool every host allocates from on its own connection. */
  static final IpPoolSpec PRIVATE = IpPoolSpec.subnets("private", Cidr.parse("10.97.0.0/16"), 30);

  private Joined join(String name, int cpus, int memoryMib, RecordingInstances host) {
    Client c = client();
    host.addressesFrom(new EtcdIpAddressPool(EtcdKeyspace.of(c, prefix), PRIVATE));
    ClusterNode n = ClusterNode.join(EtcdKeyspace.of(c, prefix), new NodeSpec(name, "10.250.0." + name.substring(1),
        cpus, memoryMib), host, LEASE);
    open.add(n);
    return new Joined(n, c, host);
  }

  private void await(String what, Duration timeout, BooleanSupplier done) throws Exception {
    Waits.until(view, what, timeout, done);
  }

  private Map<String, NodeStatus> nodes() {
    Map<String, NodeStatus> out = new HashMap<>();
    new Nodes(view).list().forEach(n -> out.put(n.name(), n));
    return out;
  }

  private static Pod shop(int webs) {
    return Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("tiny").count(webs).memoryMib(256).build())
        .build();
  }

  @Test
  void nodesRegisterAndTheViewShowsCapacityLoadHealthAndOneLeader() throws Exception {
    fresh();
    Joined h1 = join("h1", 4, 4096, new RecordingInstances());
    Joined h2 = join("h2", 2, 2048, new RecordingInstances());
    await("one leader", Duration.ofSeconds(20), () -> nodes().values().stream().filter(NodeStatus::leader).count() == 1);
    Map<String, NodeStatus> all = nodes();
    assertThat(all.get("h1")).isEqualTo(new NodeStatus("h1", "10.250.0.1", 4, 4096, 4096, List.of(), 0, 0,
        NodeStatus.Health.READY, all.get("h1").leader()));
    assertThat(all.get("h2").memoryMib()).isEqualTo(2048);
    assertThat(h1.node().leads() || h2.node().leads()).isTrue();
    assertThat(h1.node().leads() && h2.node().leads()).isFalse();

    h2.node().reportFreeMemory(1500);
    await("h2's load", Duration.ofSeconds(10), () -> nodes().get("h2").freeMemoryMib() == 1500);

    assertThatThrownBy(() -> join("h2", 1, 1024, new RecordingInstances()))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("node 'h2' cannot join the cluster under " + prefix)
        .hasMessageContaining("a live lease holds that name");
    assertThat(nodes()).hasSize(2);

    long cut = System.nanoTime();
    h2.client().close(); // what etcd sees of a killed JVM
    await("h2 lost", LEASE.multipliedBy(3), () -> nodes().get("h2").health() == NodeStatus.Health.LOST);
    long lostAfter = (System.nanoTime() - cut) / 1_000_000;
    // The lease runs from the last keep-alive, which jetcd sends every third of the lease (checked every 0.5 s).
    assertThat(lostAfter).as("h2 lost after (ms)").isGreaterThanOrEqualTo(LEASE.toMillis() * 2 / 3 - 600);
    assertThat(nodes().get("h2")).isEqualTo(new NodeStatus("h2", "10.250.0.2", 2, 2048, 0, List.of(), 0, 0,
        NodeStatus.Health.LOST, false));
    // Once the lease is gone, the name is free again: a node comes back under it.
    join("h2", 2, 2048, new RecordingInstances());
    assertThat(nodes().get("h2").health()).isEqualTo(NodeStatus.Health.READY);
  }

  @Test
  void thePodSpreadsOverTheNodesEachRunningWhatIsAssignedToIt() throws Exception {
    fresh();
    List<Joined> hs = List.of(join("h1", 4, 4096, new RecordingInstances()),
        join("h2", 4, 4096, new RecordingInstances()), join("h3", 4, 4096, new RecordingInstances()));
    Unit db = Unit.builder().name("db").image("tiny").memoryMib(512)
        .options(pin("h2")).build();
    ClusterPods pods = new ClusterPods(view);
    pods.put(shop(3).withUnit(db));
    await("4 instances running", Duration.ofSeconds(30), () -> runningEverywhere(hs).size() == 4);

    Map<String, Assignment> as = pods.assignments();
    assertThat(as).containsOnlyKeys("shop/web-0", "shop/web-1", "shop/web-2", "shop/db-0");
    assertThat(as.values()).allSatisfy(a -> assertThat(a.state()).isEqualTo(State.PLACED));
    assertThat(new TreeSet<>(List.of(as.get("shop/web-0").node(), as.get("shop/web-1").node(),
        as.get("shop/web-2").node()))).containsExactly("h1", "h2", "h3");
    assertThat(as.get("shop/db-0")).isEqualTo(new Assignment("shop/db-0", "h2", State.PLACED,
        "db-0 on h2: its unit is pinned there (node key)"));
    assertThat(as.get("shop/web-1").why()).startsWith("web-1 on ").contains("already runs web-0");
    for (Joined h : hs) {
      Set<String> mine = new TreeSet<>();
      as.values().stream().filter(a -> h.node().name().equals(a.node())).forEach(a -> mine.add(a.instance()));
      assertThat(h.host().running()).as(h.node().name()).isEqualTo(mine);
    }
    await("records list what runs", Duration.ofSeconds(10), () -> nodes().values().stream()
        .allMatch(n -> new TreeSet<>(n.instances()).equals(hs.stream().filter(h -> h.node().name().equals(n.name()))
            .findFirst().orElseThrow().host().running())));
    assertThat(nodes().get("h2").assignedMemoryMib()).isEqualTo(256 + 512);

    pods.put(shop(2).withUnit(db)); // scale down: web-2 goes
    await("web-2 stopped, then its assignment removed", Duration.ofSeconds(20),
        () -> runningEverywhere(hs).size() == 3 && !pods.assignments().containsKey("shop/web-2"));
    assertThat(runningEverywhere(hs)).doesNotContain("shop/web-2");

    // h3 leaves: it stops what it runs, its lease is revoked, the leader moves its instances without waiting.
    Joined h3 = hs.get(2);
    Set<String> had = h3.host().running();
    long leave = System.nanoTime();
    h3.node().close();
    assertThat(h3.host().running()).isEmpty();
    await("h3's instances running on h1 and h2", Duration.ofSeconds(20),
        () -> hs.subList(0, 2).stream().flatMap(h -> h.host().running().stream()).toList().containsAll(had));
    assertThat((System.nanoTime() - leave) / 1_000_000).as("moved after a leave (ms)").isLessThan(LEASE.toMillis());
    assertThat(nodes().get("h3").health()).isEqualTo(NodeStatus.Health.LOST);

    pods.remove("shop");
    await("everything stopped and unassigned", Duration.ofSeconds(20),
        () -> runningEverywhere(hs).isEmpty() && pods.assignments().isEmpty());
  }

  @Test
  void lostNodesInstancesMoveAndTheyGiveThemUpWhenTheyComeBack() throws Exception {
    fresh();
    List<Joined> hs = new ArrayList<>(List.of(join("h1", 4, 4096, new RecordingInstances()),
        join("h2", 4, 4096, new RecordingInstances()), join("h3", 4, 4096, new RecordingInstances())));
    await("a leader", Duration.ofSeconds(20), () -> hs.stream().anyMatch(h -> h.node().leads()));
    String leader = hs.stream().filter(h -> h.node().leads()).findFirst().orElseThrow().node().name();
    // The two nodes that are not the leader are lost one after the other: the second while the leader is
    // reassigning the first one's instances (it may be receiving one of them). db-0 is pinned to the second.
    List<Joined> victims = hs.stream().filter(h -> !h.node().name().equals(leader)).toList();
    Joined first = victims.get(0);
    Joined second = victims.get(1);
    String dbNode = second.node().name();
    ClusterPods pods = new ClusterPods(view);
    Unit db = Unit.builder().name("db").image("tiny").memoryMib(256).options(pin(dbNode))
        .mount(new Mount(null, Mount.Type.DISK, "/data", null, List.of(Reference.parse("+/disk/shop-db")), false,
            null))
        .build();
    pods.put(shop(3).withUnit(db));
    await("4 instances running", Duration.ofSeconds(30), () -> runningEverywhere(hs).size() == 4);
    long from = revision();
    assertThat(hostOf(hs, leader).running()).hasSize(1);
    Set<String> firstRan = first.host().running();
    long cut = System.nanoTime();
    first.client().close();
    await("a first instance of " + first.node().name() + " reassigned", LEASE.multipliedBy(4),
        () -> pods.assignments().values().stream().anyMatch(a -> firstRan.contains(a.instance())
            && a.state() == State.PLACED && !first.node().name().equals(a.node())));
    long firstMoved = (System.nanoTime() - cut) / 1_000_000;
    Set<String> secondRan = second.host().running();
    second.client().close();
    await("everything movable on " + leader, LEASE.multipliedBy(6), () -> {
      Map<String, Assignment> as = pods.assignments();
      return as.values().stream().filter(a -> a.state() == State.PLACED).allMatch(a -> leader.equals(a.node()))
          && as.get("shop/db-0").state() == State.WAITING && hostOf(hs, leader).running().size() == 3;
    });
    // What moved to the leader kept its private address: the pool's claim is the instance's, not the node's.
    for (String moved : firstRan) {
      if (!moved.equals("shop/db-0")) {
        assertThat(hostOf(hs, leader).addresses().get(moved)).as(moved + "'s address")
            .isEqualTo(first.host().addresses().get(moved));
      }
    }
    assertThat(pods.assignments().get("shop/db-0")).isEqualTo(new Assignment("shop/db-0", dbNode, State.WAITING,
        "db-0 waits for " + dbNode + ": its disk shop-db is local to " + dbNode + ", which is not live"));
    await("both lost nodes fenced", LEASE.multipliedBy(2), () -> first.node().lost() && second.node().lost());
    assertThat(first.host().running()).isEmpty();
    assertThat(second.host().running()).isEmpty();
    System.out.printf("node loss: first instance reassigned %d ms after the cut (lease %d ms)%n", firstMoved,
        LEASE.toMillis());

    // They come back, their hosts still running what they ran (domains outlive a killed JVM).
    Joined back1 = join(first.node().name(), 4, 4096, new RecordingInstances(firstRan.toArray(String[]::new)));
    Joined back2 = join(second.node().name(), 4, 4096, new RecordingInstances(secondRan.toArray(String[]::new)));
    for (Joined b : List.of(back1, back2)) {
      List<String> log = b.host().log();
      Set<String> ran = b == back1 ? firstRan : secondRan;
      Set<String> givenUp = new TreeSet<>(ran);
      givenUp.remove("shop/db-0");
      assertThat(log.subList(0, givenUp.size())).as(b.node().name() + " gives up first")
          .containsExactlyInAnyOrderElementsOf(givenUp.stream().map(i -> "stop " + i).toList());
      assertThat(b.host().running()).isEqualTo(ran.contains("shop/db-0") ? Set.of("shop/db-0") : Set.of());
    }
    await("db-0 back on " + dbNode, Duration.ofSeconds(20), () -> pods.assignments().get("shop/db-0").state()
        == State.PLACED);
    assertThat(pods.assignments().get("shop/db-0").why()).isEqualTo("db-0 on " + dbNode + ": its node is back");
    assertThat(hostOf(List.of(back1, back2), dbNode).log()).doesNotContain("start shop/db-0");
    assertThat(hostOf(List.of(back1, back2), dbNode).running()).containsExactly("shop/db-0");
    checkNoInstanceListedTwice(from, revision());
  }

  @Test
  void losingTheLeaderMovesPlacementToAnotherNodeWithinALeasePeriod() throws Exception {
    fresh();
    List<Joined> hs = List.of(join("h1", 4, 4096, new RecordingInstances()),
        join("h2", 4, 4096, new RecordingInstances()), join("h3", 4, 4096, new RecordingInstances()));
    ClusterPods pods = new ClusterPods(view);
    pods.put(shop(3));
    await("3 instances running", Duration.ofSeconds(30), () -> runningEverywhere(hs).size() == 3);
    long from = revision();
    Joined leader = hs.stream().filter(h -> h.node().leads()).findFirst().orElseThrow();
    String lost = leader.host().running().iterator().next();
    long cut = System.nanoTime();
    leader.client().close();
    await("another leader", LEASE.multipliedBy(3), () -> hs.stream().anyMatch(h -> h != leader && h.node().leads()));
    long handOver = (System.nanoTime() - cut) / 1_000_000;
    await(lost + " running elsewhere", LEASE.multipliedBy(3), () -> hs.stream().anyMatch(h -> h != leader
        && h.host().running().contains(lost)));
    long moved = (System.nanoTime() - cut) / 1_000_000;
    System.out.printf("leader loss: new leader after %d ms, its instance running elsewhere after %d ms (lease %d"
        + " ms)%n", handOver, moved, LEASE.toMillis());
    assertThat(handOver).as("hand-over (ms)").isLessThan(LEASE.toMillis() + 3000);
    assertThat(nodes().values().stream().filter(NodeStatus::leader).map(NodeStatus::name).toList())
        .hasSize(1).doesNotContain(leader.node().name());
    checkNoInstanceListedTwice(from, revision());
  }

  @Test
  @Timeout(120)
  void aNodeWhoseJvmIsKilledLosesItsInstancesToTheOthers() throws Exception {
    fresh();
    List<Joined> hs = List.of(join("h1", 4, 4096, new RecordingInstances()),
        join("h2", 4, 4096, new RecordingInstances()));
    List<String> cmd = new ArrayList<>(List.of(
        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), NodeMain.class.getName(), prefix, "h3",
        Long.toString(LEASE.toSeconds())));
    cmd.addAll(List.of(etcd.endpoints()));
    Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream(),
          StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("joined h3");
      ClusterPods pods = new ClusterPods(view);
      pods.put(shop(3));
      String onChild = out.readLine(); // the instance the leader put on h3
      assertThat(onChild).startsWith("start shop/web-");
      String instance = onChild.substring("start ".length());
      await("h3's record lists " + instance, Duration.ofSeconds(20),
          () -> nodes().get("h3").instances().contains(instance));
      long from = revision();
      long cut = System.nanoTime();
      child.destroyForcibly(); // SIGKILL
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      await(instance + " running elsewhere", LEASE.multipliedBy(3),
          () -> hs.stream().anyMatch(h -> h.host().running().contains(instance)));
      System.out.printf("SIGKILL of a node's JVM: its instance running elsewhere after %d ms (lease %d ms)%n",
          (System.nanoTime() - cut) / 1_000_000, LEASE.toMillis());
      assertThat(nodes().get("h3").health()).isEqualTo(NodeStatus.Health.LOST);
      assertThat(runningEverywhere(hs)).containsExactlyInAnyOrder("shop/web-0", "shop/web-1", "shop/web-2");
      checkNoInstanceListedTwice(from, revision());
    } finally {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aNodeThatTakesLongerThanItsLeaseToGiveUpWhatMovedAwayStillJoins() throws Exception {
    fresh();
    Joined h1 = join("h1", 4, 4096, new RecordingInstances());
    Joined h2 = join("h2", 4, 4096, new RecordingInstances());
    ClusterPods pods = new ClusterPods(view);
    pods.put(shop(2));
    await("2 instances running", Duration.ofSeconds(30), () -> runningEverywhere(List.of(h1, h2)).size() == 2);
    Set<String> ran = h2.host().running();
    assertThat(ran).hasSize(1);
    h2.client().close();
    await("h2's instance on h1", LEASE.multipliedBy(4), () -> h1.host().running().size() == 2);

    // h2 comes back with its instance still running (a killed JVM leaves its domains); stopping it takes longer
    // than the lease, which nothing keeps alive before the node registered
    RecordingInstances back = new RecordingInstances(ran.toArray(String[]::new));
    LocalInstances slow = new LocalInstances() {
      @Override
      public Set<String> running() {
        return back.running();
      }

      @Override
      public void start(Assignment assignment) {
        back.start(assignment);
      }

      @Override
      public void stop(String instance) {
        try {
          Thread.sleep(LEASE.plusSeconds(1).toMillis()); // a slow stop (a guest's shutdown), not a wait for anything
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        back.stop(instance);
      }
    };
    ClusterNode again = ClusterNode.join(EtcdKeyspace.of(client(), prefix), new NodeSpec("h2", "10.250.0.2", 4, 4096),
        slow, LEASE);
    open.add(again);
    assertThat(back.log()).containsExactly("stop " + ran.iterator().next());
    assertThat(nodes().get("h2").health()).isEqualTo(NodeStatus.Health.READY);
    assertThat(again.lost()).isFalse();
  }

  private static RecordingInstances hostOf(List<Joined> hs, String name) {
    return hs.stream().filter(h -> h.node().name().equals(name)).findFirst().orElseThrow().host();
  }

  private long revision() throws Exception {
    return observer.getKVClient().get(ByteSequence.from(prefix, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS)
        .getHeader().getRevision();
  }

  /**
   * At every etcd revision in [from, to]: no instance is listed by two node records, and a node record lists an
   * instance only while the instance's assignment names that node.
   */
  private void checkNoInstanceListedTwice(long from, long to) throws Exception {
    ByteSequence nodesDir = ByteSequence.from(prefix + "/" + ClusterKeys.NODES, StandardCharsets.UTF_8);
    ByteSequence assignDir = ByteSequence.from(prefix + "/" + ClusterKeys.ASSIGN, StandardCharsets.UTF_8);
    int listings = 0;
    for (long rev = from; rev <= to; rev++) {
      GetOption at = GetOption.builder().isPrefix(true).withRevision(rev).build();
      Map<String, String> assigned = new HashMap<>();
      for (KeyValue kv : observer.getKVClient().get(assignDir, at).get(10, TimeUnit.SECONDS).getKvs()) {
        Assignment a = ClusterJson.read(kv.getValue().getBytes(), Assignment.class, "assignment");
        assigned.put(a.instance(), a.node());
      }
      Map<String, String> listedBy = new HashMap<>();
      for (KeyValue kv : observer.getKVClient().get(nodesDir, at).get(10, TimeUnit.SECONDS).getKvs()) {
        NodeRecord n = ClusterJson.read(kv.getValue().getBytes(), NodeRecord.class, "node");
        for (String i : n.instances()) {
          String before = listedBy.put(i, n.name());
          assertThat(before).as("revision %d: %s listed by %s and %s", rev, i, before, n.name()).isNull();
          assertThat(assigned.get(i)).as("revision %d: %s listed by %s", rev, i, n.name()).isEqualTo(n.name());
          listings++;
        }
      }
    }
    assertThat(listings).as("instances listed over the revisions").isPositive();
  }

  static InstanceOptions pin(String node) {
    return new InstanceOptions(null, Reference.parse("+/node/" + node), null, null, null, null, null, null, null,
        null, null, null, null, null, null, List.of(), List.of(), null);
  }

  private static List<String> runningEverywhere(List<Joined> hs) {
    List<String> all = new ArrayList<>();
    hs.forEach(h -> all.addAll(h.host().running()));
    return all;
  }
}
