package dev.pods.etcd;

import dev.pods.etcd.internal.AddressRecord;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The placement leader's release of private addresses: an instance no longer desired, whose assignment the leader
 * removed (so no live node lists it), gives its address back to the cluster's shared pool. One transaction per
 * instance that deletes the pool's holder and block keys and the instance's {@link AddressRecord}, guarded so that
 * it does nothing when the instance is desired again meanwhile (a pod put anew keeps its addresses) or the holder's
 * block changed. Stateless; blocking (a few requests per instance).
 */
final class AddressReleases {
  private static final Logger LOG = LoggerFactory.getLogger(AddressReleases.class);

  private AddressReleases() {}

  /** Releases the address of {@code instance} ({@code POD/UNIT-INDEX}) when it is not desired; false otherwise. */
  static boolean release(EtcdKeyspace space, ClusterKeys keys, String instance) {
    ByteSequence recordKey = keys.key(ClusterKeys.ADDRESSES + instance);
    List<KeyValue> rec = space.call("releasing the address of " + instance,
        () -> space.kv().get(recordKey, GetOption.DEFAULT)).getKvs();
    if (rec.isEmpty()) {
      return false;
    }
    AddressRecord a = keys.value(rec.get(0), AddressRecord.class);
    ByteSequence holderKey = space.key("pools/" + a.pool() + "/holder/" + a.holder());
    List<KeyValue> held = space.call("releasing the address of " + instance,
        () -> space.kv().get(holderKey, GetOption.DEFAULT)).getKvs();
    ByteSequence desired = keys.key(ClusterKeys.DESIRED + instance);
    List<Cmp> guards = new java.util.ArrayList<>(List.of(
        new Cmp(desired, Cmp.Op.EQUAL, CmpTarget.version(0)),
        new Cmp(recordKey, Cmp.Op.EQUAL, CmpTarget.modRevision(rec.get(0).getModRevision()))));
    List<Op> ops = new java.util.ArrayList<>(List.of(Op.delete(recordKey, DeleteOption.DEFAULT)));
    if (!held.isEmpty()) {
      String block = held.get(0).getValue().toString(StandardCharsets.UTF_8);
      guards.add(new Cmp(holderKey, Cmp.Op.EQUAL, CmpTarget.modRevision(held.get(0).getModRevision())));
      ops.add(Op.delete(holderKey, DeleteOption.DEFAULT));
      ops.add(Op.delete(space.key("pools/" + a.pool() + "/block/" + block), DeleteOption.DEFAULT));
    }
    TxnResponse r = space.call("releasing the address of " + instance, () -> space.kv().txn()
        .If(guards.toArray(Cmp[]::new)).Then(ops.toArray(Op[]::new)).commit());
    if (r.isSucceeded()) {
      LOG.info("{}: private address released (pool {}, holder {})", instance, a.pool(), a.holder());
    }
    return r.isSucceeded();
  }
}
