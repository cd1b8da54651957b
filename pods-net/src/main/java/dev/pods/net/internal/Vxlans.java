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
 * <p><b>Guard.</b> The kernel decapsulates a VXLAN datagram that reaches any address of the host namespace on port
 * {@link VpcFabric#PORT}, whatever its source: a guest whose packets reach that namespace (through its public address
 * or its VPC gateway) could otherwise put frames into any VPC whose identifier it guesses. {@link #guardProgram}
 * builds an nftables table that drops, for each VNI of this fabric, datagrams that come in on another device than
 * the underlay's or from an address that is not a peer's.
 *
 * <p>Thread-safe: the peer set is replaced atomically; callers serialise link changes (under the VPC lock).
 */
public final class Vxlans {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ALL_ZEROS = "00:00:00:00:00:00";

  private final @Nullable String hostNamespace;
  private final Inet4Address underlay;
  private final String underlayDevice;
  private final int mtu;
  private final String bridge;
  private final Duration timeout;
  private volatile Set<Inet4Address> peers;

  /** The device that holds the underlay address, and its MTU. */
  public record UnderlayLink(String device, int mtu) {}

  /**
   * The fabric of host namespace {@code hostNamespace} (null: the JVM's) with underlay address {@code underlay}
   * held by {@code link}; {@code bridge} is iproute2's {@code bridge} command.
   */
  public Vxlans(@Nullable String hostNamespace, Inet4Address underlay, UnderlayLink link, Set<Inet4Address> peers,
      String bridge, Duration timeout) {
    this.hostNamespace = hostNamespace;
    this.underlay = underlay;
    this.underlayDevice = link.device();
    this.mtu = link.mtu() - VpcFabric.OVERHEAD;
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
   * The nftables program that makes table {@code ip TABLE} of the calling namespace the guard of the VNIs
   * {@code vnis} (replacing what the table held; with no VNI, removing it): a datagram to port
   * {@link VpcFabric#PORT} carrying one of them is dropped, and counted, unless it came in on the underlay's device
   * from a peer's address. Datagrams of other VNIs (another driver's fabric in the same namespace) are not judged.
   */
  public String guardProgram(String table, java.util.Collection<Integer> vnis) {
    StringBuilder b = new StringBuilder("table ip ").append(table).append('\n')
        .append("delete table ip ").append(table).append('\n');
    if (vnis.isEmpty()) {
      return b.toString();
    }
    b.append("table ip ").append(table).append(" {\n  chain input {\n")
        .append("    type filter hook input priority -10; policy accept;\n");
    List<String> from = peers.stream().map(Cidr::dotted).sorted().toList();
    for (int vni : new java.util.TreeSet<>(vnis)) {
      String match = "    udp dport " + VpcFabric.PORT + " @th,96,24 " + vni;
      b.append(match).append(" iifname != \"").append(underlayDevice).append("\" counter drop\n");
      b.append(match).append(from.isEmpty() ? "" : " ip saddr != { " + String.join(", ", from) + " }")
          .append(" counter drop\n");
    }
    return b.append("  }\n}\n").toString();
  }

  /**
   * The device holding {@code address} in namespace {@code ns} (null: the JVM's), and its MTU.
   *
   * @throws NetworkException when no device there holds it
   */
  public static UnderlayLink underlayLink(String ip, @Nullable String ns, Inet4Address address, Duration timeout) {
    String want = Cidr.dotted(address);
    try {
      Path nsPath = ns == null ? null : Netns.path(ns);
      String json = Netns.call(nsPath, () -> Exec.check(List.of(ip, "-j", "-4", "addr", "show"), null, timeout)
          .stdout());
      for (JsonNode link : JSON.readTree(json)) {
        for (JsonNode a : link.path("addr_info")) {
          if (want.equals(a.path("local").asText())) {
            return new UnderlayLink(link.path("ifname").asText(), link.path("mtu").asInt());
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
