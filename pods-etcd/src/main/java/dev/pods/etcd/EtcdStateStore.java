package dev.pods.etcd;

import dev.pods.spi.StateStore;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A {@link StateStore} in etcd: the document of key {@code K} is the value of etcd key {@code PREFIX/state/K}, so
 * every runtime that reaches the cluster sees the same records. A put is one etcd request, committed to a quorum of
 * members (each of which fsyncs its log) before it returns, and atomic: a reader sees the old value or the new one.
 * A document may be as large as the cluster's request limit (1.5 MiB by default, etcd's
 * {@code --max-request-bytes}).
 *
 * <p>Who may read the documents (they hold agent tokens) is decided by etcd: give the cluster authentication and
 * TLS, set on the jetcd client, on any network other hosts reach. Thread-safe and blocking: each call is one etcd
 * request bounded by the keyspace's timeout; a failure is a {@link dev.pods.PodsException} naming the key. Nothing
 * to close (the caller closes the client). It does not keep two runtimes from using one prefix: give each runtime
 * its own.
 *
 * @since 0.1
 */
public final class EtcdStateStore implements StateStore {
  private final EtcdKeyspace space;

  /** A store of the documents under {@code space}'s prefix + {@code /state/}. */
  public EtcdStateStore(EtcdKeyspace space) {
    this.space = Objects.requireNonNull(space, "space");
  }

  @Override
  public void put(String key, byte[] value) {
    Objects.requireNonNull(key, "key");
    ByteSequence v = ByteSequence.from(value.clone());
    space.call("writing state '" + key + "'", () -> space.kv().put(keyOf(key), v));
  }

  @Override
  public void remove(String key) {
    Objects.requireNonNull(key, "key");
    space.call("removing state '" + key + "'", () -> space.kv().delete(keyOf(key)));
  }

  @Override
  public List<Entry> all() {
    ByteSequence dir = space.key("state/");
    GetResponse r = space.call("listing state under " + dir,
        () -> space.kv().get(dir, GetOption.builder().isPrefix(true).build()));
    List<Entry> out = new ArrayList<>();
    for (KeyValue kv : r.getKvs()) {
      out.add(new Entry("etcd:" + kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().getBytes()));
    }
    return out;
  }

  private ByteSequence keyOf(String key) {
    return space.key("state/" + key);
  }
}
