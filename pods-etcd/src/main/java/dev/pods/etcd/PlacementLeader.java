package dev.pods.etcd;

import dev.pods.PodsException;
import dev.pods.etcd.internal.NodeRecord;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's part in the election (etcd's, through jetcd {@code Election}, under the node's lease) and, while it
 * leads, the placement loop: at every change of nodes, desired instances or assignments it reads the cluster at one
 * revision, runs {@link Placement}, and writes what changed. Every write is a transaction that compares the leader
 * key's create revision with its own, so a deposed leader's write (however late it reaches etcd) fails; moving an
 * instance off a node also compares that the node's record is gone. An instance no longer desired loses its assignment
 * once no live node lists it, and then its private address ({@link AddressReleases}). Runs on daemon thread
 * {@code pods-leader-NAME}.
 */
final class PlacementLeader implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PlacementLeader.class);
  /** Assignments changed per transaction (etcd allows 128 operations in each branch by default). */
  static final int BATCH = 40;

  private final EtcdKeyspace space;
  private final ClusterKeys keys;
  private final String name;
  private final long leaseId;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Semaphore dirty = new Semaphore(0);
  private volatile @Nullable LeaderKey leading;
  private @Nullable Thread thread;
  private volatile @Nullable CompletableFuture<CampaignResponse> campaign;

  PlacementLeader(EtcdKeyspace space, ClusterKeys keys, String name, long leaseId) {
    this.space = space;
    this.keys = keys;
    this.name = name;
    this.leaseId = leaseId;
  }

  void start() {
    Thread t = new Thread(this::run, "pods-leader-" + name);
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  long requests() {
    return space.requests();
  }

  boolean leading() {
    return leading != null;
  }

  private void run() {
    ByteSequence election = keys.key(ClusterKeys.LEADER);
    while (!closed.get()) {
      LeaderKey key;
      try {
        key = campaign(election);
      } catch (PodsException e) {
        if (!closed.get()) {
          LOG.warn("node {}: campaign for leader failed; it tries again", name, e);
          pause();
        }
        continue;
      }
      if (key == null) {
        return;
      }
      long since = System.nanoTime();
      LOG.info("node {} leads (election key {} at revision {})", name, ClusterKeys.text(key.getKey()),
          key.getRevision());
      leading = key;
      try {
        lead(key);
      } finally {
        leading = null;
        LOG.info("node {} no longer leads, after {} ms", name, (System.nanoTime() - since) / 1_000_000);
      }
    }
  }

  /** Blocks until this node leads (its key), or is closed (null). */
  private @Nullable LeaderKey campaign(ByteSequence election) {
    space.sent();
    CompletableFuture<CampaignResponse> f = space.client().getElectionClient()
        .campaign(election, leaseId, ByteSequence.from(name, StandardCharsets.UTF_8));
    campaign = f;
    while (!closed.get()) {
      try {
        return f.get(500, TimeUnit.MILLISECONDS).getLeader();
      } catch (TimeoutException e) {
        // still campaigning
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      } catch (ExecutionException e) {
        throw new PodsException("node '" + name + "' campaigning for leader: " + e.getCause().getMessage(),
            e.getCause());
      }
    }
    f.cancel(true);
    return null;
  }

  private void lead(LeaderKey key) {
    Watch.Watcher w = space.client().getWatchClient().watch(keys.all(), WatchOption.builder().isPrefix(true).build(),
        Watch.listener(r -> {
          if (keys.touchesPlacement(r)) {
            dirty.release();
          }
        }, e -> {
          LOG.warn("node {}: the leader's watch failed", name, e);
          dirty.release();
        }));
    try {
      dirty.release();
      while (!closed.get()) {
        try {
          // The watch wakes the leader at every change placement reads (a failed round wakes it too); without one, it reads again
          // now and then all the same.
          dirty.tryAcquire(ClusterNode.SAFETY_READ.toMillis(), TimeUnit.MILLISECONDS);
          dirty.drainPermits();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        if (closed.get()) {
          return;
        }
        try {
          if (!placeOnce(key)) {
            return;
          }
        } catch (PodsException e) {
          LOG.warn("node {}: placement failed; it tries again", name, e);
          pause();
          dirty.release();
        }
      }
    } finally {
      w.close();
    }
  }

  /** One round of placement; false when this node turns out to be deposed. */
  boolean placeOnce(LeaderKey key) {
    ClusterSnapshot s = ClusterSnapshot.read(space, keys, "leader '" + name + "' reading the cluster");
    List<Assignment> next = Placement.place(new ArrayList<>(s.desired.values()), Nodes.live(s), s.assignments);
    List<Change> changes = new ArrayList<>();
    for (Assignment a : next) {
      if (!a.equals(s.assignments.get(a.instance()))) {
        changes.add(new Change(a.instance(), a, s.assignments.get(a.instance())));
      }
    }
    for (Map.Entry<String, Assignment> e : s.assignments.entrySet()) {
      String node = e.getValue().node();
      NodeRecord holder = node == null ? null : s.live.get(node);
      // An instance no longer desired keeps its assignment until its node has stopped it (its record says so).
      if (!s.desired.containsKey(e.getKey()) && (holder == null || !holder.instances().contains(e.getKey()))) {
        changes.add(new Change(e.getKey(), null, e.getValue()));
      }
    }
    for (int from = 0; from < changes.size(); from += BATCH) {
      List<Change> batch = changes.subList(from, Math.min(changes.size(), from + BATCH));
      Write w = write(key, batch, s);
      if (w == Write.DEPOSED) {
        LOG.info("node {}: its placement write was refused: it is no longer the leader", name);
        return false;
      }
      if (w == Write.STALE) {
        dirty.release();
        return true;
      }
      for (Change c : batch) {
        LOG.info("leader {}: {}", name, c.after == null ? c.instance + " removed (no longer desired)"
            : c.after.why());
      }
    }
    // An instance neither desired nor assigned (its assignment went once no live node listed it, in this round or an
    // earlier one whose release failed) gives its private address back to the shared pool.
    java.util.Set<String> unassigned = new java.util.HashSet<>();
    changes.stream().filter(c -> c.after == null).forEach(c -> unassigned.add(c.instance));
    for (String id : s.addressed) {
      if (!s.desired.containsKey(id) && (!s.assignments.containsKey(id) || unassigned.contains(id))) {
        AddressReleases.release(space, keys, id);
      }
    }
    return true;
  }

  enum Write { DONE, STALE, DEPOSED }

  /** One guarded transaction of {@code batch}. */
  Write write(LeaderKey key, List<Change> batch, ClusterSnapshot s) {
    List<Cmp> guards = new ArrayList<>();
    guards.add(leadership(key));
    List<Op> ops = new ArrayList<>();
    for (Change c : batch) {
      ByteSequence k = keys.key(ClusterKeys.ASSIGN + c.instance);
      Long rev = s.assignmentRevisions.get(c.instance);
      guards.add(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(rev == null ? 0 : rev)));
      String from = c.before == null ? null : c.before.node();
      if (from != null && (c.after == null || !from.equals(c.after.node()))) {
        // A node's record lists what it runs: an instance leaves a node only once the node's record is gone, or
        // (no longer desired) is the one read, which does not list it.
        Long nodeRev = s.liveRevisions.get(from);
        guards.add(new Cmp(keys.key(ClusterKeys.NODES + from), Cmp.Op.EQUAL,
            nodeRev == null || c.after != null ? CmpTarget.version(0) : CmpTarget.modRevision(nodeRev)));
      }
      ops.add(c.after == null ? Op.delete(k, DeleteOption.DEFAULT)
          : Op.put(k, ClusterKeys.json(c.after), PutOption.DEFAULT));
    }
    TxnResponse r = space.call("leader '" + name + "' writing " + batch.size() + " assignment(s)",
        () -> space.kv().txn().If(guards.toArray(Cmp[]::new)).Then(ops.toArray(Op[]::new))
            .Else(Op.get(key.getKey(), GetOption.DEFAULT)).commit());
    if (r.isSucceeded()) {
      return Write.DONE;
    }
    var now = r.getGetResponses().get(0).getKvs();
    return now.isEmpty() || now.get(0).getCreateRevision() != key.getRevision() ? Write.DEPOSED : Write.STALE;
  }

  /** The compare that makes a write the leader's: its election key still exists, created at its revision. */
  static Cmp leadership(LeaderKey key) {
    return new Cmp(key.getKey(), Cmp.Op.EQUAL, CmpTarget.createRevision(key.getRevision()));
  }

  /** One instance's assignment before and after ({@code null}: none). */
  record Change(String instance, @Nullable Assignment after, @Nullable Assignment before) {}

  private void pause() {
    try {
      Thread.sleep(500); // etcd unreachable: the next try after a short pause, not in a busy loop
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    dirty.release();
    CompletableFuture<CampaignResponse> f = campaign;
    if (f != null) {
      f.cancel(true);
    }
    Thread t = thread;
    if (t != null && t != Thread.currentThread()) {
      t.interrupt();
      try {
        t.join(space.timeout().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
