package dev.pods.etcd;

import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.InstanceStatus;
import dev.pods.Phase;
import dev.pods.PodsException;
import dev.pods.VncConsole;
import dev.pods.Wait;
import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.Cidr;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * One instance of a pod desired in a cluster, as its {@link ClusterRuntime} shows it: what the node running it
 * reports now (see {@link ClusterRuntime} for how it differs from a local instance). Thread-safe; accessors never
 * block.
 */
final class ClusterInstance implements Instance {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final int RECENT = 50;
  private static final int JOURNAL = 1000;

  private final ClusterDeployment deployment;
  private final String unit;
  private final int index;
  private final Deque<String> output = new ArrayDeque<>();
  private final List<String> allOutput = new ArrayList<>();
  private final Map<String, Deque<String>> journals = new HashMap<>();
  private volatile Instant pendingSince;

  ClusterInstance(ClusterDeployment deployment, String unit, int index) {
    this.deployment = deployment;
    this.unit = unit;
    this.index = index;
    this.pendingSince = deployment.runtime().clock().instant();
  }

  @Override
  public String name() {
    return unit + "-" + index;
  }

  @Override
  public String unit() {
    return unit;
  }

  @Override
  public int index() {
    return index;
  }

  /** The instance's name in the cluster, {@code POD/UNIT-INDEX} (the same on every node that runs it). */
  @Override
  public String id() {
    return deployment.name() + "/" + name();
  }

  /** The domain's name on the node that runs it now; empty when no node reports it. */
  @Override
  public String domainName() {
    StatusRecord s = report();
    return s == null ? "" : s.domain();
  }

  private StatusRecord report() {
    return deployment.runtime().view().status(id());
  }

  private boolean desired() {
    if (deployment.destroyed()) {
      return false;
    }
    return deployment.pod().unit(unit).map(u -> index < u.count()).orElse(false);
  }

  @Override
  public InstanceState state() {
    return status().state();
  }

  @Override
  public Optional<Throwable> failure() {
    InstanceStatus s = status();
    return s.state() == InstanceState.FAILED
        ? Optional.of(new PodsException("instance " + name() + " failed" + where() + ": " + s.reason()))
        : Optional.empty();
  }

  @Override
  public InstanceStatus status() {
    StatusRecord s = report();
    if (s != null) {
      return new InstanceStatus(InstanceState.valueOf(s.state()), Instant.ofEpochMilli(s.sinceMillis()), s.reason(),
          null, 0);
    }
    if (!desired()) {
      return new InstanceStatus(InstanceState.DESTROYED, pendingSince, "no longer desired in the cluster", null, 0);
    }
    return new InstanceStatus(InstanceState.PENDING, pendingSince, deployment.runtime().pendingReason(id()), null, 0);
  }

  void pendingSince(Instant at) {
    pendingSince = at;
  }

  /** {@code " on h1"}, or empty when no node reports it. */
  String where() {
    StatusRecord s = report();
    return s == null ? "" : " on " + s.node();
  }

  /**
   * The private address its node reports.
   *
   * @throws IllegalStateException when no node reports it now (it is PENDING), naming why
   */
  @Override
  public Inet4Address privateAddress() {
    StatusRecord s = report();
    if (s == null) {
      throw new IllegalStateException("instance " + id() + " has no private address it runs with: no node reports"
          + " it now (" + deployment.runtime().pendingReason(id()) + ")");
    }
    String a = s.privateAddress();
    if (a == null) {
      throw new IllegalStateException("instance " + id() + " has no private address it runs with: " + s.reason());
    }
    return Cidr.parseAddress(a);
  }

  @Override
  public Optional<Inet4Address> publicAddress() {
    StatusRecord s = report();
    return s == null || s.publicAddress() == null ? Optional.empty()
        : Optional.of(Cidr.parseAddress(s.publicAddress()));
  }

  /** The last lines (up to 50) the nodes reported from the phase blocks since this runtime watches. */
  @Override
  public synchronized List<String> recentOutput() {
    return List.copyOf(output);
  }

  /** The last lines (up to 1000) of journal input {@code key} the nodes reported since this runtime watches. */
  @Override
  public synchronized List<String> journal(String key) {
    Deque<String> j = journals.get(key);
    return j == null ? List.of() : List.copyOf(j);
  }

  synchronized void output(String line) {
    output.addLast(line);
    if (output.size() > RECENT) {
      output.removeFirst();
    }
    allOutput.add(line);
    if (allOutput.size() > Wait.OUTPUT_HISTORY) {
      allOutput.remove(0);
    }
  }

  synchronized void journalLine(String key, String line) {
    Deque<String> j = journals.computeIfAbsent(key, k -> new ArrayDeque<>());
    j.addLast(line);
    if (j.size() > JOURNAL) {
      j.removeFirst();
    }
  }

