package dev.pods.etcd.internal;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a node writes under its lease ({@code PREFIX/cluster/nodes/NAME}) and, without the load, as its membership
 * ({@code PREFIX/cluster/members/NAME}). Immutable.
 *
 * @param name the node's name
 * @param address where other nodes reach it
 * @param cpus CPUs it gives instances
 * @param memoryMib memory it gives instances
 * @param freeMemoryMib the free memory it reported last
 * @param instances the instances it runs, {@code POD/UNIT-INDEX}, sorted
 * @param underlay the dotted underlay address of its VPC fabric, or null without one (and in records written before
 *     0.2)
 */
public record NodeRecord(String name, String address, int cpus, int memoryMib, int freeMemoryMib,
    List<String> instances, @Nullable String underlay) {
  /** Copies. */
  public NodeRecord {
    instances = List.copyOf(instances);
  }
}
