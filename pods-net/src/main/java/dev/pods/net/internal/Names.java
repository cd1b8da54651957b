package dev.pods.net.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Every name and MAC address of one instance network, derived from the runtime's prefixes, the instance id and
 * short persistent indexes (link names are limited to 15 characters). Deterministic: the same inputs always give
 * the same names and MACs, so a re-created network looks the same to neighbours' ARP caches.
 *
 * @param namespace the instance's namespace, {@code <prefix>-<instanceId>}
 * @param table the nftables table inside the namespace
 * @param bridge the VM-side bridge (in the VM namespace)
 * @param tap the VM's tap (in the VM namespace)
 * @param vmVeth the VM-namespace end of the veth whose other end is {@link #GW_IF}
 * @param uplinkVeth the host-namespace end of the veth whose other end is {@link #UP_IF}
 * @param vpcVeth the host-namespace end of the veth whose other end is {@link #VPC_IF}
 * @param vpcBridge the VPC's bridge in the host namespace, or null without VPC
 * @param gwMac MAC of {@link #GW_IF}
 * @param upMac MAC of {@link #UP_IF}
 * @param vpcMac MAC of {@link #VPC_IF}
 * @param group the link group of the instance's links outside its namespace ({@code ip link del group} removes them
 *     in one kernel batch, which is much faster than one by one): 11 bits of the link prefix's hash, then the index (20 bits)
 */
public record Names(String namespace, String table, String bridge, String tap, String vmVeth, String uplinkVeth,
    String vpcVeth, @Nullable String vpcBridge, String gwMac, String upMac, String vpcMac, long group) {

  /** Inside the instance namespace: the interface holding the VM's gateway (and the IMDS address). */
  public static final String GW_IF = "gw0";
  /** Inside the instance namespace: the interface holding the public address. */
  public static final String UP_IF = "up0";
  /** Inside the instance namespace: the interface towards the VPC. */
  public static final String VPC_IF = "vpc0";

  /**
   * Derives the names.
   *
   * @param prefix the runtime's namespace prefix (also names the nft table)
   * @param linkPrefix the runtime's link prefix, at most 6 characters
   * @param instanceId the instance
   * @param index the instance's persistent index
   * @param vpcIndex the VPC's persistent index, or -1 without VPC
   */
  public static Names of(String prefix, String linkPrefix, String instanceId, long index, long vpcIndex) {
    if (linkPrefix.length() > 6) {
      throw new IllegalArgumentException("link prefix longer than 6 characters: " + linkPrefix);
    }
    String i = Long.toString(index, 36);
    String key = prefix + "/" + instanceId + "/";
    return new Names(namespace(prefix, instanceId), table(prefix), linkPrefix + "b" + i, linkPrefix + "t" + i,
        linkPrefix + "g" + i, linkPrefix + "u" + i, linkPrefix + "p" + i,
        vpcIndex < 0 ? null : vpcBridge(linkPrefix, vpcIndex), mac(key + GW_IF), mac(key + UP_IF),
        mac(key + VPC_IF), group(linkPrefix, index));
  }

  /** The link group of an instance's outer links; never 0 (the default group). */
  public static long group(String linkPrefix, long index) {
    if (index <= 0 || index >= 1 << 20) {
      throw new IllegalArgumentException("link index out of range: " + index);
    }
    long h = (linkPrefix.hashCode() & 0x3ffL) | 0x400L; // ip parses groups as signed 32-bit
    return h << 20 | index;
  }

  /** The namespace name of an instance. */
  public static String namespace(String prefix, String instanceId) {
    return prefix + "-" + instanceId;
  }

  /** The nft table name for a prefix: letters, digits and '_' only. */
  public static String table(String prefix) {
    return prefix.replaceAll("[^A-Za-z0-9_]", "_").toLowerCase(Locale.ROOT);
  }

  /** The name of a VPC's bridge. */
  public static String vpcBridge(String linkPrefix, long vpcIndex) {
    return linkPrefix + "V" + Long.toString(vpcIndex, 36);
  }

  /** A locally administered unicast MAC derived from {@code key}. */
  public static String mac(String key) {
    byte[] h;
    try {
      h = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
    return String.format(Locale.ROOT, "02:%02x:%02x:%02x:%02x:%02x", h[0], h[1], h[2], h[3], h[4]);
  }
}
