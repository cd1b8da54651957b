package dev.pods.etcd;

import dev.pods.spi.Cidr;
import dev.pods.spi.ForwardingNetworkDriver;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.NetworkDriver;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A cluster node's network driver: the local driver, except that its pools of subnets (the runtime's private pool, one
 * /30 per instance) are the cluster's, {@link EtcdIpAddressPool}s on the cluster's keyspace shared by every node, whose
 * {@link IpAddressPool#release} does nothing: an instance keeps its private address when it moves to another node,
 * and only the placement leader releases it, once the instance is no longer desired. Pools of single addresses (the
 * public pool) stay the local driver's.
 *
 * <p>As thread-safe as the wrapped driver. {@link #close()} does nothing: the caller owns the wrapped driver.
 */
final class ClusterAddressPools extends ForwardingNetworkDriver {
  private final EtcdKeyspace space;
  private volatile @Nullable String privatePool;

  ClusterAddressPools(NetworkDriver local, EtcdKeyspace space) {
    super(local);
    this.space = space;
  }

  @Override
  public IpAddressPool pool(IpPoolSpec spec) {
    if (spec.blockPrefixLength() == 32) {
      return super.pool(spec);
    }
    privatePool = spec.name();
    return new Kept(new EtcdIpAddressPool(space, spec));
  }

  /** The name of the cluster's private pool, once the runtime asked for it. */
  @Nullable String privatePool() {
    return privatePool;
  }

  @Override
  public void close() {
    // the caller owns the local driver
  }

  /** An etcd pool whose releases are left to the placement leader. */
  private record Kept(EtcdIpAddressPool pool) implements IpAddressPool {
    @Override
    public IpPoolSpec spec() {
      return pool.spec();
    }

    @Override
    public Cidr allocate(String holder) {
      return pool.allocate(holder);
    }

    @Override
    public Optional<Cidr> lookup(String holder) {
      return pool.lookup(holder);
    }

    /** Does nothing: the instance may run on another node, or come back here; the leader releases. */
    @Override
    public boolean release(String holder) {
      return false;
    }

    @Override
    public Map<String, Cidr> allocations() {
      return pool.allocations();
    }
  }
}