  /**
   * Not available over a cluster.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public String consoleOutput() {
    throw unsupported("the console log", "it is on the node that runs the instance" + where()
        + "; read the guest's output with recentOutput() or the events");
  }

  @Override
  public ExecResult exec(String... argv) {
    return exec(ExecRequest.of(argv));
  }

  @Override
  public ExecResult exec(ExecRequest request) {
    try {
      return execAsync(request).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PodsException("exec in instance " + id() + " was interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException r) {
        throw r;
      }
      throw new PodsException("exec in instance " + id() + " failed: " + c, c);
    }
  }

  /**
   * Through etcd on the node that runs the instance; the future fails at once when no node runs it now, when that
   * node stops reporting it while the command runs, or after the request's timeout and a grace of 30 s.
   */
  @Override
  public CompletableFuture<ExecResult> execAsync(ExecRequest request) {
    return deployment.runtime().exec(id(), request).exceptionallyCompose(e -> CompletableFuture.failedFuture(
        e instanceof CompletionException && e.getCause() != null ? e.getCause() : e));
  }

  @Override
  public void await(Wait condition, Duration timeout) {
    String missing = deployment.waitFor(List.of(this), condition, timeout);
    if (missing != null) {
      throw new dev.pods.WaitTimeoutException(condition, timeout, "instance " + name() + " of pod "
          + deployment.name() + ": " + condition.describe() + " not met after " + timeout.toSeconds() + " s: "
          + missing);
    }
  }

  /**
   * Refuses the conditions a client of the cluster cannot see.
   *
   * @throws UnsupportedOperationException for {@code forPhase(REBOOT|RELOAD)} and {@code forPort}
   */
  static void check(Wait w) {
    if (w instanceof Wait.AllOf a) {
      a.waits().forEach(ClusterInstance::check);
    } else if (w instanceof Wait.ForPhase p && p.phase() != Phase.INITIAL || w instanceof Wait.ForPort) {
      throw new UnsupportedOperationException("a cluster client cannot wait for " + w.describe() + ": wait for"
          + " phase initial (READY) or for output, or check from the guest with exec");
    }
  }

  /**
   * Whether the single condition {@code w} holds now. Not synchronized as a whole: the cluster's watch takes the
   * view's lock, then this handle's (to add output lines); a reader of the state must not take them the other way.
   */
  boolean holds(Wait w) {
    if (w instanceof Wait.ForPhase) {
      return state() == InstanceState.READY;
    }
    if (w instanceof Wait.ForOutput o) {
      synchronized (this) {
        return allOutput.stream().filter(l -> o.pattern().matcher(l).find()).count() >= o.times();
      }
    }
    throw new IllegalStateException("not a single condition: " + w.describe());
  }

  /** For timeout messages: {@code web-1 PENDING since 17:02:11 (on h3, not reported yet)}. */
  String describe() {
    InstanceStatus s = status();
    return name() + " " + s.state() + where() + " since " + TIME.format(s.since())
        + (s.reason().isEmpty() ? "" : " (" + s.reason() + ")") + lastLines();
  }

  /** The last output lines for messages, or empty. */
  synchronized String lastLines() {
    if (output.isEmpty()) {
      return "";
    }
    List<String> last = new ArrayList<>(output);
    return "; last output: " + String.join(" | ", last.subList(Math.max(0, last.size() - 5), last.size()));
  }

  /**
   * Not available over a cluster.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public InetSocketAddress endpoint(int port) {
    throw unsupported("a forwarded endpoint", "reach the instance on its private address from its VPC, or on its"
        + " public address");
  }

  /**
   * Not available over a cluster.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public Optional<VncConsole> console() {
    throw unsupported("the VNC console", "ask the local runtime of the node that runs the instance" + where());
  }

  /**
   * Not available over a cluster.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public void stop() {
    stop(DEFAULT_STOP_GRACE);
  }

  /**
   * Not available over a cluster.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public void stop(Duration grace) {
    throw unsupported("stopping an instance", "scale its unit down, or stop it with the local runtime of its node"
        + where());
  }

  /**
   * Not available over a cluster.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public void start() {
    throw unsupported("starting an instance", "its node starts every desired instance; scale its unit up");
  }

  /**
   * Not available over a cluster.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public void restart() {
    restart(DEFAULT_RESTART_GRACE);
  }

  /**
   * Not available over a cluster.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public void restart(Duration grace) {
    throw unsupported("restarting an instance", "exec 'reboot' in its guest, or restart it with the local runtime"
        + " of its node" + where());
  }

  private UnsupportedOperationException unsupported(String what, String instead) {
    return new UnsupportedOperationException(what + " of instance " + id() + " is not available through a cluster"
        + " client: " + instead);
  }
}
