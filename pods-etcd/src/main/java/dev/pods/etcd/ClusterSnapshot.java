package dev.pods.etcd;

import dev.pods.etcd.internal.NodeRecord;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The whole cluster's state read in one etcd transaction (so at one revision): live nodes, members, desired
 * instances, assignments (each with its key's mod revision, for guarded writes), the leader's name and which
 * instances hold an address in the shared pool. Immutable.
 */
final class ClusterSnapshot {
  final long revision;
  final Map<String, NodeRecord> live = new TreeMap<>();
  final Map<String, Long> liveRevisions = new TreeMap<>();
  final Map<String, NodeRecord> members = new TreeMap<>();
  final Map<String, DesiredInstance> desired = new TreeMap<>();
  final Map<String, Assignment> assignments = new TreeMap<>();
  final Map<String, Long> assignmentRevisions = new TreeMap<>();
  final @Nullable String leader;
  /** The instances whose private address has an address record (held in the shared pool). */
  final java.util.Set<String> addressed = new java.util.TreeSet<>();

  private ClusterSnapshot(ClusterKeys keys, TxnResponse r) {
    revision = r.getHeader().getRevision();
    for (KeyValue kv : r.getGetResponses().get(0).getKvs()) {
      NodeRecord n = keys.value(kv, NodeRecord.class);
      live.put(n.name(), n);
      liveRevisions.put(n.name(), kv.getModRevision());
    }
    for (KeyValue kv : r.getGetResponses().get(1).getKvs()) {
      NodeRecord n = keys.value(kv, NodeRecord.class);
      members.put(n.name(), n);
    }
    for (KeyValue kv : r.getGetResponses().get(2).getKvs()) {
      DesiredInstance d = keys.value(kv, DesiredInstance.class);
      desired.put(d.id(), d);
    }
    for (KeyValue kv : r.getGetResponses().get(3).getKvs()) {
      Assignment a = keys.value(kv, Assignment.class);
      assignments.put(a.instance(), a);
      assignmentRevisions.put(a.instance(), kv.getModRevision());
    }
    var leaders = r.getGetResponses().get(4).getKvs();
    leader = leaders.isEmpty() ? null : ClusterKeys.text(leaders.get(0).getValue());
    for (KeyValue kv : r.getGetResponses().get(5).getKvs()) {
      addressed.add(keys.nameIn(ClusterKeys.ADDRESSES, kv));
    }
  }

  /** Reads the cluster: one etcd request. */
  static ClusterSnapshot read(EtcdKeyspace space, ClusterKeys keys, String why) {
    Op[] reads = {
        keys.readDir(ClusterKeys.NODES), keys.readDir(ClusterKeys.MEMBERS), keys.readDir(ClusterKeys.DESIRED),
        keys.readDir(ClusterKeys.ASSIGN),
        // etcd's election: the oldest key under the election's name is the leader's; its value is the proposal.
        Op.get(keys.key(ClusterKeys.LEADER + "/"), GetOption.builder().isPrefix(true).withLimit(1)
            .withSortField(GetOption.SortTarget.CREATE).withSortOrder(GetOption.SortOrder.ASCEND).build()),
        Op.get(keys.key(ClusterKeys.ADDRESSES), GetOption.builder().isPrefix(true).withKeysOnly(true).build())};
    TxnResponse r = space.call(why, () -> space.kv().txn().Then(reads).commit());
    return new ClusterSnapshot(keys, r);
  }
}
