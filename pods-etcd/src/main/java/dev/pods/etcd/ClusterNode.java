package dev.pods.etcd;

import dev.pods.PodsException;
import dev.pods.etcd.internal.NodeRecord;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of a cluster coordinated through etcd: it registers under a lease (its name, address, CPUs, memory, free
 * memory, the instances it runs and, when it has one, its VPC fabric's underlay address, which {@link FabricPeers}
 * of the other nodes follow) and keeps the lease alive, runs what the leader assigns to it through its
 * {@link LocalInstances}, and campaigns to be the leader that places instances ({@link #leads()}).
 *
 * <p><b>Joining.</b> {@link #join} refuses a name that a live lease holds (another node of that name, or an earlier
 * run of this one whose lease has not expired yet). Before it starts anything, it reads the assignments and gives
 * up (stops) every instance its host runs that is not assigned to it any more: what the leader moved away while the
 * node was lost. Its record lists an instance only while that instance's assignment names it (each write of the
 * record compares the assignments' revisions), and the leader moves an instance off a node only once that node's
 * record is gone (its compare), so no two live node records ever list one instance.
 *
 * <p><b>Losing the lease.</b> When the node's lease expires (its JVM killed, its link cut), etcd deletes its record
 * and the leader reassigns its instances. The node itself, when it has had no answer to its keep-alives for three
 * quarters of the lease period (and one sent then gets none within an eighth of it), or finds its record gone,
 * stops every instance it runs (it cannot know whether they
 * were moved: fencing) and stops working: {@link #lost()} turns true, and the host application joins again.
 *
 * <p>Thread-safe. {@link #join} blocks for a few etcd requests. The node works on daemon threads
 * {@code pods-node-NAME} (assignments and records) and {@code pods-leader-NAME} (election and placement).
 * {@link #close()} leaves the cluster: it stops the threads, stops the local instances, and revokes the lease (the
 * record goes at once and the leader moves the instances to the other nodes); it does not close the client.
 *
 * @since 0.1
 */
public final class ClusterNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
  /** The shortest lease etcd grants with its default timing. */
  static final Duration MIN_LEASE = Duration.ofSeconds(2);
  /** How often a node and a leader read the cluster when no watch event woke them. */
  static final Duration SAFETY_READ = Duration.ofSeconds(30);

  private final EtcdKeyspace space;
  private final ClusterKeys keys;
  private final NodeSpec spec;
  private final LocalInstances local;
  private final Duration lease;
  private final long leaseId;
  private final Set<String> running = new TreeSet<>();
  /** Assigned here, its start failed (tried again at each reconcile); only the node's thread touches it. */
  private final Set<String> failedStarts = new TreeSet<>();
  private final Semaphore wake = new Semaphore(0);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean lost = new AtomicBoolean();
  private final AtomicLong lastAck = new AtomicLong(System.nanoTime());
  private volatile int freeMemoryMib;
  private @Nullable NodeRecord written;
  private @Nullable CloseableClient keepAlive;
  private final List<Watch.Watcher> watchers = new java.util.concurrent.CopyOnWriteArrayList<>();
  private @Nullable Thread worker;
  private @Nullable PlacementLeader leader;
  private volatile @Nullable Runnable whenLost;

  private ClusterNode(EtcdKeyspace space, NodeSpec spec, LocalInstances local, Duration lease, long leaseId) {
    this.space = space;
    this.keys = new ClusterKeys(space);
    this.spec = spec;
    this.local = local;
    this.lease = lease;
    this.leaseId = leaseId;
    this.freeMemoryMib = spec.memoryMib();
  }

  /**
   * Joins the cluster under {@code space}'s prefix as {@code spec}, with a lease of {@code lease} (whole seconds, at
   * least 2): a lost node is noticed that long after its last keep-alive.
   *
   * @throws PodsException when a live lease holds the name (naming it), or etcd fails; nothing is left registered
   * @throws IllegalArgumentException when the lease is shorter than 2 s or not whole seconds
   */
  public static ClusterNode join(EtcdKeyspace space, NodeSpec spec, LocalInstances local, Duration lease) {
    Objects.requireNonNull(space, "space");
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(local, "local");
    if (lease.compareTo(MIN_LEASE) < 0 || lease.toMillis() % 1000 != 0) {
      throw new IllegalArgumentException("node lease must be whole seconds, at least " + MIN_LEASE.toSeconds()
          + " s, not " + lease);
    }
    // What was moved away while the node was gone is given up before its lease is granted: stopping instances can
    // take longer than a short lease, which nothing keeps alive until the node registered.
    ClusterSnapshot before = ClusterSnapshot.read(space, new ClusterKeys(space),
        "node '" + spec.name() + "' reading its assignments");
    if (!before.live.containsKey(spec.name())) {
      giveUpMovedAway(spec.name(), local, before);
    }
    long id = space.call("granting the lease of node '" + spec.name() + "'",
        () -> space.client().getLeaseClient().grant(lease.toSeconds())).getID();
    ClusterNode n = new ClusterNode(space, spec, local, lease, id);
    try {
      n.register();
    } catch (RuntimeException e) {
      n.revoke();
      throw e;
    }
    n.start();
    return n;
  }

  /** The node's name. */
  public String name() {
    return spec.name();
  }

  /** Whether this node is the leader now (it places instances). */
  public boolean leads() {
    PlacementLeader l = leader;
    return l != null && l.leading();
  }

  /** Whether the node lost its lease and fenced itself (stopped its instances); it does nothing more. */
  public boolean lost() {
    return lost.get();
  }

  /** The id of the node's lease (records that must go when the node is lost are put under it). */
  long leaseId() {
    return leaseId;
  }

  /** The node's lease period. */
  Duration lease() {
    return lease;
  }

  /**
   * Runs {@code r} once the node is fenced (after it stopped its instances), on the node's thread; at once when it is
   * fenced already.
   */
  void whenLost(Runnable r) {
    whenLost = r;
    if (lost.get()) {
      r.run();
    }
  }

  /**
   * Reports the host's free memory (its load); the node's record shows it shortly after. Does not block.
   *
   * @throws IllegalArgumentException when negative
   */
  public void reportFreeMemory(int mib) {
    if (mib < 0) {
      throw new IllegalArgumentException("free memory of node '" + name() + "' cannot be " + mib + " MiB");
    }
    freeMemoryMib = mib;
    wake.release();
  }

  /**
   * The etcd requests this node has sent so far for itself (registering, reading its assignments, writing its
   * record), not counting its leader's ({@link #leaderRequests()}) nor its keep-alives and watches (streams).
   */
  public long requests() {
    return space.requests();
  }

  /**
   * The etcd requests this node's part in the election and placement has sent so far (a campaign counts once;
   * the leader's watch, a stream, not at all).
   */
  public long leaderRequests() {
    PlacementLeader l = leader;
    return l == null ? 0 : l.requests();
  }

  // --------------------------------------------------------------------------------------------- registering

  private void register() {
    ByteSequence me = keys.key(ClusterKeys.NODES + name());
    for (int attempt = 0; attempt < 20; attempt++) {
      ClusterSnapshot s = ClusterSnapshot.read(space, keys, "node '" + name() + "' reading its assignments");
      if (s.live.containsKey(name())) {
        throw new PodsException("node '" + name() + "' cannot join the cluster under " + space.prefix()
            + ": a live lease holds that name (another node called '" + name() + "', or an earlier run of this one"
            + " whose lease of up to " + lease.toSeconds() + " s has not expired yet)");
      }
      giveUpMovedAway(name(), local, s);
      running.clear();
      running.addAll(local.running());
      NodeRecord record = record();
      List<Cmp> guards = new ArrayList<>();
      guards.add(new Cmp(me, Cmp.Op.EQUAL, CmpTarget.version(0)));
      guards.addAll(assignmentGuards(s));
      NodeRecord member = new NodeRecord(name(), spec.address(), spec.cpus(), spec.memoryMib(), 0, List.of(),
          underlayText());
      TxnResponse r = space.call("registering node '" + name() + "'", () -> space.kv().txn()
          .If(guards.toArray(Cmp[]::new))
          .Then(Op.put(me, ClusterKeys.json(record), PutOption.builder().withLeaseId(leaseId).build()),
              Op.put(keys.key(ClusterKeys.MEMBERS + name()), ClusterKeys.json(member), PutOption.DEFAULT))
          .commit());
      if (r.isSucceeded()) {
        written = record;
        LOG.info("node {} joined the cluster under {} (lease {} s) running {}", name(), space.prefix(),
            lease.toSeconds(), running);
        return;
      }
    }
    throw new PodsException("node '" + name() + "' cannot join: the assignments kept changing while it registered");
  }

  /** Stops what {@code local} runs that {@code s} assigns to no node or to another one. */
  private static void giveUpMovedAway(String name, LocalInstances local, ClusterSnapshot s) {
    for (String id : new TreeSet<>(local.running())) {
      Assignment a = s.assignments.get(id);
      if (a == null || !name.equals(a.node())) {
        LOG.info("node {}: gives up {} before starting anything: {}", name, id,
            a == null ? "no longer desired" : "assigned to " + a.node() + " now (" + a.why() + ")");
        local.stop(id);
      }
    }
  }

  /** Compares that the assignments of what the node runs are still those of {@code s}. */
  private List<Cmp> assignmentGuards(ClusterSnapshot s) {
    List<Cmp> guards = new ArrayList<>();
    for (String id : running) {
      Long rev = s.assignmentRevisions.get(id);
      guards.add(new Cmp(keys.key(ClusterKeys.ASSIGN + id), Cmp.Op.EQUAL, CmpTarget.modRevision(rev == null ? 0 : rev)));
    }
    return guards;
  }

  private NodeRecord record() {
    return new NodeRecord(name(), spec.address(), spec.cpus(), spec.memoryMib(), freeMemoryMib,
        new ArrayList<>(running), underlayText());
  }

  private @Nullable String underlayText() {
    java.net.Inet4Address u = spec.underlay();
    return u == null ? null : u.getHostAddress();
  }

  // --------------------------------------------------------------------------------------------- working

  private void start() {
    keepAlive = space.client().getLeaseClient().keepAlive(leaseId, new StreamObserver<LeaseKeepAliveResponse>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {
        if (r.getTTL() > 0) {
          lastAck.set(System.nanoTime());
        }
      }

      @Override
      public void onError(Throwable t) {
        // jetcd restarts the keep-alive stream half a second later, this observer kept.
        LOG.warn("node {}: keep-alive stream of its lease failed; jetcd restarts it", name(), t);
        wake.release();
      }

      @Override
      public void onCompleted() {
        wake.release();
      }
    });
    for (String dir : List.of(ClusterKeys.ASSIGN, ClusterKeys.DESIRED)) {
      watchers.add(space.client().getWatchClient().watch(keys.key(dir), WatchOption.builder().isPrefix(true).build(),
          Watch.listener(r -> wake.release(), e -> {
            LOG.warn("node {}: watch of {} failed; it reads the cluster now", name(), dir, e);
            wake.release();
          })));
    }
    Thread w = new Thread(this::work, "pods-node-" + name());
    w.setDaemon(true);
    worker = w;
    w.start();
    PlacementLeader l = new PlacementLeader(space.counted(), keys, name(), leaseId);
    leader = l;
    l.start();
    wake.release();
  }

  private void work() {
    long fenceAfter = lease.toNanos() * 3 / 4;
    long tick = Math.max(100, lease.toMillis() / 8);
    long reconciled = System.nanoTime();
    while (!closed.get()) {
      boolean woken;
      try {
        woken = wake.tryAcquire(tick, TimeUnit.MILLISECONDS);
        wake.drainPermits();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (closed.get()) {
        return;
      }
      if (System.nanoTime() - lastAck.get() > fenceAfter && !renewNow(tick)) {
        fence("no answer to its keep-alives for " + (System.nanoTime() - lastAck.get()) / 1_000_000 + " ms");
        return;
      }
      // The watches wake the node at every change of the assignments or desired instances; the ticks are for the
      // lease, and now and then for a read that a lost watch event would have asked for.
      if (!woken && System.nanoTime() - reconciled < SAFETY_READ.toNanos()) {
        continue;
      }
      reconciled = System.nanoTime();
      try {
        if (!reconcile()) {
          return;
        }
      } catch (RuntimeException e) {
        LOG.warn("node {}: cannot reconcile its assignments now", name(), e);
      }
    }
  }

  /**
   * One keep-alive sent now, waiting at most {@code waitMillis}: the periodic ones may only be late (a busy
   * host), and a node that can still renew its lease is not lost.
   */
  private boolean renewNow(long waitMillis) {
    try {
      long ttl = space.client().getLeaseClient().keepAliveOnce(leaseId).get(waitMillis, TimeUnit.MILLISECONDS)
          .getTTL();
      if (ttl > 0) {
        lastAck.set(System.nanoTime());
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      LOG.debug("node {}: keep-alive now failed", name(), e);
    }
    return false;
  }

  /** Starts and stops to match the assignments, then writes the record; false once the node is fenced. */
  private boolean reconcile() {
    ClusterSnapshot s = ClusterSnapshot.read(space, keys, "node '" + name() + "' reading its assignments");
    if (!s.live.containsKey(name())) {
      fence("its record is gone from etcd (its lease expired)");
      return false;
    }
    Set<String> mine = new TreeSet<>();
    for (Assignment a : s.assignments.values()) {
      if (name().equals(a.node()) && s.desired.containsKey(a.instance())) {
        mine.add(a.instance());
      }
    }
    for (String id : new ArrayList<>(running)) {
      if (!mine.contains(id)) {
        Assignment a = s.assignments.get(id);
        LOG.info("node {}: stops {}: {}", name(), id, a == null ? "no longer desired" : "assigned to " + a.node());
        local.stop(id);
        running.remove(id);
      }
    }
    for (String id : new ArrayList<>(failedStarts)) {
      if (!mine.contains(id)) {
        failedStarts.remove(id); // what a failed start left here (a report of it) goes too
        try {
          local.stop(id);
        } catch (RuntimeException e) {
          LOG.warn("node {}: cannot clear the failed start of {}", name(), id, e);
        }
      }
    }
    for (String id : mine) {
      Assignment a = s.assignments.get(id);
      if (!running.contains(id) && a.state() == Assignment.State.PLACED) {
        LOG.info("node {}: starts {}", name(), a.why());
        try {
          local.start(a);
        } catch (RuntimeException e) {
          // one instance that cannot start here holds up no other; the next reconcile tries it again
          LOG.warn("node {}: cannot start {} now", name(), id, e);
          failedStarts.add(id);
          continue;
        }
        failedStarts.remove(id);
        running.add(id);
      }
    }
    NodeRecord record = record();
    if (record.equals(written)) {
      return true;
    }
    ByteSequence me = keys.key(ClusterKeys.NODES + name());
    List<Cmp> guards = new ArrayList<>();
    guards.add(new Cmp(me, Cmp.Op.EQUAL, CmpTarget.modRevision(s.liveRevisions.get(name()))));
    guards.addAll(assignmentGuards(s));
    TxnResponse r = space.call("node '" + name() + "' writing its record", () -> space.kv().txn()
        .If(guards.toArray(Cmp[]::new))
        .Then(Op.put(me, ClusterKeys.json(record), PutOption.builder().withLeaseId(leaseId).build()))
        .Else(Op.get(me, GetOption.DEFAULT))
        .commit());
    if (r.isSucceeded()) {
      written = record;
    } else {
      List<KeyValue> now = r.getGetResponses().get(0).getKvs();
      if (now.isEmpty()) {
        fence("its record is gone from etcd (its lease expired)");
        return false;
      }
      wake.release(); // something moved meanwhile: read again
    }
    return true;
  }

  /** Stops every local instance: the node cannot tell any more whether they were moved. */
  private void fence(String why) {
    if (!lost.compareAndSet(false, true)) {
      return;
    }
    LOG.warn("node {} is lost ({}): stops its instances {}", name(), why, running);
    for (String id : new ArrayList<>(running)) {
      try {
        local.stop(id);
      } catch (RuntimeException e) {
        LOG.warn("node {}: cannot stop {}", name(), id, e);
      }
      running.remove(id);
    }
    stopThreads();
    Runnable r = whenLost;
    if (r != null) {
      r.run();
    }
  }

  private void stopThreads() {
    PlacementLeader l = leader;
    if (l != null) {
      l.close();
    }
    watchers.forEach(Watch.Watcher::close);
    CloseableClient k = keepAlive;
    if (k != null) {
      k.close();
    }
  }

  private void revoke() {
    try {
      space.call("revoking the lease of node '" + name() + "'",
          () -> space.client().getLeaseClient().revoke(leaseId));
    } catch (PodsException e) {
      LOG.warn("node {}: cannot revoke its lease; it expires within {} s", name(), lease.toSeconds(), e);
    }
  }

  /** Leaves the cluster (see the class comment). Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    wake.release();
    stopThreads();
    Thread w = worker;
    if (w != null && w != Thread.currentThread()) {
      try {
        w.join(space.timeout().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (!lost.get()) {
      // Leaving: what runs here stops first, then the record goes with the lease and the leader moves it all.
      for (String id : new ArrayList<>(running)) {
        try {
          local.stop(id);
        } catch (RuntimeException e) {
          LOG.warn("node {}: cannot stop {} while leaving", name(), id, e);
        }
        running.remove(id);
      }
      revoke();
    }
  }

  @Override
  public String toString() {
    return "node " + name() + " under " + space.prefix();
  }
}
