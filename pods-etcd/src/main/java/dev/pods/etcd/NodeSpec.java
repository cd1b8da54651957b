package dev.pods.etcd;

import java.net.Inet4Address;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What a node offers the cluster: its name (unique among the live nodes), the address other nodes reach it on, the
 * CPUs and memory it gives instances, and, when it runs a VPC fabric, its underlay address (where the other nodes'
 * fabrics send its VPCs' frames: {@link FabricPeers} makes every node's fabric list the live others'). Immutable.
 *
 * @param name letters, digits, '.', '_' and '-', starting with a letter or digit (as in {@code +/node/NAME})
 * @param address where other nodes reach it (free text for now, e.g. {@code 10.250.0.1})
 * @param cpus virtual CPUs it gives instances, at least 1
 * @param memoryMib memory it gives instances, at least 1 MiB
 * @param underlay the address of its {@link dev.pods.spi.VpcFabric#underlay() VPC fabric}, or null when it has none
 *     (then no other node's fabric sends it anything) (since 0.2)
 * @since 0.1
 */
public record NodeSpec(String name, String address, int cpus, int memoryMib, @Nullable Inet4Address underlay) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  /** Validates. */
  public NodeSpec {
    requireName(name);
    Objects.requireNonNull(address, "address");
    if (cpus < 1 || memoryMib < 1) {
      throw new IllegalArgumentException("node '" + name + "' offers at least 1 CPU and 1 MiB, not " + cpus
          + " CPUs and " + memoryMib + " MiB");
    }
  }

  /** A node without a VPC fabric ({@link #underlay()} null). */
  public NodeSpec(String name, String address, int cpus, int memoryMib) {
    this(name, address, cpus, memoryMib, null);
  }

  /**
   * This spec with the underlay address {@code underlay} (that of the node's {@link dev.pods.spi.VpcFabric}).
   *
   * @since 0.2
   */
  public NodeSpec withUnderlay(Inet4Address underlay) {
    return new NodeSpec(name, address, cpus, memoryMib, Objects.requireNonNull(underlay, "underlay"));
  }

  static void requireName(String name) {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("node name '" + name + "' is not 1-63 letters, digits, '.', '_' and '-'"
          + " starting with a letter or digit");
    }
  }
}
