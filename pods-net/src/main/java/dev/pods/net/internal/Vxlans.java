package dev.pods.net.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pods.NetworkException;
import dev.pods.spi.Cidr;
import dev.pods.spi.VpcFabric;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The VXLAN side of a host's VPC bridges: the link that joins each VPC bridge to the same VPC on the peer hosts
 * (VNI {@link VpcFabric#vni}, UDP port {@link VpcFabric#PORT}, no learning) and its head-end replication entries
 * (one all-zeros forwarding entry per peer, so every frame goes to every peer; with no learning, a removed peer gets
 * nothing more, not even what a learned entry would have sent it). Programs are built as text and run by {@code ip}
 * and {@code bridge} in the host namespace.
 *
 * <p>Thread-safe: the peer set is replaced atomically; callers serialise link changes (under the VPC lock).
 */
public final class Vxlans {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ALL_ZEROS = "00:00:00:00:00:00";

  private final @Nullable String hostNamespace;
  private final Inet4Address underlay;
  private final int mtu;
  private final String bridge;
  private final Duration timeout;
  private volatile Set<Inet4Address> peers;

  /**
   * The fabric of host namespace {@code hostNamespace} (null: the JVM's) with underlay address {@code underlay}
   * whose device has MTU {@code underlayMtu}; {@code bridge} is iproute2's {@code bridge} command.
   */
  public Vxlans(@Nullable String hostNamespace, Inet4Address underlay, int underlayMtu, Set<Inet4Address> peers,
      String bridge, Duration timeout) {
    this.hostNamespace = hostNamespace;
    this.underlay = underlay;
    this.mtu = underlayMtu - VpcFabric.OVERHEAD;
    this.bridge = bridge;
    this.timeout = timeout;
    this.peers = checked(peers);
  }

  /** The host namespace the fabric lives in (null: the JVM's). */
  public @Nullable String hostNamespace() {
    return hostNamespace;
  }

  /** This host's underlay address. */
  public Inet4Address underlay() {
    return underlay;
  }

  /** The MTU of the VPCs' links and of their instances. */
  public int mtu() {
    return mtu;
  }

  /** The peers. */
  public Set<Inet4Address> peers() {
    return peers;
  }

  /** Replaces the peers (the links follow at the next {@link #sync}). */
  public void peers(Set<Inet4Address> value) {
    peers = checked(value);
  }

  private Set<Inet4Address> checked(Set<Inet4Address> value) {
    Set<Inet4Address> copy = Set.copyOf(value);
    if (copy.contains(underlay)) {
      throw new IllegalArgumentException("peer " + Cidr.dotted(underlay) + " is this host's own underlay address");
    }
    return copy;
  }

  /** The name of a VPC's VXLAN link. */
  public static String name(String linkPrefix, long vpcIndex) {
    return linkPrefix + "X" + Long.toString(vpcIndex, 36);
  }

  /** The {@code ip -batch} lines that make the VXLAN link {@code vx} of a VPC and put it on its bridge. */
  public String createLines(String vx, String vpcBridge, int vni) {
    return "link add " + vx + " mtu " + mtu + " type vxlan id " + vni + " dstport " + VpcFabric.PORT + " local "
        + Cidr.dotted(underlay) + " nolearning\n"
        + "link set " + vx + " addrgenmode none master " + vpcBridge + "\n"
        + "link set " + vx + " up\n";
  }

  /**
   * Makes the head-end replication entries of the VXLAN link {@code vx} (in the calling thread's namespace) those of
   * the current peers: the missing ones appended, the others removed. Entries for other MACs are left alone.
   */
  public void sync(String vx) throws IOException {
    Set<String> want = new LinkedHashSet<>();
    for (Inet4Address p : peers) {
      want.add(Cidr.dotted(p));
    }
    Set<String> have = new LinkedHashSet<>();
    JsonNode fdb = JSON.readTree(Exec.check(List.of(bridge, "-j", "fdb", "show", "dev", vx), null, timeout)
        .stdout());
    for (JsonNode e : fdb) {
      if (ALL_ZEROS.equals(e.path("mac").asText()) && e.hasNonNull("dst")) {
        have.add(e.get("dst").asText());
      }
    }
    List<String> lines = new ArrayList<>();
    for (String dst : have) {
      if (!want.contains(dst)) {
        lines.add("fdb del " + ALL_ZEROS + " dev " + vx + " dst " + dst);
      }
    }
    for (String dst : want) {
      if (!have.contains(dst)) {
        lines.add("fdb append " + ALL_ZEROS + " dev " + vx + " dst " + dst);
      }
    }
    if (!lines.isEmpty()) {
      Exec.check(List.of(bridge, "-batch", "-"), String.join("\n", lines) + "\n", timeout);
    }
  }

  /**
   * The MTU of the device holding {@code address} in namespace {@code ns} (null: the JVM's).
   *
   * @throws NetworkException when no device there holds it
   */
  public static int underlayMtu(String ip, @Nullable String ns, Inet4Address address, Duration timeout) {
    String want = Cidr.dotted(address);
    try {
      Path nsPath = ns == null ? null : Netns.path(ns);
      String json = Netns.call(nsPath, () -> Exec.check(List.of(ip, "-j", "-4", "addr", "show"), null, timeout)
          .stdout());
      for (JsonNode link : JSON.readTree(json)) {
        for (JsonNode a : link.path("addr_info")) {
          if (want.equals(a.path("local").asText())) {
            return link.path("mtu").asInt();
          }
        }
      }
    } catch (Exception e) {
      throw new NetworkException("read the underlay address " + want + " in host namespace "
          + (ns == null ? "of the JVM" : "'" + ns + "'") + " failed: " + e.getMessage(), e);
    }
    throw new NetworkException("underlay address " + want + " is not an address of host namespace "
        + (ns == null ? "of the JVM" : "'" + ns + "'") + ": give the fabric an address of that namespace");
  }
}
