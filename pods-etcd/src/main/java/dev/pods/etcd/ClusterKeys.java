package dev.pods.etcd;

import dev.pods.etcd.internal.ClusterJson;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;

/**
 * The cluster's keys under a keyspace's prefix (documented on {@link EtcdKeyspace}), and reading them back.
 * Stateless.
 */
final class ClusterKeys {
  static final String NODES = "cluster/nodes/";
  static final String MEMBERS = "cluster/members/";
  static final String DESIRED = "cluster/desired/";
  static final String PODS = "cluster/pods/";
  static final String STATUS = "cluster/status/";
  static final String EVENTS = "cluster/events/";
  static final String EXEC = "cluster/exec/";
  static final String EXEC_RESULT = "cluster/exec-result/";
  static final String ASSIGN = "cluster/assign/";
  static final String ADDRESSES = "cluster/addresses/";
  static final String LEADER = "cluster/leader";

  private final EtcdKeyspace space;

  ClusterKeys(EtcdKeyspace space) {
    this.space = space;
  }

  ByteSequence key(String relative) {
    return space.key(relative);
  }

  /**
   * Whether any event of {@code r} changed a key that placement and the node list read: not only what the nodes
   * report or serve (statuses, events, exec requests and answers) or the pod documents (written with their desired
   * instances). The leader's and {@link Nodes#watch}'s watches wake on those only: a stream of events from the
   * guests costs them no request.
   */
  boolean touchesPlacement(io.etcd.jetcd.watch.WatchResponse r) {
    String base = space.prefix() + "/";
    for (io.etcd.jetcd.watch.WatchEvent e : r.getEvents()) {
      String k = text(e.getKeyValue().getKey());
      String rel = k.startsWith(base) ? k.substring(base.length()) : k;
      if (!(rel.startsWith(STATUS) || rel.startsWith(EVENTS) || rel.startsWith(EXEC) || rel.startsWith(EXEC_RESULT)
          || rel.startsWith(PODS))) {
        return true;
      }
    }
    return r.getEvents().isEmpty(); // a response without events (a progress notice, a restart) reads again
  }

  ByteSequence all() {
    return space.key("cluster/");
  }

  /** A read of every key under {@code dir}. */
  Op readDir(String dir) {
    return Op.get(space.key(dir), GetOption.builder().isPrefix(true).build());
  }

  /** The name of {@code kv}'s key after {@code dir}. */
  String nameIn(String dir, KeyValue kv) {
    return text(kv.getKey()).substring(space.prefix().length() + 1 + dir.length());
  }

  <T> T value(KeyValue kv, Class<T> type) {
    return ClusterJson.read(kv.getValue().getBytes(), type, text(kv.getKey()));
  }

  static ByteSequence json(Object value) {
    return ByteSequence.from(ClusterJson.write(value));
  }

  static String text(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }
}
