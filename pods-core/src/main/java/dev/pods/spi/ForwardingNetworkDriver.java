package dev.pods.spi;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A {@link NetworkDriver} that passes every call to another one, for a wrapper that watches or changes a few calls
 * (a cluster node that hands out its cluster's address pools, a test that counts calls) and leaves the rest as they
 * are: a subclass overrides only those. Every method of the SPI is forwarded, the ones with defaults too
 * ({@link #probe}, {@link #fabric}, {@link #bindInHostNamespace}), so a wrapper never hides what the driver underneath
 * can do.
 *
 * <p>As thread-safe as the driver it wraps plus what a subclass adds. {@link #close()} closes the wrapped driver.
 *
 * @since 0.2
 */
public abstract class ForwardingNetworkDriver implements NetworkDriver {
  private final NetworkDriver delegate;

  /** Forwards to {@code delegate}. */
  protected ForwardingNetworkDriver(NetworkDriver delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** The driver the calls go to. */
  protected NetworkDriver delegate() {
    return delegate;
  }

  @Override
  public NetworkInstance create(NetworkSpec spec) {
    return delegate.create(spec);
  }

  @Override
  public NetworkInstance update(NetworkSpec spec) {
    return delegate.update(spec);
  }

  @Override
  public void delete(String instanceId) {
    delegate.delete(instanceId);
  }

  @Override
  public List<String> probe(String instanceId) {
    return delegate.probe(instanceId);
  }

  @Override
  public Optional<VpcFabric> fabric() {
    return delegate.fabric();
  }

  @Override
  public Optional<NetworkInstance> find(String instanceId) {
    return delegate.find(instanceId);
  }

  @Override
  public List<NetworkInstance> list(String owner) {
    return delegate.list(owner);
  }

  @Override
  public List<String> reap(String owner) {
    return delegate.reap(owner);
  }

  @Override
  public <T> T callInNamespace(String instanceId, NetworkTask<T> task) {
    return delegate.callInNamespace(instanceId, task);
  }

  @Override
  public ServerSocket bindInNamespace(String instanceId, InetSocketAddress address) {
    return delegate.bindInNamespace(instanceId, address);
  }

  @Override
  public ServerSocket bindInHostNamespace(@Nullable String hostNamespace, InetSocketAddress address) {
    return delegate.bindInHostNamespace(hostNamespace, address);
  }

  @Override
  public Socket connectInNamespace(String instanceId, InetSocketAddress address, Duration timeout) {
    return delegate.connectInNamespace(instanceId, address, timeout);
  }

  @Override
  public IpAddressPool pool(IpPoolSpec spec) {
    return delegate.pool(spec);
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + delegate + "]";
  }
}
