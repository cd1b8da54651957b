package dev.pods.spi;

import java.net.Inet4Address;
import java.util.Set;

/**
 * The VXLAN fabric that joins a network driver's VPCs to the same VPCs of other hosts: instances of one VPC on this
 * host and on a peer host reach each other by their private addresses, as if on one host (the firewall still applies).
 * A host reaches a peer only while each lists the other's underlay address among its peers; a frame for a VPC goes to
 * every peer (head-end replication), and only the peers' copies of the VPC use it. The underlay network must be
 * trusted: the fabric does not authenticate what arrives on its UDP port.
 *
 * <p>Obtained from {@link NetworkDriver#fabric()}, which is empty when the driver was configured without one (then
 * nothing of this applies). Thread-safe; {@link #peers(Set)} blocks while the driver changes its links.
 *
 * @since 0.2
 */
public interface VpcFabric {

  /** The UDP port of the fabric, VXLAN's IANA port. */
  int PORT = 4789;

  /** The bytes VXLAN adds to each frame over IPv4 (outer IP, UDP, VXLAN and inner Ethernet headers). */
  int OVERHEAD = 50;

  /** This host's underlay address: where peers send the VPC's frames. */
  Inet4Address underlay();

  /**
   * The MTU instances of a VPC get (by DHCP) and the VPC's links have: the underlay's MTU minus {@link #OVERHEAD}.
   */
  int mtu();

  /** The peer hosts' underlay addresses, as last set. */
  Set<Inet4Address> peers();

  /**
   * Replaces the peers. Every VPC of this host gets the new set: a peer added is sent the VPC's frames from now on, a
   * peer removed no longer is; running instances and their networks are not touched otherwise. Idempotent.
   *
   * @throws IllegalArgumentException when {@code peers} holds this host's own {@link #underlay()}
   * @throws dev.pods.NetworkException when the driver fails to change its links (the set is kept; a later call with
   *     any set applies it again)
   */
  void peers(Set<Inet4Address> peers);

  /**
   * The VXLAN network identifier of a VPC, the same on every host: the first three bytes of the SHA-256 of its id
   * (UTF-8), as a number, or 1 where they are 0. Two VPC ids may share one (1 in 16.7 million per pair): the Linux driver refuses a
   * second VPC whose identifier one of its VPCs on this host has, naming both.
   */
  static int vni(String vpcId) {
    byte[] h;
    try {
      h = java.security.MessageDigest.getInstance("SHA-256").digest(
          vpcId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
    int v = (h[0] & 0xff) << 16 | (h[1] & 0xff) << 8 | (h[2] & 0xff);
    return v == 0 ? 1 : v;
  }
}
