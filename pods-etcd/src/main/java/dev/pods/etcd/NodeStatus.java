package dev.pods.etcd;

import java.net.Inet4Address;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One node of the cluster as {@code Nodes.list()} shows it (what {@code pods nodes} prints): what it offers, its
 * load, the instances it runs and whether it is alive. Immutable.
 *
 * @param name the node's name
 * @param address where other nodes reach it
 * @param cpus virtual CPUs it gives instances
 * @param memoryMib memory it gives instances
 * @param freeMemoryMib the free memory it last reported (its load as the host sees it)
 * @param instances the instances it runs ({@code POD/UNIT-INDEX}), as it last reported
 * @param assignedCpus CPUs of the instances the leader has assigned to it
 * @param assignedMemoryMib memory of the instances the leader has assigned to it
 * @param health {@link Health#READY} while its lease lives, {@link Health#LOST} after
 * @param leader whether it is the leader that places instances
 * @param underlay the underlay address of its VPC fabric as it registered it ({@link NodeSpec#underlay()}), or null
 *     without one (since 0.2)
 * @since 0.1
 */
public record NodeStatus(String name, String address, int cpus, int memoryMib, int freeMemoryMib,
    List<String> instances, int assignedCpus, int assignedMemoryMib, Health health, boolean leader,
    @Nullable Inet4Address underlay) {

  /** Whether a node is alive. */
  public enum Health {
    /** Its lease lives: it registered and keeps the lease alive. */
    READY,
    /** It registered once, and its lease expired (JVM gone, link cut) or it left: it runs nothing now. */
    LOST
  }

  /** Copies. */
  public NodeStatus {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(health, "health");
    instances = List.copyOf(instances);
  }

  /** A node without a VPC fabric ({@link #underlay()} null). */
  public NodeStatus(String name, String address, int cpus, int memoryMib, int freeMemoryMib, List<String> instances,
      int assignedCpus, int assignedMemoryMib, Health health, boolean leader) {
    this(name, address, cpus, memoryMib, freeMemoryMib, instances, assignedCpus, assignedMemoryMib, health, leader,
        null);
  }
}
