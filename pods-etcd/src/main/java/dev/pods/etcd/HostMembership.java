package dev.pods.etcd;

import dev.pods.InstanceState;
import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.Cidr;
import dev.pods.spi.PodMembership;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link PodMembership} of a cluster node's local runtime, fed from etcd: {@link #hosts} answers from the set of
 * instances the node was assigned and started ({@link #host}, {@link #unhost}); {@link #remotePeers} from the
 * {@link StatusRecord}s of the pod's instances that other nodes run ({@code cluster/status/}, followed by a watch).
 * Listeners hear of every pod whose answers changed.
 *
 * <p>Until {@link #settle} is called (while the local runtime is built and adopts what an earlier run left),
 * {@link #hosts} answers from the assignments read at {@link #start}: an adopted instance still assigned to this node
 * is kept, one the leader moved away meanwhile is removed at once. (One assigned here but not recorded by the runtime
 * may be created then: the node would start it right after joining anyway.)
 *
 * <p>Thread-safe; answers from memory. {@link #close()} stops the watch.
 */
final class HostMembership implements PodMembership, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HostMembership.class);

  private final EtcdKeyspace space;
  private final ClusterKeys keys;
  private final String node;
  private final Set<String> hosted = ConcurrentHashMap.newKeySet();
  private volatile boolean settled;
  /** The instances assigned to this node when it started, which {@link #hosts} answers from until it settles. */
  private volatile Set<String> assigned = Set.of();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  /** Remote peers by pod, as last read. */
  private volatile Map<String, List<RemotePeer>> peers = Map.of();
  /** Pods being deployed, and those of them whose change is held back until the deploy returned. */
  private final Set<String> deploying = new HashSet<>();
  private final Set<String> heldBack = new HashSet<>();
  private @Nullable PrefixWatch watch;

  HostMembership(EtcdKeyspace space, String node) {
    this.space = space;
    this.keys = new ClusterKeys(space);
    this.node = node;
  }

  /** Reads the statuses once (blocking, so the peers are known before the runtime starts) and follows them. */
  void start() {
    Set<String> mine = new HashSet<>();
    ClusterSnapshot.read(space, keys, "node '" + node + "' reading its assignments").assignments.values().forEach(a -> {
      if (node.equals(a.node()) && a.state() == Assignment.State.PLACED) {
        mine.add(a.instance());
      }
    });
    assigned = Set.copyOf(mine);
    readStatuses();
    watch = PrefixWatch.follow(space, ClusterKeys.STATUS, "pods-host-peers-" + node, this::readStatuses);
  }

  /**
   * From now on {@link #hosts} answers from the hosted set: of {@code adopted} ({@code POD/UNIT-INDEX}), those that
   * were assigned here are hosted (the others are being removed).
   */
  void settle(Set<String> adopted) {
    for (String id : adopted) {
      if (assigned.contains(id)) {
        hosted.add(id);
      }
    }
    settled = true;
  }

  /** Marks {@code id} ({@code POD/UNIT-INDEX}) hosted here and tells the listeners. */
  void host(String id) {
    if (hosted.add(id)) {
      changed(pod(id));
    }
  }

  /**
   * Marks {@code id} hosted here without telling the listeners: its pod is about to be deployed, which creates it
   * (see {@link #deploying}).
   */
  void hostForDeploy(String id) {
    hosted.add(id);
  }

  /** Marks {@code id} not hosted here and tells the listeners. */
  void unhost(String id) {
    if (hosted.remove(id)) {
      changed(pod(id));
    }
  }

  /** The instances of {@code pod} hosted here, as {@code UNIT-INDEX}. */
  Set<String> hosted(String pod) {
    Set<String> out = new TreeSet<>();
    for (String id : hosted) {
      if (pod(id).equals(pod)) {
        out.add(id.substring(pod.length() + 1));
      }
    }
    return out;
  }

  static String pod(String id) {
    return id.substring(0, id.indexOf('/'));
  }

  @Override
  public boolean hosts(String pod, String instance) {
    String id = pod + "/" + instance;
    return settled ? hosted.contains(id) : assigned.contains(id);
  }

  @Override
  public List<RemotePeer> remotePeers(String pod) {
    List<RemotePeer> all = peers.getOrDefault(pod, List.of());
    List<RemotePeer> out = new ArrayList<>(all.size());
    for (RemotePeer p : all) {
      if (!hosted.contains(pod + "/" + p.name())) {
        out.add(p);
      }
    }
    return out;
  }

  @Override
  public AutoCloseable listen(Consumer<String> listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /**
   * Holds back the calls for {@code pod} while the runtime deploys it: a change told then reaches the deployment
   * while deploy builds it, and its re-plan would create the instances deploy creates a second time.
   */
  void deploying(String pod) {
    synchronized (deploying) {
      deploying.add(pod);
    }
  }

  /** The deploy of {@code pod} returned: a change held back meanwhile is told now. */
  void deployed(String pod) {
    boolean tell;
    synchronized (deploying) {
      deploying.remove(pod);
      tell = heldBack.remove(pod);
    }
    if (tell) {
      changed(pod);
    }
  }

  private void changed(String pod) {
    synchronized (deploying) {
      if (deploying.contains(pod)) {
        heldBack.add(pod);
        return;
      }
    }
    for (Consumer<String> l : listeners) {
      try {
        l.accept(pod);
      } catch (RuntimeException e) {
        LOG.warn("node {}: a membership listener failed for pod {}", node, pod, e);
      }
    }
  }

  private void readStatuses() {
    GetResponse r = space.call("node '" + node + "' reading instance statuses",
        () -> space.kv().get(keys.key(ClusterKeys.STATUS), GetOption.builder().isPrefix(true).build()));
    Map<String, List<RemotePeer>> next = new HashMap<>();
    for (KeyValue kv : r.getKvs()) {
      String rel = keys.nameIn(ClusterKeys.STATUS, kv);
      int slash = rel.indexOf('/');
      int dash = rel.lastIndexOf('-');
      if (slash < 0 || dash < slash) {
        continue;
      }
      StatusRecord s = keys.value(kv, StatusRecord.class);
      if (s.node().equals(node) || s.privateAddress() == null) {
        continue; // its own, or one its node could not build (no address it runs with)
      }
      try {
        RemotePeer p = new RemotePeer(rel.substring(slash + 1, dash), Integer.parseInt(rel.substring(dash + 1)),
            Cidr.parseAddress(s.privateAddress()), s.publicAddress() == null ? null
                : Cidr.parseAddress(s.publicAddress()), InstanceState.valueOf(s.state()));
        next.computeIfAbsent(rel.substring(0, slash), k -> new ArrayList<>()).add(p);
      } catch (IllegalArgumentException e) {
        LOG.warn("node {}: status {} is not an instance's; ignored", node, rel, e);
      }
    }
    Map<String, List<RemotePeer>> before = peers;
    peers = next;
    Set<String> pods = new HashSet<>(before.keySet());
    pods.addAll(next.keySet());
    for (String pod : pods) {
      if (!Objects.equals(before.get(pod), next.get(pod))) {
        changed(pod);
      }
    }
  }

  @Override
  public void close() {
    PrefixWatch w = watch;
    if (w != null) {
      w.close();
    }
    listeners.clear();
  }
}
