package dev.pods.etcd;

import dev.pods.ConflictException;
import dev.pods.spi.StateStore;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link StateStore} in etcd: the document of key {@code K} is the value of etcd key {@code PREFIX/state/K}, so
 * every runtime that reaches the cluster sees the same records. A put is one etcd request, committed to a quorum of
 * members (each of which fsyncs its log) before it returns, and atomic: a reader sees the old value or the new one.
 * A document may be as large as the cluster's request limit (1.5 MiB by default, etcd's
 * {@code --max-request-bytes}).
 *
 * <p>Writes are guarded: the store remembers the etcd revision at which it last wrote or read each key, and a put
 * or a remove is a transaction that applies only if the key is still at that revision (absent, for a key it
 * has not seen). A request that is sent again because its answer was lost, and that etcd then commits late (after
 * a newer put of the same key), therefore changes nothing: it can never bring back an older document. The first
 * remove of a key the store has not seen reads it first (two requests); every other put and remove is one.
 *
 * <p>Who may read the documents (they hold agent tokens) is decided by etcd: give the cluster authentication and
 * TLS, set on the jetcd client, on any network other hosts reach. Thread-safe and blocking: each call is bounded by
 * the keyspace's timeout; writes of one key are done one at a time; a failure is a {@link dev.pods.PodsException}
 * naming the key, a {@link ConflictException} when another writer changed the key since this store saw it. Nothing
 * to close (the caller closes the client). It does not keep two runtimes from using one prefix (give each runtime
 * its own): the second one's writes to a key the first changed fail with a {@link ConflictException}.
 *
 * @since 0.1
 */
public final class EtcdStateStore implements StateStore {
  private final EtcdKeyspace space;
  /** Key to the mod revision this store last saw it at (0: absent); a key not here was not seen yet. */
  private final Map<String, Long> seen = new ConcurrentHashMap<>();
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  /** A store of the documents under {@code space}'s prefix + {@code /state/}. */
  public EtcdStateStore(EtcdKeyspace space) {
    this.space = Objects.requireNonNull(space, "space");
  }

  @Override
  public void put(String key, byte[] value) {
    Objects.requireNonNull(key, "key");
    ByteSequence v = ByteSequence.from(value.clone());
    ByteSequence k = keyOf(key);
    ReentrantLock lock = locks.computeIfAbsent(key, x -> new ReentrantLock());
    lock.lock();
    try {
      Long expected = seen.get(key);
      for (int round = 0; round < 2; round++) {
        Cmp guard = expected == null
            ? new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0))
            : new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(expected));
        TxnResponse r = space.call("writing state '" + key + "'", () -> space.kv().txn()
            .If(guard).Then(Op.put(k, v, PutOption.DEFAULT)).Else(Op.get(k, GetOption.DEFAULT)).commit());
        if (r.isSucceeded()) {
          seen.put(key, r.getHeader().getRevision());
          return;
        }
        List<KeyValue> now = r.getGetResponses().get(0).getKvs();
        if (!now.isEmpty() && now.get(0).getValue().equals(v)) {
          seen.put(key, now.get(0).getModRevision()); // an earlier attempt of this call was committed
          return;
        }
        if (expected != null) {
          throw conflict(key, expected, now);
        }
        // A key this store has not seen yet, written before it was made: from now on it is guarded.
        expected = now.isEmpty() ? 0L : now.get(0).getModRevision();
      }
      throw conflict(key, expected, List.of());
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void remove(String key) {
    Objects.requireNonNull(key, "key");
    ByteSequence k = keyOf(key);
    ReentrantLock lock = locks.computeIfAbsent(key, x -> new ReentrantLock());
    lock.lock();
    try {
      Long expected = seen.get(key);
      if (expected == null) {
        GetResponse g = space.call("reading state '" + key + "'", () -> space.kv().get(k));
        expected = g.getKvs().isEmpty() ? 0L : g.getKvs().get(0).getModRevision();
      }
      if (expected == 0L) {
        seen.put(key, 0L);
        return;
      }
      long exp = expected;
      TxnResponse r = space.call("removing state '" + key + "'", () -> space.kv().txn()
          .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(exp)))
          .Then(Op.delete(k, DeleteOption.DEFAULT)).Else(Op.get(k, GetOption.DEFAULT)).commit());
      if (!r.isSucceeded() && !r.getGetResponses().get(0).getKvs().isEmpty()) {
        throw conflict(key, exp, r.getGetResponses().get(0).getKvs());
      }
      seen.put(key, 0L); // removed now, or by an earlier attempt of this call
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<Entry> all() {
    ByteSequence dir = space.key("state/");
    GetResponse r = space.call("listing state under " + dir,
        () -> space.kv().get(dir, GetOption.builder().isPrefix(true).build()));
    int skip = dir.toString(StandardCharsets.UTF_8).length();
    List<Entry> out = new ArrayList<>();
    for (KeyValue kv : r.getKvs()) {
      String name = kv.getKey().toString(StandardCharsets.UTF_8);
      // A read that raced a put of this store must not take the key back to an older revision.
      seen.merge(name.substring(skip), kv.getModRevision(), Math::max);
      out.add(new Entry("etcd:" + name, kv.getValue().getBytes()));
    }
    return out;
  }

  private static ConflictException conflict(String key, long expected, List<KeyValue> now) {
    String found = now.isEmpty() ? "it is gone" : "it is at revision " + now.get(0).getModRevision();
    return new ConflictException("state '" + key + "' in etcd was changed by another writer: this store last saw"
        + " it at revision " + expected + ", " + found + " (two runtimes on one prefix?)");
  }

  private ByteSequence keyOf(String key) {
    return space.key("state/" + key);
  }
}
