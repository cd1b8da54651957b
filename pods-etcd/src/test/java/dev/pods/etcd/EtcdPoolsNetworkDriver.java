package dev.pods.etcd;

import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.ForwardingNetworkDriver;

/**
 * A network driver (the in-memory one, in tests) whose address pools are {@link EtcdIpAddressPool}s on one keyspace:
 * everything else goes to the wrapped driver. Closing it closes the wrapped driver.
 */
public final class EtcdPoolsNetworkDriver extends ForwardingNetworkDriver {
  private final EtcdKeyspace space;

  /** Wraps {@code inner}; pools live under {@code space}. */
  public EtcdPoolsNetworkDriver(NetworkDriver inner, EtcdKeyspace space) {
    super(inner);
    this.space = space;
  }

  @Override
  public IpAddressPool pool(IpPoolSpec spec) {
    return new EtcdIpAddressPool(space, spec);
  }
}
