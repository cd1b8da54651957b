package dev.pods.etcd;

import dev.pods.etcd.internal.NodeRecord;
import dev.pods.spi.Cidr;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's nodes as any client of etcd sees them (what {@code pods nodes} prints): every node that ever
 * joined under the keyspace, with what it offers, its load, the instances it runs, whether it is alive and whether
 * it leads.
 *
 * <p>Thread-safe. {@link #list()} blocks for one etcd request. {@link #watch} calls its listener on a thread of
 * its own; the caller closes what it returns. Nothing else to close (the caller closes the client).
 *
 * @since 0.1
 */
public final class Nodes {
  private static final Logger LOG = LoggerFactory.getLogger(Nodes.class);

  private final EtcdKeyspace space;
  private final ClusterKeys keys;

  /** The nodes under {@code space}'s prefix. */
  public Nodes(EtcdKeyspace space) {
    this.space = Objects.requireNonNull(space, "space");
    this.keys = new ClusterKeys(space);
  }

  /**
   * Every node, by name: live ones ({@link NodeStatus.Health#READY}) with the load they report, and lost ones
   * (joined once, lease expired) with what they offered. One etcd request.
   *
   * @throws dev.pods.PodsException when etcd does not answer within the keyspace's timeout
   */
  public List<NodeStatus> list() {
    return of(ClusterSnapshot.read(space, keys, "listing nodes"));
  }

  static List<NodeStatus> of(ClusterSnapshot s) {
    List<NodeStatus> out = new ArrayList<>();
    for (NodeRecord m : s.members.values()) {
      int cpus = 0;
      int memory = 0;
      for (Assignment a : s.assignments.values()) {
        DesiredInstance d = s.desired.get(a.instance());
        if (d != null && m.name().equals(a.node()) && a.state() == Assignment.State.PLACED) {
          cpus += d.cpus();
          memory += d.memoryMib();
        }
      }
      NodeRecord live = s.live.get(m.name());
      boolean leads = m.name().equals(s.leader);
      out.add(live != null
          ? new NodeStatus(live.name(), live.address(), live.cpus(), live.memoryMib(), live.freeMemoryMib(),
              live.instances(), cpus, memory, NodeStatus.Health.READY, leads, underlay(live))
          : new NodeStatus(m.name(), m.address(), m.cpus(), m.memoryMib(), 0, List.of(), cpus, memory,
              NodeStatus.Health.LOST, false, underlay(m)));
    }
    return out;
  }

  private static @Nullable Inet4Address underlay(NodeRecord r) {
    return r.underlay() == null ? null : Cidr.parseAddress(r.underlay());
  }

  /** The live nodes of a snapshot, as placement takes them. */
  static List<NodeStatus> live(ClusterSnapshot s) {
    return of(s).stream().filter(n -> n.health() == NodeStatus.Health.READY).toList();
  }

  /**
   * Calls {@code listener} with {@link #list()} now and after every change of the cluster's nodes, assignments or
   * leader (changes close together may come as one call; a list equal to the one before is not repeated), on a
   * daemon thread {@code pods-nodes-watch}, one call at a time. The listener must return quickly. Close the result
   * to stop (idempotent). A list that cannot be read is logged and read again at the next change.
   */
  public AutoCloseable watch(Consumer<List<NodeStatus>> listener) {
    Objects.requireNonNull(listener, "listener");
    ExecutorService calls = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "pods-nodes-watch");
      t.setDaemon(true);
      return t;
    });
    AtomicBoolean pending = new AtomicBoolean();
    List<List<NodeStatus>> last = new ArrayList<>(1);
    Runnable refresh = () -> {
      pending.set(false);
      try {
        List<NodeStatus> now = list();
        if (last.isEmpty() || !last.get(0).equals(now)) {
          last.clear();
          last.add(now);
          listener.accept(now);
        }
      } catch (RuntimeException e) {
        if (!calls.isShutdown()) { // a list cut short by close() is no failure
          LOG.warn("nodes under {}: cannot list them", space.prefix(), e);
        }
      }
    };
    Runnable signal = () -> {
      if (pending.compareAndSet(false, true) && !calls.isShutdown()) {
        calls.execute(refresh);
      }
    };
    Watch.Watcher w = space.client().getWatchClient().watch(keys.all(),
        WatchOption.builder().isPrefix(true).build(), Watch.listener(r -> {
          if (keys.touchesPlacement(r)) {
            signal.run();
          }
        },
            e -> LOG.warn("nodes under {}: watch failed", space.prefix(), e)));
    signal.run();
    return () -> {
      w.close();
      calls.shutdownNow();
    };
  }
}
