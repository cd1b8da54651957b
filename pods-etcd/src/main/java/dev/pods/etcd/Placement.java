package dev.pods.etcd;

import dev.pods.etcd.Assignment.State;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Placement: which live node runs each desired instance, and why. A pure function of its arguments (no I/O, no
 * clock, no randomness: the same arguments give the same assignments), used by the leader.
 *
 * <p>Rules, in order:
 * <ol>
 *   <li>An instance already placed on a live node stays there, and its CPUs and memory count on that node.</li>
 *   <li>An instance whose node is not live any more moves to another node, unless it uses a named persistent disk
 *       (which is local to the node that ran it): then it is {@link State#WAITING} for its node, not moved, and
 *       goes back to it when the node is live again.</li>
 *   <li>An instance whose unit is pinned ({@link DesiredInstance#node()}, the template's {@code node} key) is
 *       placed on that node only; when the node is not live or lacks room, it waits for it.</li>
 *   <li>Otherwise it goes to a node with enough free CPUs and memory: of those, one running the fewest instances of
 *       its unit (spread), and of those the least loaded (assigned memory over offered memory, then assigned CPUs
 *       over offered CPUs, then the name). With no such node it is {@link State#UNPLACEABLE}.</li>
 * </ol>
 * A node's free CPUs are its offered CPUs less those of the instances assigned to it. Its free memory is the
 * smaller of its offered memory less the memory of the instances assigned to it, and the free memory it last
 * reported less the memory of the instances assigned to it that it does not run yet. Instances are placed in the
 * order of pod, unit and index.
 *
 * @since 0.1
 */
public final class Placement {
  private Placement() {}

  /**
   * The assignment of every desired instance, in the order of {@code desired} sorted by pod, unit and index.
   *
   * @param desired the instances to run
   * @param live the live nodes ({@link NodeStatus.Health#READY}; other ones are ignored)
   * @param current the assignments made before, by instance id (those of instances not desired are ignored)
   */
  public static List<Assignment> place(List<DesiredInstance> desired, List<NodeStatus> live,
      Map<String, Assignment> current) {
    Objects.requireNonNull(current, "current");
    Map<String, Room> rooms = new TreeMap<>();
    for (NodeStatus n : live) {
      if (n.health() == NodeStatus.Health.READY) {
        rooms.put(n.name(), new Room(n));
      }
    }
    List<DesiredInstance> order = new ArrayList<>(desired);
    order.sort(Comparator.comparing(DesiredInstance::pod).thenComparing(DesiredInstance::unit)
        .thenComparingInt(DesiredInstance::index));
    Map<String, Assignment> out = new HashMap<>();
    // 1. What is placed on a live node stays there, and reserves its room first.
    for (DesiredInstance d : order) {
      Assignment a = current.get(d.id());
      if (a != null && a.state() == State.PLACED && rooms.containsKey(a.node())) {
        rooms.get(a.node()).take(d);
        out.put(d.id(), a);
      }
    }
    // 2. The rest, in order.
    for (DesiredInstance d : order) {
      if (out.containsKey(d.id())) {
        continue;
      }
      Assignment a = current.get(d.id());
      @Nullable String before = a == null ? null : a.node();
      if (before != null && !d.disks().isEmpty()) {
        Room r = rooms.get(before);
        if (r != null) {
          r.take(d); // its disk is there: it goes back whatever else the node took meanwhile
          out.put(d.id(), new Assignment(d.id(), before, State.PLACED, d.name() + " on " + before
              + ": its node is back"));
        } else {
          out.put(d.id(), new Assignment(d.id(), before, State.WAITING, d.name() + " waits for " + before
              + ": its disk " + String.join(", ", d.disks()) + " is local to " + before + ", which is not live"));
        }
      } else if (d.node() != null) {
        out.put(d.id(), pinned(d, rooms));
      } else {
        out.put(d.id(), choose(d, rooms, a != null && a.state() == State.PLACED ? before : null));
      }
    }
    return order.stream().map(d -> out.get(d.id())).toList();
  }

  private static Assignment pinned(DesiredInstance d, Map<String, Room> rooms) {
    String node = Objects.requireNonNull(d.node());
    Room r = rooms.get(node);
    if (r == null) {
      return new Assignment(d.id(), node, State.WAITING, d.name() + " waits for " + node + ": its unit is pinned"
          + " there (node key) and " + node + " is not a live node");
    }
    if (!r.fits(d)) {
      return new Assignment(d.id(), node, State.WAITING, d.name() + " waits for " + node + ": its unit is pinned"
          + " there (node key) and " + r.lacks(d));
    }
    r.take(d);
    return new Assignment(d.id(), node, State.PLACED, d.name() + " on " + node + ": its unit is pinned there"
        + " (node key)");
  }

  private static Assignment choose(DesiredInstance d, Map<String, Room> rooms, @Nullable String lost) {
    String moved = lost == null ? "" : " (moved from " + lost + ", which is not live)";
    List<Room> fits = rooms.values().stream().filter(r -> r.fits(d)).toList();
    List<String> without = rooms.values().stream().filter(r -> !r.fits(d)).map(r -> r.lacks(d)).toList();
    if (fits.isEmpty()) {
      String why = rooms.isEmpty() ? "there is no live node" : "no live node has room: " + String.join("; ", without);
      return new Assignment(d.id(), null, State.UNPLACEABLE, d.name() + " unplaced" + moved + ": " + why);
    }
    String unit = d.pod() + "/" + d.unit();
    int fewest = fits.stream().mapToInt(r -> r.ofUnit(unit).size()).min().orElseThrow();
    List<Room> spread = fits.stream().filter(r -> r.ofUnit(unit).size() == fewest)
        .sorted(Comparator.comparingDouble(Room::memoryLoad).thenComparingDouble(Room::cpuLoad)
            .thenComparing(r -> r.node.name()))
        .toList();
    Room chosen = spread.get(0);
    StringBuilder why = new StringBuilder(d.name()).append(" on ").append(chosen.node.name()).append(moved)
        .append(": ");
    if (fits.size() == 1) {
      why.append("the only node with room");
    } else if (spread.size() == 1) {
      why.append("fewest ").append(d.unit()).append(" instances");
    } else {
      why.append("least loaded of ").append(spread.stream().map(r -> r.node.name()).sorted()
          .collect(Collectors.joining(", ")));
    }
    why.append(" (").append(chosen.describe()).append(")");
    for (Room r : fits) {
      if (r.ofUnit(unit).size() > fewest) {
        why.append("; ").append(r.node.name()).append(" already runs ").append(String.join(", ", r.ofUnit(unit)));
      }
    }
    without.forEach(w -> why.append("; ").append(w));
    chosen.take(d);
    return new Assignment(d.id(), chosen.node.name(), State.PLACED, why.toString());
  }

  /** What is left of one live node while placing. */
  private static final class Room {
    final NodeStatus node;
    final Set<String> running;
    int cpus;
    int memory;
    int reported;
    final Map<String, List<String>> byUnit = new HashMap<>();

    Room(NodeStatus node) {
      this.node = node;
      this.running = new HashSet<>(node.instances());
      this.cpus = node.cpus();
      this.memory = node.memoryMib();
      this.reported = node.freeMemoryMib();
    }

    int freeMemory() {
      return Math.min(memory, reported);
    }

    boolean fits(DesiredInstance d) {
      return cpus >= d.cpus() && freeMemory() >= d.memoryMib();
    }

    String lacks(DesiredInstance d) {
      return node.name() + " lacks room (needs " + d.memoryMib() + " MiB and " + d.cpus() + " CPU"
          + (d.cpus() == 1 ? "" : "s") + ", has " + Math.max(0, freeMemory()) + " MiB and " + Math.max(0, cpus)
          + " free)";
    }

    void take(DesiredInstance d) {
      cpus -= d.cpus();
      memory -= d.memoryMib();
      if (!running.contains(d.id())) {
        reported -= d.memoryMib();
      }
      byUnit.computeIfAbsent(d.pod() + "/" + d.unit(), k -> new ArrayList<>()).add(d.name());
    }

    List<String> ofUnit(String unit) {
      return byUnit.getOrDefault(unit, List.of());
    }

    double memoryLoad() {
      return (node.memoryMib() - memory) / (double) node.memoryMib();
    }

    double cpuLoad() {
      return (node.cpus() - cpus) / (double) node.cpus();
    }

    String describe() {
      return node.name() + ": " + (node.memoryMib() - memory) + "/" + node.memoryMib() + " MiB and "
          + (node.cpus() - cpus) + "/" + node.cpus() + " CPUs assigned";
    }
  }
}
