package dev.pods.etcd;

import dev.pods.spi.VpcFabric;
import java.net.Inet4Address;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a node's {@link VpcFabric} peers equal to the underlay addresses ({@link NodeSpec#underlay()}) of the live
 * nodes of the cluster other than itself: a node that joins with an underlay address becomes a peer, a node that is
 * lost ({@link NodeStatus.Health#LOST}) or leaves stops being one. Nodes without an underlay address, and one that
 * registered this fabric's own address, are left out.
 *
 * <p>It follows {@link Nodes#watch}: the peers change shortly after every change of the cluster's nodes. A change the
 * fabric fails to apply is logged and tried again every {@link #RETRY} until it succeeds or a newer set replaces it.
 * Instances of one VPC on two nodes reach each other only while each node's fabric lists the other, so a lost node's
 * instances are cut off from the others once they drop it.
 *
 * <p>Thread-safe. {@link #follow} blocks for no etcd request (the first list is read on the watch's thread); the peers
 * are set on a daemon thread {@code pods-fabric-peers}. {@link #close()} stops following (idempotent) and waits for a
 * change in progress; it leaves the fabric's peers as they were last set and closes neither the fabric's driver nor
 * the etcd client.
 *
 * @since 0.2
 */
public final class FabricPeers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FabricPeers.class);
  /** How long after a failed change of the peers it is tried again. */
  public static final Duration RETRY = Duration.ofSeconds(2);

  private final String self;
  private final VpcFabric fabric;
  private final ScheduledThreadPoolExecutor applier;
  private final AtomicReference<@Nullable Set<Inet4Address>> wanted = new AtomicReference<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AutoCloseable watch;
  /** The set last applied without failure; only the applier thread touches it. */
  private @Nullable Set<Inet4Address> applied;

  private FabricPeers(EtcdKeyspace space, String self, VpcFabric fabric) {
    this.self = self;
    this.fabric = fabric;
    this.applier = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "pods-fabric-peers");
      t.setDaemon(true);
      return t;
    });
    applier.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // a retry waiting when closed is dropped
    this.watch = new Nodes(space).watch(nodes -> {
      wanted.set(peersOf(nodes, self, fabric.underlay()));
      submit(0);
    });
  }

  /**
   * Starts keeping {@code fabric}'s peers equal to the underlay addresses of the live nodes under {@code space}'s
   * prefix, except the node named {@code self} (the node this fabric belongs to).
   *
   * @throws IllegalArgumentException when {@code self} is no valid node name
   */
  public static FabricPeers follow(EtcdKeyspace space, String self, VpcFabric fabric) {
    Objects.requireNonNull(space, "space");
    NodeSpec.requireName(self);
    Objects.requireNonNull(fabric, "fabric");
    return new FabricPeers(space, self, fabric);
  }

  /**
   * The peers a node named {@code self} with the underlay address {@code own} gets from {@code nodes}: the underlay
   * addresses of the {@link NodeStatus.Health#READY} nodes not named {@code self}, other than {@code own}.
   */
  static Set<Inet4Address> peersOf(List<NodeStatus> nodes, String self, Inet4Address own) {
    Set<Inet4Address> out = new HashSet<>();
    for (NodeStatus n : nodes) {
      Inet4Address u = n.underlay();
      if (n.health() == NodeStatus.Health.READY && !n.name().equals(self) && u != null) {
        if (u.equals(own)) {
          LOG.warn("fabric peers of node {}: node {} registered this node's own underlay address {}; left out",
              self, n.name(), u.getHostAddress());
        } else {
          out.add(u);
        }
      }
    }
    return Set.copyOf(out);
  }

  private void submit(long delayMillis) {
    if (closed.get()) {
      return;
    }
    try {
      applier.schedule(this::apply, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed meanwhile: nothing more to apply
    }
  }

  private void apply() {
    Set<Inet4Address> want = wanted.get();
    if (want == null || closed.get()) {
      return;
    }
    try {
      // Not compared with fabric.peers(): after a failed change the fabric reports the set it could not apply.
      if (!want.equals(applied)) {
        fabric.peers(want);
        applied = want;
        LOG.info("fabric peers of node {}: {}", self, want.stream().map(Inet4Address::getHostAddress).sorted().toList());
      }
    } catch (RuntimeException e) {
      LOG.warn("fabric peers of node {}: cannot set {}; trying again in {} s", self,
          want.stream().map(Inet4Address::getHostAddress).sorted().toList(), RETRY.toSeconds(), e);
      if (wanted.get() == want) {
        submit(RETRY.toMillis());
      }
    }
  }

  /** Stops following; waits for a change of the peers in progress. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      watch.close();
    } catch (Exception e) {
      LOG.warn("fabric peers of node {}: closing the watch failed", self, e);
    }
    applier.shutdown();
    try {
      if (!applier.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn("fabric peers of node {}: a change of the peers still runs after 30 s", self);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "FabricPeers[" + self + " " + fabric.underlay().getHostAddress() + "]";
  }
}
