package dev.pods.etcd;

import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import dev.pods.Instance;
import dev.pods.etcd.internal.ExecRecord;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the exec requests addressed to a node ({@code cluster/exec/NODE/ID}, followed by a watch): each runs once on
 * the local instance it names (without blocking the watch: the local runtime runs it asynchronously), and its result,
 * or why it could not run (the instance does not run here, the local runtime's error), is written at
 * {@code cluster/exec-result/ID} under the request's lease. Thread-safe; {@link #close()} stops the watch.
 */
final class ExecServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ExecServer.class);

  private final EtcdKeyspace space;
  private final ClusterKeys keys;
  private final String node;
  private final HostInstances local;
  private final HostWriter writer;
  /** Requests seen and not yet gone from etcd (only the watch's thread touches it). */
  private final Set<String> seen = new HashSet<>();
  private @Nullable PrefixWatch watch;

  ExecServer(EtcdKeyspace space, String node, HostInstances local, HostWriter writer) {
    this.space = space;
    this.keys = new ClusterKeys(space);
    this.node = node;
    this.local = local;
    this.writer = writer;
  }

  void start() {
    watch = PrefixWatch.follow(space, dir(), "pods-host-exec-" + node, this::read);
  }

  private String dir() {
    return ClusterKeys.EXEC + node + "/";
  }

  private void read() {
    GetResponse r = space.call("node '" + node + "' reading its exec requests",
        () -> space.kv().get(keys.key(dir()), GetOption.builder().isPrefix(true).build()));
    Set<String> now = new HashSet<>();
    for (KeyValue kv : r.getKvs()) {
      String id = keys.nameIn(dir(), kv);
      now.add(id);
      if (seen.add(id)) {
        run(id, kv);
      }
    }
    seen.retainAll(now);
  }

  private void run(String id, KeyValue kv) {
    long lease = kv.getLease();
    ExecRecord req;
    try {
      req = keys.value(kv, ExecRecord.class);
    } catch (RuntimeException e) {
      writer.execResult(id, failed("not an exec request: " + e.getMessage()), lease);
      return;
    }
    Optional<Instance> i = local.find(req.pod(), req.instance());
    if (i.isEmpty()) {
      writer.execResult(id, failed("instance " + req.pod() + "/" + req.instance() + " does not run on node " + node),
          lease);
      return;
    }
    ExecRequest x;
    try {
      x = new ExecRequest(req.argv(), req.stdin(), Duration.ofMillis(req.timeoutMillis()));
    } catch (RuntimeException e) {
      writer.execResult(id, failed("bad exec request: " + e.getMessage()), lease);
      return;
    }
    LOG.debug("node {}: exec {} on {}/{}: {}", node, id, req.pod(), req.instance(), req.argv());
    try {
      i.get().execAsync(x).whenComplete((result, error) -> writer.execResult(id, error == null ? answer(result)
          : failed(message(error)), lease));
    } catch (RuntimeException e) {
      writer.execResult(id, failed(message(e)), lease);
    }
  }

  private static ExecRecord.Result answer(ExecResult r) {
    return new ExecRecord.Result(r.exitCode(), r.stdout(), r.stderr(), r.timedOut(), null);
  }

  private static ExecRecord.Result failed(String why) {
    return new ExecRecord.Result(-1, new byte[0], new byte[0], false, why);
  }

  private static String message(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    return String.valueOf(c.getMessage());
  }

  @Override
  public void close() {
    PrefixWatch w = watch;
    if (w != null) {
      w.close();
    }
  }
}
