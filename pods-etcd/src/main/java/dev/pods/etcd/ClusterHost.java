package dev.pods.etcd;

import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.PodMembership;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs this host's share of a cluster on a local {@link PodRuntime}: a {@link ClusterNode} whose instances are the
 * local runtime's.
 *
 * <pre>{@code
 * try (Client etcd = Client.builder().endpoints("http://10.250.0.1:2379").build();
 *      LinuxNetworkDriver net = LinuxNetworkDriver.builder()...build();
 *      ClusterHost host = ClusterHost.join(EtcdKeyspace.of(etcd, "/pods"), new NodeSpec("h1", "10.250.0.1", 8, 16384),
 *          Duration.ofSeconds(10), net, PodRuntime.localBuilder().dataDir(dir))) {
 *   // runs until closed: the leader's assignments to h1 run here
 * }
 * }</pre>
 *
 * <p>What it does:
 * <ul>
 *   <li>builds the local runtime from the given builder with a {@link PodMembership} fed from etcd (the runtime runs
 *       the instances of a pod the leader assigned to this node and this node started, and sees the pod's instances
 *       on other nodes, as their nodes' status records say, as remote peers), and with the given network driver
 *       wrapped so that its private pool (the pool of subnets) is the cluster's ({@link EtcdIpAddressPool} under the
 *       keyspace, shared by every node: an instance keeps its private address when it moves; a node never releases
 *       one, the placement leader does once the instance is no longer desired); the public pool stays local;</li>
 *   <li>joins as a {@link ClusterNode} whose local instances are the runtime's: starting an assigned instance deploys
 *       its pod from the pod's document ({@code cluster/pods/POD}) when the runtime has no deployment of it, else has
 *       the runtime create it; stopping one has the runtime remove it (and destroys the local deployment once the pod
 *       is no longer desired); what the runtime adopted from its state folder after a restart counts as running (the
 *       node gives up what was moved away meanwhile before it starts anything);</li>
 *   <li>applies a newer pod document (an apply or scale by a client) to the local deployment;</li>
 *   <li>writes a status record of every local instance at every state change (under the node's lease) and removes it
 *       when the instance is removed here, writes the local deployments' events as event records (batched, kept ten
 *       minutes; output and journal lines beyond 200 a second after a burst of 2000 are dropped and an
 *       {@link dev.pods.PodEvent.EventsDropped} says how many), and answers the exec requests addressed to this node;
 *       a failed write is tried again.</li>
 * </ul>
 * A node that is fenced ({@link ClusterNode#lost()}: its lease expired) has its local instances stopped, logs so at
 * ERROR and reports {@link #lost()}; the host application closes it and may join again.
 *
 * <p>Thread-safe. {@link #join} blocks while the runtime is built and the node registers. {@link #close()} leaves the
 * cluster (stops the local instances, revokes the lease), then closes what it built: the node, the watches, the writer
 * and the local runtime (which leaves nothing running, as the instances were stopped). It closes neither the etcd
 * client of the keyspace nor the network driver given, nor anything the caller gave the runtime builder.
 *
 * @since 0.2
 */
public final class ClusterHost implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterHost.class);

  private final NodeSpec spec;
  private final HostMembership membership;
  private final HostWriter writer;
  private final HostInstances instances;
  private final PodRuntime runtime;
  private final ClusterNode node;
  private final ExecServer exec;
  private final PrefixWatch pods;
  private final AtomicBoolean lost = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  private ClusterHost(NodeSpec spec, HostMembership membership, HostWriter writer, HostInstances instances,
      PodRuntime runtime, ClusterNode node, ExecServer exec, PrefixWatch pods) {
    this.spec = spec;
    this.membership = membership;
    this.writer = writer;
    this.instances = instances;
    this.runtime = runtime;
    this.node = node;
    this.exec = exec;
    this.pods = pods;
  }

  /**
   * Builds the local runtime from {@code runtime} (its network driver set to {@code network} with the cluster's
   * private pool, and its membership set to this node's) and joins the cluster under {@code space}'s prefix as
   * {@code spec}, with a lease of {@code lease} (see {@link ClusterNode#join}).
   *
   * @param network the local network driver; the caller keeps owning it and closes it after this host
   * @param runtime the local runtime's builder with everything else set (hypervisor, files, images, state folder,
   *     owner...); its {@code networkDriver} and {@code membership} are set here
   * @throws PodsException when a live lease holds the name, etcd fails, or the runtime cannot be built; nothing is
   *     left running or registered then
   * @throws IllegalArgumentException when the lease is shorter than 2 s or not whole seconds
   */
  public static ClusterHost join(EtcdKeyspace space, NodeSpec spec, Duration lease, NetworkDriver network,
      PodRuntime.Builder runtime) {
    Objects.requireNonNull(space, "space");
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(runtime, "runtime");
    List<AutoCloseable> built = new ArrayList<>();
    ClusterNode[] joined = new ClusterNode[1];
    try {
      HostMembership m = new HostMembership(space, spec.name());
      built.add(m);
      m.start();
      HostWriter w = new HostWriter(space, spec.name(), () -> joined[0] == null ? 0 : joined[0].leaseId());
      built.add(w);
      ClusterAddressPools pools = new ClusterAddressPools(network, space);
      HostInstances local = new HostInstances(space, spec.name(), m, w, pools::privatePool);
      built.add(local);
      PodRuntime rt = runtime.networkDriver(pools).membership(m).build();
      built.add(rt);
      Set<String> adopted = local.runtime(rt);
      m.settle(adopted);
      ClusterNode n = ClusterNode.join(space, spec, local, lease);
      joined[0] = n;
      built.add(n);
      w.wake();
      ExecServer x = new ExecServer(space, spec.name(), local, w);
      built.add(x);
      x.start();
      PrefixWatch p = PrefixWatch.follow(space, ClusterKeys.PODS, "pods-host-docs-" + spec.name(), local::readPods);
      built.add(p);
      ClusterHost h = new ClusterHost(spec, m, w, local, rt, n, x, p);
      n.whenLost(h::fenced);
      LOG.info("node {} runs its share of the cluster under {} (adopted {})", spec.name(), space.prefix(), adopted);
      return h;
    } catch (RuntimeException e) {
      for (int i = built.size() - 1; i >= 0; i--) {
        try {
          built.get(i).close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  private void fenced() {
    if (lost.compareAndSet(false, true)) {
      writer.stopStatuses();
      LOG.error("node {} is lost: its lease expired (etcd unreachable, or the host paused too long); its local"
          + " instances were stopped and it runs nothing more; close it and join again", spec.name());
    }
  }

  /** The node's name. */
  public String name() {
    return spec.name();
  }

  /** The cluster node (leadership, requests). */
  public ClusterNode node() {
    return node;
  }

  /**
   * The local runtime: its deployments hold this node's share of the cluster's pods. Owned by this host (closed with
   * it); deploy nothing on it directly (a client puts pods in the cluster instead).
   */
  public PodRuntime runtime() {
    return runtime;
  }

  /** The membership the local runtime follows (what it hosts, the remote peers it sees). */
  public PodMembership membership() {
    return membership;
  }

  /**
   * Whether the node was fenced (its lease expired) and has stopped its local instances: it does nothing more. (Turns
   * true once the instances are stopped, a little after {@link ClusterNode#lost()}.)
   */
  public boolean lost() {
    return lost.get();
  }

  /** Leaves the cluster and closes what this host built (see the class comment). Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    pods.close();
    exec.close();
    node.close();
    instances.close();
    writer.close();
    membership.close();
    runtime.close();
    LOG.info("node {} left the cluster", spec.name());
  }

  @Override
  public String toString() {
    return "cluster host " + spec.name();
  }
}
