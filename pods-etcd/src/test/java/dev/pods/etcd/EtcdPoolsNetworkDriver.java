package dev.pods.etcd;

import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkTask;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A network driver (the in-memory one, in tests) whose address pools are {@link EtcdIpAddressPool}s on one keyspace:
 * everything else goes to the wrapped driver. Closing it closes the wrapped driver.
 */
public final class EtcdPoolsNetworkDriver implements NetworkDriver {
  private final NetworkDriver inner;
  private final EtcdKeyspace space;

  /** Wraps {@code inner}; pools live under {@code space}. */
  public EtcdPoolsNetworkDriver(NetworkDriver inner, EtcdKeyspace space) {
    this.inner = inner;
    this.space = space;
  }

  @Override
  public IpAddressPool pool(IpPoolSpec spec) {
    return new EtcdIpAddressPool(space, spec);
  }

  @Override
  public NetworkInstance create(NetworkSpec spec) {
    return inner.create(spec);
  }

  @Override
  public NetworkInstance update(NetworkSpec spec) {
    return inner.update(spec);
  }

  @Override
  public void delete(String instanceId) {
    inner.delete(instanceId);
  }

  @Override
  public List<String> probe(String instanceId) {
    return inner.probe(instanceId);
  }

  @Override
  public Optional<NetworkInstance> find(String instanceId) {
    return inner.find(instanceId);
  }

  @Override
  public List<NetworkInstance> list(String owner) {
    return inner.list(owner);
  }

  @Override
  public List<String> reap(String owner) {
    return inner.reap(owner);
  }

  @Override
  public <T> T callInNamespace(String instanceId, NetworkTask<T> task) {
    return inner.callInNamespace(instanceId, task);
  }

  @Override
  public ServerSocket bindInNamespace(String instanceId, InetSocketAddress address) {
    return inner.bindInNamespace(instanceId, address);
  }

  @Override
  public ServerSocket bindInHostNamespace(@Nullable String hostNamespace, InetSocketAddress address) {
    return inner.bindInHostNamespace(hostNamespace, address);
  }

  @Override
  public Socket connectInNamespace(String instanceId, InetSocketAddress address, Duration timeout) {
    return inner.connectInNamespace(instanceId, address, timeout);
  }

  @Override
  public void close() {
    inner.close();
  }
}
