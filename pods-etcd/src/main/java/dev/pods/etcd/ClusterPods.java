package dev.pods.etcd;

import dev.pods.Pod;
import dev.pods.PodsException;
import dev.pods.spi.PodDocuments;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The pods a cluster should run, as the leader's placement and the nodes read them: {@link #put} records a pod
 * (its document, {@link PodDocuments}, which the nodes run their instances from) and its instances
 * ({@link DesiredInstance#of}) as desired, {@link #remove} takes them away, {@link #assignments()} shows where the
 * leader placed them and why.
 *
 * <p>Thread-safe and blocking: each request is bounded by the keyspace's timeout. Nothing to close (the caller closes
 * the client).
 *
 * @since 0.1
 */
public final class ClusterPods {
  /** etcd's default limit of operations in one transaction branch. */
  static final int MAX_OPS = 128;

  private final EtcdKeyspace space;
  private final ClusterKeys keys;

  /** The desired pods under {@code space}'s prefix. */
  public ClusterPods(EtcdKeyspace space) {
    this.space = Objects.requireNonNull(space, "space");
    this.keys = new ClusterKeys(space);
  }

  /**
   * Records {@code pod}'s instances as desired, replacing what was desired of a pod of that name (instances it no
   * longer has are taken away). Two requests (a read, then one transaction guarded by what it read).
   *
   * @throws PodsException when the pod has more instances than one transaction holds (128 operations), or etcd fails
   */
  public void put(Pod pod) {
    Objects.requireNonNull(pod, "pod");
    List<DesiredInstance> want = DesiredInstance.of(pod);
    String dir = ClusterKeys.DESIRED + pod.name() + "/";
    for (int attempt = 0; attempt < 10; attempt++) {
      GetResponse had = space.call("reading desired pod '" + pod.name() + "'",
          () -> space.kv().get(keys.key(dir), GetOption.builder().isPrefix(true).withKeysOnly(true).build()));
      Map<String, Long> gone = new TreeMap<>();
      for (KeyValue kv : had.getKvs()) {
        gone.put(keys.nameIn(dir, kv), kv.getModRevision());
      }
      // Compares on what was read: a transaction sent again and committed late, after a newer put, changes nothing.
      List<Cmp> guards = new ArrayList<>();
      List<Op> ops = new ArrayList<>();
      for (DesiredInstance d : want) {
        Long rev = gone.remove(d.name());
        ByteSequence k = keys.key(ClusterKeys.DESIRED + d.id());
        guards.add(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(rev == null ? 0 : rev)));
        ops.add(Op.put(k, ClusterKeys.json(d), PutOption.DEFAULT));
      }
      // the pod itself, which the nodes run their instances from: written with its instances, in one transaction
      ops.add(Op.put(keys.key(ClusterKeys.PODS + pod.name()), ByteSequence.from(PodDocuments.encode(pod)),
          PutOption.DEFAULT));
      gone.forEach((n, rev) -> {
        ByteSequence k = keys.key(dir + n);
        guards.add(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(rev)));
        ops.add(Op.delete(k, DeleteOption.DEFAULT));
      });
      if (ops.size() > MAX_OPS) {
        throw new PodsException("pod '" + pod.name() + "' has " + want.size() + " instances: a cluster takes at"
            + " most " + MAX_OPS + " instance changes of one pod at a time");
      }
      TxnResponse r = space.call("recording desired pod '" + pod.name() + "'",
          () -> space.kv().txn().If(guards.toArray(Cmp[]::new)).Then(ops.toArray(Op[]::new)).commit());
      if (r.isSucceeded()) {
        return;
      }
    }
    throw new PodsException("recording desired pod '" + pod.name() + "' failed: it kept changing meanwhile");
  }

  /**
   * Takes every instance of pod {@code name} away from the desired ones; the leader then has them stopped and
   * removes their assignments. Two requests (a read, then one transaction guarded by what it read, so one sent
   * again and committed late does not take away a pod put again meanwhile).
   */
  public void remove(String name) {
    Objects.requireNonNull(name, "name");
    String dir = ClusterKeys.DESIRED + name + "/";
    for (int attempt = 0; attempt < 10; attempt++) {
      GetResponse had = space.call("reading desired pod '" + name + "'",
          () -> space.kv().get(keys.key(dir), GetOption.builder().isPrefix(true).withKeysOnly(true).build()));
      if (had.getKvs().isEmpty()) {
        return;
      }
      List<Cmp> guards = new ArrayList<>();
      List<Op> ops = new ArrayList<>();
      ops.add(Op.delete(keys.key(ClusterKeys.PODS + name), DeleteOption.DEFAULT));
      for (KeyValue kv : had.getKvs()) {
        guards.add(new Cmp(kv.getKey(), Cmp.Op.EQUAL, CmpTarget.modRevision(kv.getModRevision())));
        ops.add(Op.delete(kv.getKey(), DeleteOption.DEFAULT));
      }
      TxnResponse r = space.call("removing desired pod '" + name + "'",
          () -> space.kv().txn().If(guards.toArray(Cmp[]::new)).Then(ops.toArray(Op[]::new)).commit());
      if (r.isSucceeded()) {
        return;
      }
    }
    throw new PodsException("removing desired pod '" + name + "' failed: it kept changing meanwhile");
  }

  /** Every assignment the leader made, by instance ({@code POD/UNIT-INDEX}). One request. */
  public Map<String, Assignment> assignments() {
    return ClusterSnapshot.read(space, keys, "reading assignments").assignments;
  }
}
