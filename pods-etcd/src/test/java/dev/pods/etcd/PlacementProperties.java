package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.etcd.Assignment.State;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** {@link Placement} over random clusters: never more than a node offers, only live nodes, spread, stable. */
class PlacementProperties {

  @Property(tries = 300)
  void placementNeverOvercommitsAndUsesOnlyLiveNodes(
      @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 1, max = 8) Integer> nodeCpus,
      @ForAll @Size(min = 0, max = 40) List<@IntRange(min = 1, max = 3) Integer> instanceCpus,
      @ForAll @IntRange(min = 0, max = 5) int deadNode) {
    List<NodeStatus> nodes = new ArrayList<>();
    for (int i = 0; i < nodeCpus.size(); i++) {
      nodes.add(new NodeStatus("h" + i, "a", nodeCpus.get(i), 1024 * nodeCpus.get(i), 1024 * nodeCpus.get(i),
          List.of(), 0, 0, i == deadNode ? NodeStatus.Health.LOST : NodeStatus.Health.READY, false));
    }
    List<DesiredInstance> desired = new ArrayList<>();
    for (int i = 0; i < instanceCpus.size(); i++) {
      desired.add(new DesiredInstance("p", "u" + (i % 3), i, instanceCpus.get(i), 512 * instanceCpus.get(i), null,
          List.of()));
    }
    List<Assignment> as = Placement.place(desired, nodes, Map.of());
    assertThat(as).hasSameSizeAs(desired);
    Map<String, Integer> cpus = new HashMap<>();
    Map<String, Integer> mem = new HashMap<>();
    Map<String, DesiredInstance> byId = new HashMap<>();
    desired.forEach(d -> byId.put(d.id(), d));
    for (Assignment a : as) {
      if (a.state() == State.PLACED) {
        assertThat(a.node()).isNotEqualTo("h" + deadNode);
        cpus.merge(a.node(), byId.get(a.instance()).cpus(), Integer::sum);
        mem.merge(a.node(), byId.get(a.instance()).memoryMib(), Integer::sum);
      } else {
        assertThat(a.state()).isEqualTo(State.UNPLACEABLE);
      }
    }
    for (NodeStatus n : nodes) {
      assertThat(cpus.getOrDefault(n.name(), 0)).isLessThanOrEqualTo(n.cpus());
      assertThat(mem.getOrDefault(n.name(), 0)).isLessThanOrEqualTo(n.memoryMib());
    }
    Map<String, Assignment> current = new HashMap<>();
    as.forEach(a -> current.put(a.instance(), a));
    List<Assignment> again = Placement.place(desired, nodes, current);
    for (int i = 0; i < as.size(); i++) {
      if (as.get(i).state() == State.PLACED) {
        assertThat(again.get(i)).as("placing again keeps a placed instance").isEqualTo(as.get(i));
      } else {
        assertThat(again.get(i).state()).isEqualTo(State.UNPLACEABLE);
      }
    }
  }

  @Property(tries = 200)
  void aUnitsInstancesSpreadEvenlyWhenRoomIsAmple(
      @ForAll @IntRange(min = 1, max = 6) int nodeCount, @ForAll @IntRange(min = 0, max = 30) int count) {
    List<NodeStatus> nodes = new ArrayList<>();
    for (int i = 0; i < nodeCount; i++) {
      nodes.add(PlacementTest.node("h" + i, 64, 65536));
    }
    Map<String, Integer> per = new HashMap<>();
    Placement.place(PlacementTest.web(count, 256), nodes, Map.of()).forEach(a -> per.merge(a.node(), 1,
        Integer::sum));
    int max = per.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    int min = per.size() < nodeCount ? 0 : per.values().stream().mapToInt(Integer::intValue).min().orElse(0);
    assertThat(max - min).isLessThanOrEqualTo(1);
  }
}
