package dev.pods.etcd;

import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.etcd.internal.ClusterJson;
import dev.pods.etcd.internal.EventRecord;
import dev.pods.etcd.internal.ExecRecord;
import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.PodDocuments;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a client of the cluster reads of it, kept current by one etcd watch on the cluster's keys: the desired pods
 * ({@code cluster/pods/}), the instances' status records, the assignments and the live nodes; the events, exec answers
 * and changes it sees are handed to a {@link Listener}. Read once in one transaction, then watched from the next
 * revision; a watch that fails (its revision compacted, etcd unreachable for long) is started again from a fresh read,
 * and the listener is told the differences.
 *
 * <p>Thread-safe. Readers never block; {@link #awaitChange} blocks until the next change or its timeout. The listener
 * is called on the watch's thread, one call at a time, and must return quickly. {@link #close()} stops the watch.
 */
final class ClusterView implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

  /** What the view tells its owner; every method must return quickly. */
  interface Listener {
    /** A pod document appeared, changed ({@code now} set) or went away ({@code now} null). */
    void pod(String name, @Nullable Pod now);

    /** An instance's status changed; {@code now} is null when the record is gone (removed, or the lease expired). */
    void status(String instance, @Nullable StatusRecord before, @Nullable StatusRecord now);

    /** An instance's assignment was written. */
    void assignment(String instance, Assignment now);

    /** A node wrote an event of pod {@code pod}. */
    void event(String pod, PodEvent e);

    /** A node answered exec request {@code id}. */
    void execResult(String id, ExecRecord.Result result);
  }

  private final EtcdKeyspace space;
  private final ClusterKeys keys;
  private final Listener listener;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Map<String, Pod> pods = new TreeMap<>();
  private final Map<String, StatusRecord> status = new TreeMap<>();
  private final Map<String, Assignment> assignments = new TreeMap<>();
  private final Set<String> live = new TreeSet<>();
  private final ExecutorService restarts = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pods-cluster-watch");
    t.setDaemon(true);
    return t;
  });
  private long changes;
  private int generation;
  private Watch.@Nullable Watcher watcher;
  private boolean closed;

  private ClusterView(EtcdKeyspace space, Listener listener) {
    this.space = space;
    this.keys = new ClusterKeys(space);
    this.listener = listener;
  }

  /** Reads the cluster (one request) and starts watching it. */
  static ClusterView open(EtcdKeyspace space, Listener listener) {
    ClusterView v = new ClusterView(space, listener);
    v.start();
    return v;
  }

  private void start() {
    TxnResponse r = space.call("reading the cluster's pods", () -> space.kv().txn().Then(
        keys.readDir(ClusterKeys.PODS), keys.readDir(ClusterKeys.STATUS), keys.readDir(ClusterKeys.ASSIGN),
        keys.readDir(ClusterKeys.NODES)).commit());
    Map<String, Pod> p = new TreeMap<>();
    for (KeyValue kv : r.getGetResponses().get(0).getKvs()) {
      p.put(keys.nameIn(ClusterKeys.PODS, kv), pod(kv));
    }
    Map<String, StatusRecord> s = new TreeMap<>();
    for (KeyValue kv : r.getGetResponses().get(1).getKvs()) {
      s.put(keys.nameIn(ClusterKeys.STATUS, kv), keys.value(kv, StatusRecord.class));
    }
    Map<String, Assignment> a = new TreeMap<>();
    for (KeyValue kv : r.getGetResponses().get(2).getKvs()) {
      Assignment x = keys.value(kv, Assignment.class);
      a.put(x.instance(), x);
    }
    Set<String> n = new TreeSet<>();
    for (KeyValue kv : r.getGetResponses().get(3).getKvs()) {
      n.add(keys.nameIn(ClusterKeys.NODES, kv));
    }
    int gen;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      gen = ++generation;
      // differences to what was known before (nothing on the first read): told as changes
      for (String name : union(pods.keySet(), p.keySet())) {
        if (!java.util.Objects.equals(pods.get(name), p.get(name))) {
          listener.pod(name, p.get(name));
        }
      }
      for (String id : union(status.keySet(), s.keySet())) {
        if (!java.util.Objects.equals(status.get(id), s.get(id))) {
          listener.status(id, status.get(id), s.get(id));
        }
      }
      a.forEach((id, x) -> {
        if (!x.equals(assignments.get(id))) {
          listener.assignment(id, x);
        }
      });
      pods.clear();
      pods.putAll(p);
      status.clear();
      status.putAll(s);
      assignments.clear();
      assignments.putAll(a);
      live.clear();
      live.addAll(n);
      changes++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    Watch.Watcher w = space.client().getWatchClient().watch(keys.all(),
        WatchOption.builder().isPrefix(true).withPrevKV(true).withRevision(r.getHeader().getRevision() + 1).build(),
        Watch.listener(resp -> apply(gen, resp), e -> failed(gen, e)));
    lock.lock();
    try {
      if (closed || gen != generation) {
        w.close();
      } else {
        watcher = w;
      }
    } finally {
      lock.unlock();
    }
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new TreeSet<>(a);
    all.addAll(b);
    return all;
  }

  private Pod pod(KeyValue kv) {
    return PodDocuments.decode(kv.getValue().getBytes(), ClusterKeys.text(kv.getKey()));
  }

  private void apply(int gen, WatchResponse r) {
    lock.lock();
    try {
      if (closed || gen != generation) {
        return;
      }
      for (WatchEvent e : r.getEvents()) {
        try {
          apply(e);
        } catch (RuntimeException ex) {
          LOG.warn("cluster under {}: cannot read {}", space.prefix(), ClusterKeys.text(e.getKeyValue().getKey()), ex);
        }
      }
      changes++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void apply(WatchEvent e) {
    KeyValue kv = e.getKeyValue();
    boolean put = e.getEventType() == WatchEvent.EventType.PUT;
    String rel = ClusterKeys.text(kv.getKey()).substring(space.prefix().length() + 1);
    if (rel.startsWith(ClusterKeys.PODS)) {
      String name = rel.substring(ClusterKeys.PODS.length());
      Pod now = put ? pod(kv) : null;
      if (now == null) {
        pods.remove(name);
      } else {
        pods.put(name, now);
      }
      listener.pod(name, now);
    } else if (rel.startsWith(ClusterKeys.STATUS)) {
      String id = rel.substring(ClusterKeys.STATUS.length());
      StatusRecord now = put ? keys.value(kv, StatusRecord.class) : null;
      StatusRecord before = now == null ? status.remove(id) : status.put(id, now);
      listener.status(id, before, now);
    } else if (rel.startsWith(ClusterKeys.ASSIGN)) {
      if (put) {
        Assignment a = keys.value(kv, Assignment.class);
        if (!a.equals(assignments.put(a.instance(), a))) {
          listener.assignment(a.instance(), a);
        }
      } else {
        assignments.remove(rel.substring(ClusterKeys.ASSIGN.length()));
      }
    } else if (rel.startsWith(ClusterKeys.NODES)) {
      String name = rel.substring(ClusterKeys.NODES.length());
      if (put) {
        live.add(name);
      } else {
        live.remove(name);
      }
    } else if (rel.startsWith(ClusterKeys.EVENTS) && put) {
      String pod = rel.substring(ClusterKeys.EVENTS.length(), rel.lastIndexOf('/'));
      listener.event(pod, EventRecord.read(kv.getValue().getBytes(), rel));
    } else if (rel.startsWith(ClusterKeys.EXEC_RESULT) && put) {
      listener.execResult(rel.substring(ClusterKeys.EXEC_RESULT.length()),
          ClusterJson.read(kv.getValue().getBytes(), ExecRecord.Result.class, rel));
    }
  }

  private void failed(int gen, Throwable e) {
    lock.lock();
    try {
      if (closed || gen != generation) {
        return;
      }
    } finally {
      lock.unlock();
    }
    LOG.warn("cluster under {}: watch failed, reading the cluster again", space.prefix(), e);
    restarts.execute(() -> {
      for (int attempt = 0; !isClosed(); attempt++) {
        try {
          start();
          return;
        } catch (RuntimeException ex) {
          LOG.warn("cluster under {}: cannot read it again (attempt {})", space.prefix(), attempt + 1, ex);
          try {
            TimeUnit.SECONDS.sleep(1); // etcd unreachable: nothing to be woken by
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    });
  }

  private boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  /** The desired pods now, by name. */
  Map<String, Pod> pods() {
    lock.lock();
    try {
      return new TreeMap<>(pods);
    } finally {
      lock.unlock();
    }
  }

  /** The desired pod {@code name} now, or null. */
  @Nullable Pod pod(String name) {
    lock.lock();
    try {
      return pods.get(name);
    } finally {
      lock.unlock();
    }
  }

  /** The status record of instance {@code POD/UNIT-INDEX} now, or null. */
  @Nullable StatusRecord status(String instance) {
    lock.lock();
    try {
      return status.get(instance);
    } finally {
      lock.unlock();
    }
  }

  /** The status records of pod {@code pod}'s instances, by {@code UNIT-INDEX}. */
  Map<String, StatusRecord> statusOf(String pod) {
    lock.lock();
    try {
      Map<String, StatusRecord> out = new TreeMap<>();
      status.forEach((id, s) -> {
        if (id.startsWith(pod + "/")) {
          out.put(id.substring(pod.length() + 1), s);
        }
      });
      return out;
    } finally {
      lock.unlock();
    }
  }

  /** The assignment of instance {@code POD/UNIT-INDEX} now, or null. */
  @Nullable Assignment assignment(String instance) {
    lock.lock();
    try {
      return assignments.get(instance);
    } finally {
      lock.unlock();
    }
  }

  /** Whether node {@code name} is live now. */
  boolean live(String name) {
    lock.lock();
    try {
      return live.contains(name);
    } finally {
      lock.unlock();
    }
  }

  /** A counter that grows at every change the view applied. */
  long changes() {
    lock.lock();
    try {
      return changes;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Blocks until {@link #changes()} differs from {@code seen}, at most {@code nanos}.
   *
   * @throws InterruptedException when interrupted
   */
  void awaitChange(long seen, long nanos) throws InterruptedException {
    lock.lock();
    try {
      long left = nanos;
      while (changes == seen && left > 0 && !closed) {
        left = changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Stops the watch; idempotent. */
  @Override
  public void close() {
    Watch.Watcher w;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      w = watcher;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (w != null) {
      w.close();
    }
    restarts.shutdownNow();
  }
}
