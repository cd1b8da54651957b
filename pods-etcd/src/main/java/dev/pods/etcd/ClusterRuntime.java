package dev.pods.etcd;

import dev.pods.Deployment;
import dev.pods.Disks;
import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import dev.pods.ImagePolicy;
import dev.pods.InstanceState;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.PodSpecException;
import dev.pods.PodsException;
import dev.pods.Problem;
import dev.pods.etcd.internal.ExecRecord;
import dev.pods.etcd.internal.StatusRecord;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.PutOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PodRuntime} over a cluster coordinated through etcd: the pods it deploys are written to the cluster as
 * desired ({@link ClusterPods}), the cluster's leader places their instances on nodes, and the nodes run them and
 * report their states, events and exec answers back in etcd, which this runtime reads.
 *
 * <pre>{@code
 * try (Client etcd = Client.builder().endpoints("http://10.0.0.1:2379").build();
 *      ClusterRuntime cluster = ClusterRuntime.connect(EtcdKeyspace.of(etcd, "/pods"))) {
 *   Deployment d = cluster.deploy(shop);        // written to etcd; returns at once
 *   d.awaitReady(Duration.ofMinutes(2));         // every instance READY on some node
 *   d.instance("web", 0).exec("hostname");       // through etcd, on the node that runs web-0
 * }
 * }</pre>
 *
 * <p><b>Where the cluster differs from one host</b> (method by method on {@link Deployment}, {@code Instance} and
 * {@link dev.pods.MigrationPlan}):
 * <ul>
 *   <li>{@link #deploy}: refuses what the local runtime refuses before anything is written (a pod of that name
 *       already desired: {@link IllegalStateException}; an image this client's {@link ImagePolicy} refuses:
 *       {@link PodSpecException}), then records the pod as desired and returns. Secrets, disks and host folders
 *       are checked by the node that runs each instance (its instance then becomes {@code FAILED} saying why).</li>
 *   <li>{@link #deployments()}: every pod desired in the cluster, whoever deployed it: a new runtime on the same
 *       keyspace (a restarted host application) sees and controls them.</li>
 *   <li>An instance's state, status and addresses are what the node running it reports now; an instance no node
 *       reports is {@link InstanceState#PENDING}, with a reason naming its assignment ({@code waiting for node
 *       h2: ...}, {@code no node has room: ...}, {@code on h3, not reported yet}). When a node is lost its reports
 *       expire with its lease, and its instances are {@code PENDING} at once.</li>
 *   <li>{@link Deployment#events()}: the events the nodes write, from the moment this runtime watches, plus a
 *       {@link PodEvent.Placed} at every change of an instance's assignment, and a {@link PodEvent.StateChanged}
 *       to {@code PENDING} when the report of an instance vanishes.</li>
 *   <li>Waits: {@code forPhase(INITIAL)} (the instance is READY now) and {@code forOutput} (over the output lines
 *       this runtime received) and {@code allOf} of them; the others throw {@link UnsupportedOperationException}
 *       (use {@code exec} in the guest instead).</li>
 *   <li>{@code exec}: the request goes through etcd to the node that runs the instance and its answer is awaited
 *       for the request's timeout plus 30 s; it fails at once when the instance runs nowhere now, or stops being
 *       reported by that node while the command runs.</li>
 *   <li>{@code plan}: steps from the desired pod and each instance's reported spec version and state;
 *       {@code apply} writes the new pod and waits until every instance runs the new spec READY (and removed ones
 *       run nowhere); {@code destroy} removes the desired pod and waits until no node runs any of its instances.</li>
 *   <li>Not available over a cluster ({@link UnsupportedOperationException} naming the alternative):
 *       {@link #disks()}, {@code Instance.endpoint}, {@code console}, {@code consoleOutput}, {@code stop},
 *       {@code start}, {@code restart}.</li>
 * </ul>
 *
 * <p><b>Contract.</b> Thread-safe. {@link #connect} blocks for one etcd read; calls that write to etcd block for
 * their requests (each bounded by the keyspace's timeout); waits block as documented. The runtime owns one etcd
 * watch and its threads; {@link #close()} (idempotent) stops them and runs nothing down: the cluster keeps running
 * every pod. The caller owns the jetcd client and closes it after the runtime.
 *
 * @since 0.2
 */
public final class ClusterRuntime implements PodRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterRuntime.class);
  /** How long an exec's answer may take to travel beyond the request's timeout. */
  static final Duration EXEC_GRACE = Duration.ofSeconds(30);

  private final EtcdKeyspace space;
  private final ClusterKeys keys;
  private final ClusterPods desired;
  private final ImagePolicy policy;
  private final Clock clock;
  private final Duration destroyTimeout;
  private final Map<String, ClusterDeployment> deployments = new ConcurrentHashMap<>();
  private final Map<String, PendingExec> execs = new ConcurrentHashMap<>();
  private final ClusterView view;
  private volatile boolean closed;

  private record PendingExec(String instance, String node, CompletableFuture<ExecRecord.Result> answer) {}

  private ClusterRuntime(Builder b) {
    this.space = b.space;
    this.keys = new ClusterKeys(space);
    this.desired = new ClusterPods(space);
    this.policy = b.policy;
    this.clock = b.clock;
    this.destroyTimeout = b.destroyTimeout;
    this.view = ClusterView.open(space, new Changes());
  }

  /**
   * A runtime on the cluster under {@code space}'s prefix with every default of {@link #builder}.
   *
   * @throws PodsException when etcd does not answer within the keyspace's timeout
   */
  public static ClusterRuntime connect(EtcdKeyspace space) {
    return builder(space).build();
  }

  /** A builder for a runtime on the cluster under {@code space}'s prefix. */
  public static Builder builder(EtcdKeyspace space) {
    return new Builder(space);
  }

  /**
   * Builds a {@link ClusterRuntime}. Defaults: {@link ImagePolicy#catalogueOnly()}, {@link Clock#systemUTC()},
   * destroy timeout 5 minutes. Not thread-safe; each setter may be called once.
   */
  public static final class Builder {
    private final EtcdKeyspace space;
    private ImagePolicy policy = ImagePolicy.catalogueOnly();
    private Clock clock = Clock.systemUTC();
    private Duration destroyTimeout = Duration.ofMinutes(5);

    private Builder(EtcdKeyspace space) {
      this.space = Objects.requireNonNull(space, "space");
    }

    /** Which images units may name: {@code deploy} and {@code plan} refuse a pod this policy refuses. */
    public Builder imagePolicy(ImagePolicy p) {
      this.policy = Objects.requireNonNull(p, "policy");
      return this;
    }

    /** The clock of event times and of the since of pending instances. */
    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    /**
     * How long {@link Deployment#destroy()} waits for the nodes to stop the pod's instances.
     *
     * @throws IllegalArgumentException unless positive
     */
    public Builder destroyTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("destroy timeout must be positive, not " + timeout);
      }
      this.destroyTimeout = timeout;
      return this;
    }

    /**
     * Reads the cluster's pods and starts watching them.
     *
     * @throws PodsException when etcd does not answer within the keyspace's timeout
     */
    public ClusterRuntime build() {
      return new ClusterRuntime(this);
    }
  }

  // ------------------------------------------------------------------------------------------ PodRuntime

  /**
   * Records {@code pod} as desired in the cluster and returns its deployment; the leader places its instances and
   * the nodes start them (follow them with {@link Deployment#events()} and {@link Deployment#awaitReady}).
   *
   * @throws PodSpecException when this runtime's {@link ImagePolicy} refuses the image of a unit (nothing written)
   * @throws IllegalStateException when a pod of that name is desired in the cluster already, or the runtime is
   *     closed
   * @throws PodsException when etcd fails, or the pod has more instances than one etcd transaction holds (128)
   */
  @Override
  public Deployment deploy(Pod pod) {
    Objects.requireNonNull(pod, "pod");
    checkOpen();
    checkImages(pod);
    if (view.pod(pod.name()) != null) {
      throw new IllegalStateException("pod '" + pod.name() + "' is deployed in the cluster under " + space.prefix()
          + " already");
    }
    ClusterDeployment d = handle(pod.name(), pod);
    desired.put(pod);
    // read what was written: once deploy returns, deployment(name) sees it and a second deploy is refused
    if (!d.awaitTrue(() -> view.pod(pod.name()) != null, space.timeout())) {
      throw new PodsException("pod '" + pod.name() + "' was written to etcd under " + space.prefix()
          + ", but the cluster's watch did not show it within " + space.timeout().toSeconds() + " s");
    }
    LOG.info("pod {} desired in the cluster under {} ({} instances)", pod.name(), space.prefix(),
        DesiredInstance.of(pod).size());
    return d;
  }

  /** Every pod desired in the cluster now (deployed by any client of it), by name. */
  @Override
  public List<Deployment> deployments() {
    checkOpen();
    List<Deployment> out = new ArrayList<>();
    view.pods().forEach((name, pod) -> out.add(handle(name, pod)));
    return out;
  }

  /** The pod named {@code pod} desired in the cluster now. */
  @Override
  public Optional<Deployment> deployment(String pod) {
    Objects.requireNonNull(pod, "pod");
    checkOpen();
    Pod p = view.pod(pod);
    return p == null ? Optional.empty() : Optional.of(handle(pod, p));
  }

  /**
   * The node that reports instance {@code instance} ({@code UNIT-INDEX}) of pod {@code pod} now: the one that runs
   * it; empty when none does. Never blocks.
   */
  public Optional<String> node(String pod, String instance) {
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(instance, "instance");
    StatusRecord s = view.status(pod + "/" + instance);
    return s == null ? Optional.empty() : Optional.of(s.node());
  }

  /**
   * The events of pod {@code pod} that the nodes wrote and etcd still keeps (each for ten minutes), oldest first
   * (by {@link PodEvent#at()}, then by node and order): what happened before this runtime watched, for a log. One
   * etcd request; blocks for it.
   *
   * @throws PodsException when etcd fails
   */
  public List<PodEvent> recentEvents(String pod) {
    Objects.requireNonNull(pod, "pod");
    checkOpen();
    String dir = ClusterKeys.EVENTS + pod + "/";
    List<PodEvent> out = new ArrayList<>();
    for (io.etcd.jetcd.KeyValue kv : space.call("reading the events of pod '" + pod + "'",
        () -> space.kv().get(keys.key(dir), io.etcd.jetcd.options.GetOption.builder().isPrefix(true).build()))
        .getKvs()) {
      out.add(dev.pods.etcd.internal.EventRecord.read(kv.getValue().getBytes(), ClusterKeys.text(kv.getKey())));
    }
    // stable: events of one node at one instant keep their key order
    out.sort(java.util.Comparator.comparing(PodEvent::at));
    return out;
  }

  /**
   * Not available: persistent disks live on nodes.
   *
   * @throws UnsupportedOperationException always, naming the alternative
   */
  @Override
  public Disks disks() {
    throw new UnsupportedOperationException("a cluster's disks live on its nodes: manage them with the local runtime"
        + " of the node (pods disk ... on that host)");
  }

  /** {@code dev.pods/cluster=PREFIX}. */
  @Override
  public String owner() {
    return "dev.pods/cluster=" + space.prefix();
  }

  /** Stops the watch and its threads and ends the event feeds; the cluster keeps running every pod. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    view.close();
    deployments.values().forEach(ClusterDeployment::closeFeed);
    execs.values().forEach(p -> p.answer().completeExceptionally(
        new IllegalStateException("the cluster runtime was closed while the exec ran")));
  }

  // ------------------------------------------------------------------------------------------ for the handles

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the cluster runtime under " + space.prefix() + " is closed");
    }
  }

  void checkImages(Pod pod) {
    List<Problem> problems = policy.problems(pod);
    if (!problems.isEmpty()) {
      throw new PodSpecException("pod '" + pod.name() + "'", problems);
    }
  }

  private ClusterDeployment handle(String name, Pod pod) {
    // a handle of a pod removed meanwhile (by another client) gives way to a new one
    return deployments.compute(name, (n, d) -> d == null || d.destroyed() ? new ClusterDeployment(this, n, pod) : d);
  }

  ClusterView view() {
    return view;
  }

  ClusterPods desired() {
    return desired;
  }

  Clock clock() {
    return clock;
  }

  Duration destroyTimeout() {
    return destroyTimeout;
  }

  String prefix() {
    return space.prefix();
  }

  /** Forgets a destroyed deployment, so that the name can be deployed again. */
  void forget(String name, ClusterDeployment d) {
    deployments.remove(name, d);
  }

  /**
   * Why an instance no node reports is pending, from its assignment: {@code waiting for node h2: ...},
   * {@code no node has room: ...}, {@code on h3, not reported yet}, {@code on h3, which is lost: ...}.
   */
  String pendingReason(String instance) {
    Assignment a = view.assignment(instance);
    if (a == null) {
      return "not placed yet (is a node of the cluster leading?)";
    }
    return switch (a.state()) {
      case UNPLACEABLE -> "no node has room: " + a.why();
      case WAITING -> "waiting for node " + a.node() + ": " + a.why();
      case PLACED -> view.live(Objects.requireNonNull(a.node())) ? "on " + a.node() + ", not reported yet"
          : "on " + a.node() + ", which is lost: waiting for the leader to place it again";
    };
  }

  /**
   * Runs {@code request} on the node that runs {@code instance} ({@code POD/UNIT-INDEX}) through etcd.
   *
   * @throws PodsException at once when no node runs it now
   */
  CompletableFuture<ExecResult> exec(String instance, ExecRequest request) {
    checkOpen();
    StatusRecord s = view.status(instance);
    if (s == null) {
      return CompletableFuture.failedFuture(new PodsException("exec in instance " + instance + ": it runs nowhere"
          + " now (PENDING: " + pendingReason(instance) + ")"));
    }
    String pod = instance.substring(0, instance.indexOf('/'));
    String name = instance.substring(instance.indexOf('/') + 1);
    String id = UUID.randomUUID().toString();
    Duration wait = request.timeout().plus(EXEC_GRACE);
    CompletableFuture<ExecRecord.Result> answer = new CompletableFuture<>();
    execs.put(id, new PendingExec(instance, s.node(), answer));
    try {
      long lease = space.call("granting the lease of exec " + id,
          () -> space.client().getLeaseClient().grant(wait.toSeconds() + 1)).getID();
      ByteSequence key = keys.key(ClusterKeys.EXEC + s.node() + "/" + id);
      space.call("asking node " + s.node() + " to exec in " + instance, () -> space.kv().put(key,
          ClusterKeys.json(new ExecRecord(pod, name, request.argv(), request.stdin(), request.timeout().toMillis())),
          PutOption.builder().withLeaseId(lease).build()));
      StatusRecord now = view.status(instance);
      if (now == null || !now.node().equals(s.node())) {
        answer.completeExceptionally(new PodsException("exec in instance " + instance + ": it stopped running on "
            + s.node() + " while the request was sent"));
      }
      return answer.orTimeout(wait.toMillis(), TimeUnit.MILLISECONDS).handle((r, e) -> {
        execs.remove(id);
        forget(id, s.node(), lease);
        if (e != null) {
          Throwable c = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
              ? e.getCause() : e;
          if (c instanceof java.util.concurrent.TimeoutException) {
            throw new PodsException("exec " + request.argv() + " in instance " + instance + ": node " + s.node()
                + " did not answer within " + wait.toSeconds() + " s (the request's timeout and a grace of "
                + EXEC_GRACE.toSeconds() + " s)");
          }
          throw c instanceof RuntimeException re ? re : new PodsException(c.getMessage(), c);
        }
        if (r.error() != null) {
          throw new PodsException("exec " + request.argv() + " in instance " + instance + " on node " + s.node()
              + ": " + r.error());
        }
        return new ExecResult(r.exitCode(), r.stdout(), r.stderr(), r.timedOut());
      });
    } catch (RuntimeException e) {
      execs.remove(id);
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Deletes an answered request, its answer and their lease, in the background (the lease expires anyway). */
  private void forget(String id, String node, long lease) {
    space.kv().delete(keys.key(ClusterKeys.EXEC + node + "/" + id));
    space.kv().delete(keys.key(ClusterKeys.EXEC_RESULT + id));
    space.client().getLeaseClient().revoke(lease);
  }

  /** What the view tells: republished on the pods' feeds, and the pending execs answered. */
  private final class Changes implements ClusterView.Listener {
    @Override
    public void pod(String name, @Nullable Pod now) {
      ClusterDeployment d = deployments.get(name);
      if (d != null && now != null) {
        d.seen(now);
      }
    }

    @Override
    public void status(String instance, @Nullable StatusRecord before, @Nullable StatusRecord now) {
      ClusterDeployment d = deployments.get(instance.substring(0, instance.indexOf('/')));
      String name = instance.substring(instance.indexOf('/') + 1);
      if (now == null && before != null) {
        if (d != null) {
          d.publish(new PodEvent.StateChanged(name, clock.instant(), InstanceState.valueOf(before.state()),
              InstanceState.PENDING, null));
          d.pendingSince(name, clock.instant());
        }
        execs.values().stream().filter(p -> p.instance().equals(instance)).forEach(p -> p.answer()
            .completeExceptionally(new PodsException("exec in instance " + instance + ": node " + p.node()
                + " no longer reports it (" + (view.live(p.node()) ? "it was removed there" : "the node is lost")
                + ")")));
      }
    }

    @Override
    public void assignment(String instance, Assignment now) {
      ClusterDeployment d = deployments.get(instance.substring(0, instance.indexOf('/')));
      if (d != null) {
        d.publish(new PodEvent.Placed(instance.substring(instance.indexOf('/') + 1), clock.instant(),
            now.state() == Assignment.State.UNPLACEABLE ? null : now.node(), now.why()));
      }
    }

    @Override
    public void event(String pod, PodEvent e) {
      ClusterDeployment d = deployments.get(pod);
      if (d != null) {
        d.received(e);
      }
    }

    @Override
    public void execResult(String id, ExecRecord.Result result) {
      PendingExec p = execs.get(id);
      if (p != null) {
        p.answer().complete(result);
      }
    }
  }
}
