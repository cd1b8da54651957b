package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.etcd.Assignment.State;
import dev.pods.spec.InstanceOptions;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** {@link Placement}: capacity, spread, pins, disks and lost nodes, with the explanations. */
class PlacementTest {

  static NodeStatus node(String name, int cpus, int memoryMib) {
    return new NodeStatus(name, "10.250.0." + name.substring(1), cpus, memoryMib, memoryMib, List.of(), 0, 0,
        NodeStatus.Health.READY, false);
  }

  static List<DesiredInstance> web(int count, int memoryMib) {
    List<DesiredInstance> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(new DesiredInstance("shop", "web", i, 1, memoryMib, null, List.of()));
    }
    return out;
  }

  static Map<String, Assignment> byId(List<Assignment> as) {
    return as.stream().collect(Collectors.toMap(Assignment::instance, a -> a));
  }

  static Map<String, String> nodes(List<Assignment> as) {
    Map<String, String> out = new HashMap<>();
    as.forEach(a -> out.put(a.instance(), a.node() == null ? "-" : a.node()));
    return out;
  }

  @Test
  void aUnitsInstancesSpreadOverTheNodesThenGoToTheLeastLoaded() {
    List<NodeStatus> live = List.of(node("h1", 4, 4096), node("h2", 4, 4096), node("h3", 4, 2048));
    List<Assignment> as = Placement.place(web(4, 512), live, Map.of());
    assertThat(nodes(as)).containsEntry("shop/web-0", "h1").containsEntry("shop/web-1", "h2")
        .containsEntry("shop/web-2", "h3").containsEntry("shop/web-3", "h1");
    assertThat(as).allSatisfy(a -> assertThat(a.state()).isEqualTo(State.PLACED));
    assertThat(as.get(1).why()).isEqualTo("web-1 on h2: least loaded of h2, h3 (h2: 0/4096 MiB and 0/4 CPUs"
        + " assigned); h1 already runs web-0");
    assertThat(as.get(2).why()).isEqualTo("web-2 on h3: fewest web instances (h3: 0/2048 MiB and 0/4 CPUs"
        + " assigned); h1 already runs web-0; h2 already runs web-1");
    // web-3: all three run one; h1 and h2 have 1/8 of their memory assigned, h3 1/4.
    assertThat(as.get(3).why()).startsWith("web-3 on h1: least loaded of h1, h2, h3 (h1: 512/4096 MiB");
  }

  @Test
  void nodesWithoutEnoughMemoryOrCpusAreSkippedAndNamed() {
    List<NodeStatus> live = List.of(node("h1", 1, 8192), node("h2", 8, 256), node("h3", 2, 1024));
    DesiredInstance big = new DesiredInstance("shop", "db", 0, 2, 1024, null, List.of());
    List<Assignment> as = Placement.place(List.of(big), live, Map.of());
    assertThat(as.get(0).node()).isEqualTo("h3");
    assertThat(as.get(0).why()).isEqualTo("db-0 on h3: the only node with room (h3: 0/1024 MiB and 0/2 CPUs"
        + " assigned); h1 lacks room (needs 1024 MiB and 2 CPUs, has 8192 MiB and 1 free); h2 lacks room (needs"
        + " 1024 MiB and 2 CPUs, has 256 MiB and 8 free)");

    List<Assignment> two = Placement.place(List.of(big, new DesiredInstance("shop", "db", 1, 2, 1024, null,
        List.of())), live, Map.of());
    assertThat(two.get(1).state()).isEqualTo(State.UNPLACEABLE);
    assertThat(two.get(1).node()).isNull();
    assertThat(two.get(1).why()).startsWith("db-1 unplaced: no live node has room: h1 lacks room")
        .contains("h3 lacks room (needs 1024 MiB and 2 CPUs, has 0 MiB and 0 free)");
  }

  @Test
  void theReportedFreeMemoryCountsForInstancesTheNodeDoesNotRunYet() {
    NodeStatus busy = new NodeStatus("h1", "a", 8, 8192, 600, List.of("shop/web-0"), 0, 0, NodeStatus.Health.READY,
        false);
    Map<String, Assignment> current = Map.of("shop/web-0",
        new Assignment("shop/web-0", "h1", State.PLACED, "before"));
    // web-0 runs there already (its memory is out of the reported 600 MiB); web-1 fits once, web-2 does not.
    List<Assignment> as = Placement.place(web(3, 512), List.of(busy), current);
    assertThat(as).extracting(Assignment::state).containsExactly(State.PLACED, State.PLACED, State.UNPLACEABLE);
    assertThat(as.get(0).why()).isEqualTo("before");
  }

  @Test
  void placedInstancesStayWhereTheyAre() {
    List<NodeStatus> live = List.of(node("h1", 4, 4096), node("h2", 4, 4096));
    Map<String, Assignment> current = new HashMap<>();
    for (int i = 0; i < 3; i++) {
      current.put("shop/web-" + i, new Assignment("shop/web-" + i, "h1", State.PLACED, "earlier"));
    }
    List<Assignment> as = Placement.place(web(4, 512), live, current);
    assertThat(as.subList(0, 3)).allSatisfy(a -> assertThat(a.node()).isEqualTo("h1"));
    assertThat(as.get(3).node()).isEqualTo("h2");
    assertThat(Placement.place(web(4, 512), live, byId(as))).isEqualTo(as);
  }

  @Test
  void aPinnedUnitGoesToItsNodeOrWaitsForIt() {
    List<NodeStatus> live = List.of(node("h1", 4, 4096), node("h2", 1, 1024));
    List<DesiredInstance> db = List.of(new DesiredInstance("shop", "db", 0, 1, 512, "h2", List.of()),
        new DesiredInstance("shop", "db", 1, 1, 512, "h2", List.of()),
        new DesiredInstance("shop", "cache", 0, 1, 512, "h9", List.of()));
    Map<String, Assignment> m = byId(Placement.place(db, live, Map.of()));
    assertThat(m.get("shop/db-0")).isEqualTo(new Assignment("shop/db-0", "h2", State.PLACED,
        "db-0 on h2: its unit is pinned there (node key)"));
    assertThat(m.get("shop/db-1").state()).isEqualTo(State.WAITING);
    assertThat(m.get("shop/db-1").why()).isEqualTo("db-1 waits for h2: its unit is pinned there (node key) and h2"
        + " lacks room (needs 512 MiB and 1 CPU, has 512 MiB and 0 free)");
    assertThat(m.get("shop/cache-0")).isEqualTo(new Assignment("shop/cache-0", "h9", State.WAITING,
        "cache-0 waits for h9: its unit is pinned there (node key) and h9 is not a live node"));
  }

  @Test
  void aPinnedInstanceWaitingForRoomKeepsWaitingUntilThereIsRoom() {
    DesiredInstance db1 = new DesiredInstance("shop", "db", 1, 1, 512, "h2", List.of());
    Map<String, Assignment> waiting = Map.of("shop/db-1", new Assignment("shop/db-1", "h2", State.WAITING, "before"));
    NodeStatus full = new NodeStatus("h2", "a", 1, 1024, 1024, List.of(), 0, 0, NodeStatus.Health.READY, false);
    DesiredInstance db0 = new DesiredInstance("shop", "db", 0, 1, 512, "h2", List.of());
    Map<String, Assignment> current = new HashMap<>(waiting);
    current.put("shop/db-0", new Assignment("shop/db-0", "h2", State.PLACED, "earlier"));
    assertThat(byId(Placement.place(List.of(db0, db1), List.of(full), current)).get("shop/db-1").state())
        .isEqualTo(State.WAITING);
    assertThat(byId(Placement.place(List.of(db1), List.of(full), waiting)).get("shop/db-1"))
        .isEqualTo(new Assignment("shop/db-1", "h2", State.PLACED, "db-1 on h2: its unit is pinned there (node key)"));
  }

  @Test
  void aLostNodesInstancesMoveButOneWithALocalDiskWaitsForItsNode() {
    Map<String, Assignment> current = new HashMap<>();
    current.put("shop/web-0", new Assignment("shop/web-0", "h2", State.PLACED, "earlier"));
    current.put("shop/db-0", new Assignment("shop/db-0", "h2", State.PLACED, "earlier"));
    List<DesiredInstance> desired = List.of(new DesiredInstance("shop", "web", 0, 1, 512, null, List.of()),
        new DesiredInstance("shop", "db", 0, 1, 512, null, List.of("shop-db")));
    List<NodeStatus> survivors = List.of(node("h1", 4, 4096), node("h3", 4, 4096));

    Map<String, Assignment> after = byId(Placement.place(desired, survivors, current));
    assertThat(after.get("shop/web-0").node()).isEqualTo("h1");
    assertThat(after.get("shop/web-0").why()).startsWith("web-0 on h1 (moved from h2, which is not live): least"
        + " loaded of h1, h3");
    assertThat(after.get("shop/db-0")).isEqualTo(new Assignment("shop/db-0", "h2", State.WAITING,
        "db-0 waits for h2: its disk shop-db is local to h2, which is not live"));

    List<NodeStatus> back = List.of(node("h1", 4, 4096), node("h2", 4, 4096), node("h3", 4, 4096));
    Map<String, Assignment> later = byId(Placement.place(desired, back, after));
    assertThat(later.get("shop/db-0")).isEqualTo(new Assignment("shop/db-0", "h2", State.PLACED,
        "db-0 on h2: its node is back"));
    assertThat(later.get("shop/web-0")).isEqualTo(after.get("shop/web-0"));
  }

  @Test
  void desiredInstancesComeFromThePodWithPinAndDisks() {
    Unit db = Unit.builder().name("db").image("tiny").count(2).processors(2).memoryMib(768)
        .options(new InstanceOptions(null, Reference.parse("+/node/h2"), null, null, null, null, null, null, null,
            null, null, null, null, null, null, List.of(), List.of(), null))
        .mount(new Mount(null, Mount.Type.DISK, "/data", null,
            List.of(Reference.parse("+/disk/d0"), Reference.parse("+/disk/d1")), false, null))
        .build();
    Pod pod = Pod.builder().name("shop").unit(db).unit(Unit.builder().name("web").image("tiny").build()).build();
    assertThat(DesiredInstance.of(pod)).containsExactly(
        new DesiredInstance("shop", "db", 0, 2, 768, "h2", List.of("d0")),
        new DesiredInstance("shop", "db", 1, 2, 768, "h2", List.of("d1")),
        new DesiredInstance("shop", "web", 0, 1, Unit.builder().name("x").image("tiny").build().memoryMib(), null,
            List.of()));
  }
}
