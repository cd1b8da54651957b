package dev.pods.testing;

import dev.pods.NetworkException;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An {@link IpAddressPool} held in memory, with the same allocation order as the persistent one (next free block
 * after the last one handed out, wrapping round). Thread-safe (every method is {@code synchronized} and none
 * blocks); not durable.
 */
public final class InMemoryIpAddressPool implements IpAddressPool {
  private final IpPoolSpec spec;
  private final Map<String, Long> byHolder = new HashMap<>();
  private final Map<Long, String> byBlock = new HashMap<>();
  private long cursor = -1;

  /** An empty pool of {@code spec}. */
  public InMemoryIpAddressPool(IpPoolSpec spec) {
    this.spec = Objects.requireNonNull(spec, "spec");
  }

  @Override
  public IpPoolSpec spec() {
    return spec;
  }

  @Override
  public synchronized Cidr allocate(String holder) {
    Objects.requireNonNull(holder, "holder");
    Long have = byHolder.get(holder);
    if (have != null) {
      return spec.block(have);
    }
    long n = spec.blockCount();
    for (long i = 1; i <= n; i++) {
      long candidate = Math.floorMod(cursor + i, n);
      if (!byBlock.containsKey(candidate) && spec.usable(candidate)) {
        byBlock.put(candidate, holder);
        byHolder.put(holder, candidate);
        cursor = candidate;
        return spec.block(candidate);
      }
    }
    throw new NetworkException("allocate from pool '" + spec.name() + "' for '" + holder + "' failed: "
        + spec.range() + " is exhausted (" + byHolder.size() + " blocks in use)");
  }

  @Override
  public synchronized Optional<Cidr> lookup(String holder) {
    Long have = byHolder.get(holder);
    return have == null ? Optional.empty() : Optional.of(spec.block(have));
  }

  @Override
  public synchronized boolean release(String holder) {
    Long have = byHolder.remove(holder);
    if (have == null) {
      return false;
    }
    byBlock.remove(have);
    return true;
  }

  @Override
  public synchronized Map<String, Cidr> allocations() {
    Map<String, Cidr> out = new TreeMap<>();
    byHolder.forEach((h, b) -> out.put(h, spec.block(b)));
    return out;
  }
}
