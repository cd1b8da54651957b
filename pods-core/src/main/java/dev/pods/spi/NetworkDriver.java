package dev.pods.spi;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Builds and removes per-instance networks: for each instance an isolated network namespace holding the VM's
 * gateway, DHCP, 1:1 NAT of a public address, SNAT of outbound traffic, an ingress firewall and the VPC routes, plus
 * the bridge and tap the hypervisor attaches the VM to. Networks outlive the driver object (and the JVM): a new driver
 * on the same state finds them again by {@link #find}/{@link #list}.
 *
 * <p><b>Contract.</b> Every method is thread-safe and blocking. Calls for different instances may run in parallel;
 * calls for one instance are serialised. {@link #create} and {@link #delete} are idempotent: creating what exists
 * with an equal spec returns it unchanged, deleting what is absent does nothing. An instance id belongs to one owner.
 * A failed create leaves nothing behind. Failures are {@link dev.pods.NetworkException}s naming the operation and
 * the instance. The caller owns the driver and closes it; {@link #close()} releases the driver's threads and sockets
 * (which stop serving) but leaves the networks in place.
 *
 * @since 0.1
 */
public interface NetworkDriver extends AutoCloseable {

  /**
   * Builds the instance's network, or returns it when one with an equal spec exists. An existing network with a
   * different spec is updated as by {@link #update}.
   *
   * @return the network, with the names the hypervisor needs
   * @throws dev.pods.NetworkException when it cannot be built (nothing is left behind), or the id has another owner
   */
  NetworkInstance create(NetworkSpec spec);

  /**
   * Changes an existing network to {@code spec}. A change of the firewall or of the kept-back ports is applied in
   * one atomic transaction (no packet sees a mix of old and new rules); other changes may rebuild parts of the
   * network, keeping the names of its tap and VM bridge.
   *
   * @throws dev.pods.NetworkException when the instance has no network or belongs to another owner
   */
  NetworkInstance update(NetworkSpec spec);

  /**
   * Removes the instance's network and everything of it: processes, links, namespace, rules, state, and the sockets
   * bound through {@link #bindInNamespace}. Does nothing when there is none.
   *
   * @throws dev.pods.NetworkException when removal fails (a retry resumes where it stopped)
   */
  void delete(String instanceId);

  /**
   * A cheap check that the instance's network is still whole: answered from facts the driver can read without
   * rebuilding anything (for the Linux driver: the namespace's file, its DHCP server's pid alive and in that
   * namespace, its links and addresses, with no process started), so that a caller may ask every few seconds for
   * every instance. Changes nothing. A broken network is mended by {@link #create} with its spec (the runtime's
   * periodic check asks this first and repairs only what it says is broken).
   *
   * <p>For an instance of a VPC on a driver with a {@link #fabric()}, the network includes what joins that VPC to
   * the peers (for the Linux driver: the VPC's VXLAN link, a port of the VPC's bridge and up, with one forwarding
   * entry per current peer and none other, and the fabric's guard), which the VPC's members on this driver share: a
   * break there is reported for each of them, and {@link #create} of any one mends it for all.
   *
   * <p>The default cannot look inside and answers that it cannot tell (one entry), so a caller falls back to
   * {@link #create}, which checks and repairs; drivers override it.
   *
   * @return what is missing or broken, one entry per part in words (for instance "namespace pods-x is gone", "its
   *     DHCP server is not running"); empty when the network is whole. An instance without a network, or whose
   *     network is being built, gives one entry.
   * @throws dev.pods.NetworkException when the driver's own state cannot be read
   * @since 0.2
   */
  default List<String> probe(String instanceId) {
    java.util.Objects.requireNonNull(instanceId, "instanceId");
    return List.of("this driver cannot probe a network cheaply; create() checks it");
  }

  /**
   * The VXLAN fabric joining this driver's VPCs to other hosts, when the driver was configured with one; empty
   * otherwise (the default), and then VPCs stay on this host.
   *
   * @since 0.2
   */
  default Optional<VpcFabric> fabric() {
    return Optional.empty();
  }

  /** The instance's network, if it exists. */
  Optional<NetworkInstance> find(String instanceId);

  /** Every network whose spec has this owner, in no particular order. */
  List<NetworkInstance> list(String owner);

  /**
   * Removes every network of {@code owner}, and anything left by a crash in the middle of a create or delete that
   * this driver can tell is its own. Never touches what is not its own.
   *
   * @return the ids of the instances removed
   */
  List<String> reap(String owner);

  /**
   * Runs {@code task} on a thread inside the instance's network namespace and returns its result.
   *
   * @throws dev.pods.NetworkException when the instance has no network, or wrapping the task's exception
   */
  <T> T callInNamespace(String instanceId, NetworkTask<T> task);

  /**
   * Binds a listening TCP socket to {@code address} inside the instance's namespace (the IMDS binds
   * {@code 169.254.169.254:80}). The caller owns the socket and may accept on any thread; {@link #delete} closes it
   * too. In-memory fakes may bind elsewhere and route {@link #connectInNamespace} to it.
   *
   * @throws dev.pods.NetworkException when the instance has no network or the bind fails
   */
  ServerSocket bindInNamespace(String instanceId, InetSocketAddress address);

  /**
   * Binds a listening TCP socket to {@code address} in the host namespace: the named namespace
   * {@code hostNamespace} (the one holding the uplink and VPC bridges), or the JVM's own when it is null. The
   * runtime's node ports listen there. The caller owns the socket and may accept on any thread. In-memory fakes may
   * bind elsewhere (and say where).
   *
   * <p>The default binds in the JVM's own namespace and refuses a named one.
   *
   * @throws dev.pods.NetworkException when the namespace does not exist or the bind fails
   * @since 0.2
   */
  default ServerSocket bindInHostNamespace(@org.jspecify.annotations.Nullable String hostNamespace,
      InetSocketAddress address) {
    if (hostNamespace != null) {
      throw new dev.pods.NetworkException("bind " + address + " in host namespace '" + hostNamespace
          + "' failed: this driver binds only in the JVM's own namespace");
    }
    ServerSocket s = null;
    try {
      s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(address);
      return s;
    } catch (java.io.IOException e) {
      if (s != null) {
        try {
          s.close();
        } catch (java.io.IOException c) {
          e.addSuppressed(c);
        }
      }
      throw new dev.pods.NetworkException("bind " + address + " in the JVM's namespace failed: " + e.getMessage(), e);
    }
  }

  /**
   * Opens a TCP connection from inside the instance's namespace to {@code address}. The caller owns the socket.
   *
   * @throws dev.pods.NetworkException when the instance has no network or the connection fails within
   *     {@code timeout}
   */
  Socket connectInNamespace(String instanceId, InetSocketAddress address, Duration timeout);

  /**
   * The persistent address pool of this spec, created empty on first use. Pools with equal names share their state;
   * the same name with another spec is an error.
   */
  IpAddressPool pool(IpPoolSpec spec);

  /** Releases the driver's threads and sockets; networks stay. Idempotent. */
  @Override
  void close();
}
