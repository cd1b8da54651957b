package dev.pods.spi;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What an {@link IpAddressPool} hands out: blocks of prefix length {@code blockPrefixLength} inside {@code range},
 * never a block that overlaps {@code reserved}. A pool of public addresses hands out /32 blocks; a pool of VPC
 * subnets hands out /30 (or larger) blocks. Immutable value.
 *
 * @param name the pool's name, which is also its identity in the state directory (letters, digits, '-', 1..40)
 * @param range the addresses the pool may hand out
 * @param blockPrefixLength the prefix length of every block, {@code >= range.prefixLength()}
 * @param reserved networks never handed out, wholly or partly (gateways, network and broadcast addresses)
 * @since 0.1
 */
public record IpPoolSpec(String name, Cidr range, int blockPrefixLength, List<Cidr> reserved) {

  /** Validates the name and block size and copies the list. */
  public IpPoolSpec {
    NetworkSpec.checkId(name, "pool name");
    Objects.requireNonNull(range, "range");
    if (blockPrefixLength < range.prefixLength() || blockPrefixLength > 32) {
      throw new IllegalArgumentException("block /" + blockPrefixLength + " does not fit in " + range);
    }
    if (range.size() >> (32 - blockPrefixLength) > (1 << 24)) {
      throw new IllegalArgumentException("more than 2^24 blocks in " + range + "; use larger blocks");
    }
    reserved = List.copyOf(reserved);
  }

  /**
   * A pool of single addresses in {@code range}, its network and broadcast addresses and {@code reserved} excluded.
   */
  public static IpPoolSpec addresses(String name, Cidr range, Inet4Address... reserved) {
    List<Cidr> r = new ArrayList<>();
    if (range.prefixLength() < 31) {
      r.add(Cidr.host(range.network()));
      r.add(Cidr.host(range.address(range.size() - 1)));
    }
    for (Inet4Address a : reserved) {
      r.add(Cidr.host(a));
    }
    return new IpPoolSpec(name, range, 32, r);
  }

  /** A pool of subnets of prefix length {@code blockPrefixLength} in {@code range}. */
  public static IpPoolSpec subnets(String name, Cidr range, int blockPrefixLength) {
    return new IpPoolSpec(name, range, blockPrefixLength, List.of());
  }

  /** The number of blocks in the range, reserved ones included. */
  public long blockCount() {
    return range.size() >> (32 - blockPrefixLength);
  }

  /** Block number {@code index} (0-based). */
  public Cidr block(long index) {
    return new Cidr(Cidr.toInt(range.address(index << (32 - blockPrefixLength))), blockPrefixLength);
  }

  /** Whether block {@code index} may be handed out. */
  public boolean usable(long index) {
    Cidr b = block(index);
    return reserved.stream().noneMatch(b::overlaps);
  }
}
