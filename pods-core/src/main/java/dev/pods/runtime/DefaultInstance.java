package dev.pods.runtime;

import dev.pods.BackendException;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.InstanceStatus;
import dev.pods.RestartPolicy;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.imds.AgentEvent;
import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import dev.pods.imds.ImdsServer;
import dev.pods.spi.Cidr;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One instance of a {@link DefaultDeployment}; its state is guarded by {@code this}, never held while blocking. */
final class DefaultInstance implements Instance {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultInstance.class);
  static final int RECENT_LINES = 50;
  /** How long {@link #endpoint} lets one connection to the VM take. */
  static final Duration FORWARD_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final DefaultDeployment deployment;
  /** The unit the instance runs; changed by a migration (live update or recreation), else fixed. */
  volatile Unit unit;
  private final int index;
  private final String name;
  private final String id;
  private final String domain;
  final Cidr subnet;
  private volatile @Nullable Inet4Address publicAddress;
  /** The agent's token: on the guest's seed, and what its metadata service accepts (kept across restarts). */
  final String token;

  private static final DateTimeFormatter HMS = DateTimeFormatter.ofPattern("HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

  private InstanceState state = InstanceState.PENDING;
  private @Nullable Throwable failure;
  /** When the instance entered its state, and why (see {@link InstanceStatus}). */
  private Instant since;
  private String reason = "";
  /** When the restart policy starts a STOPPED instance again; null when none is planned. */
  private @Nullable Instant restartAt;
  /** Restarts since the instance was last READY for {@link RestartPolicy#BACKOFF_RESET}. */
  private int attempts;
  /** When it last became READY; null while it is not READY. */
  private @Nullable Instant readySince;
  /** When it last became READY after a boot (not after UNHEALTHY): where silence is counted from. */
  private Instant upSince;
  /** Its declared health checks' runs and results. */
  private final InstanceChecks checks = new InstanceChecks();
  /** Stopped by {@link #stop()}: the runtime never starts it again by itself. */
  private boolean held;
  /**
   * Set while the runtime itself stops, starts or restarts the domain: the domain events this causes are not
   * failures, and detection leaves the instance alone.
   */
  final java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();
  /**
   * When a reconcile first found the domain not running while no event had told (null otherwise): the reconcile
   * waits {@link DefaultDeployment#EVENT_GRACE} from then, so that libvirt's event, which says what happened,
   * decides the reason whenever it comes.
   */
  volatile java.time.@org.jspecify.annotations.Nullable Instant downUnexplainedSince;
  /** Execs waiting for the agent: failed at once when the instance stops. */
  private final Set<CompletableFuture<ExecResult>> pendingExecs = ConcurrentHashMap.newKeySet();
  private @Nullable ImdsServer imds;
  private final ArrayDeque<String> recent = new ArrayDeque<>();
  /** Journal key to its last {@link #JOURNAL_LINES} lines; guarded by this. */
  private final java.util.Map<String, ArrayDeque<String>> journals = new java.util.HashMap<>();
  static final int JOURNAL_LINES = 1000;
  private final InstanceProgress progress = new InstanceProgress();
  /** The forwarders of {@link #endpoint}, by VM port; closed when the metadata service goes ({@link #imds}). */
  private final Map<Integer, PortForwarder> forwarders = new TreeMap<>();
  /** The console's listener on the public address, for a unit with {@code vnc} and a public address. */
  private @Nullable PortForwarder publicConsole;
  volatile CompletableFuture<Void> creation = CompletableFuture.completedFuture(null);
  /** Taken once: by the creation task when it starts, or by destroy() when the task has not started yet. */
  final java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();
  /**
   * Whether the guest on the current disk completed its initial phase (READY once); tells its metadata service
   * ({@code initialized}) that a later boot is not the first. Cleared when the instance gets a fresh disk.
   */
  volatile boolean initialized;
  /**
   * Set by adoption for an instance whose domain runs but whose boot run a new runtime may have missed the end of
   * (recorded before READY): then, and only then, the agent's re-reported status settles it. Cleared when a run of
   * its agent is seen. (A status alone cannot tell which boot it belongs to, e.g. around a restart.)
   */
  volatile boolean adoptedUnsettled;
  /**
   * Set while the instance's network is being removed (scale down, recreation, destroy) until it is built again:
   * its addresses drop out of its peers' firewall rules and no firewall sync touches its network ({@link
   * FirewallSync}).
   */
  volatile boolean leaving;
  /** The firewall its network was last given, or null when unknown; guarded by {@link FirewallSync}'s lock. */
  volatile dev.pods.spi.@Nullable NetworkFirewall firewall;
  /** Set while a check of its network is scheduled or running, so only one runs. */
  final java.util.concurrent.atomic.AtomicBoolean repairing = new java.util.concurrent.atomic.AtomicBoolean();
  /** When its current metadata service started: a guest's silence is counted from here at the earliest. */
  private Instant imdsSince;
  /** Set while a self-heal (recreating a vanished domain) is scheduled or running, so only one runs. */
  final java.util.concurrent.atomic.AtomicBoolean healing = new java.util.concurrent.atomic.AtomicBoolean();

  DefaultInstance(DefaultDeployment deployment, Unit unit, int index, String id, String domain, Cidr subnet,
      @Nullable Inet4Address publicAddress, String token) {
    this.deployment = deployment;
    this.unit = unit;
    this.index = index;
    this.name = unit.name() + "-" + index;
    this.id = id;
    this.domain = domain;
    this.subnet = subnet;
    this.publicAddress = publicAddress;
    this.token = Objects.requireNonNull(token, "token");
    this.since = deployment.clock().instant();
    this.upSince = since;
    this.imdsSince = since;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String unit() {
    return unit.name();
  }

  @Override
  public int index() {
    return index;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String domainName() {
    return domain;
  }

  @Override
  public synchronized InstanceState state() {
    return state;
  }

  @Override
  public synchronized Optional<Throwable> failure() {
    return Optional.ofNullable(failure);
  }

  @Override
  public synchronized InstanceStatus status() {
    return new InstanceStatus(state, since, reason, restartAt, attempts);
  }

  /** Whether it was stopped by {@link #stop()}. */
  synchronized boolean held() {
    return held;
  }

  /** {@code at} as {@code HH:mm:ss UTC}, for messages. */
  static String hms(Instant at) {
    return HMS.format(at);
  }

  /**
   * What the instance's state means for a caller that wants the guest, e.g. {@code "instance web-0 is STOPPED: its
   * domain was destroyed at 17:02:11 UTC; restarting in 10 s"} (the reason only for STOPPED and UNHEALTHY).
   */
  String describe() {
    InstanceStatus st = status();
    StringBuilder m = new StringBuilder("instance ").append(name).append(" is ").append(st.state());
    boolean down = st.state() == InstanceState.STOPPED || st.state() == InstanceState.UNHEALTHY;
    if (down && !st.reason().isEmpty()) {
      m.append(": ").append(st.reason());
    }
    if (st.restartAt() != null) {
      long s = Math.max(0, Duration.between(deployment.clock().instant(), st.restartAt()).toSeconds());
      m.append("; restarting in ").append(s).append(" s");
    }
    return m.toString();
  }

  @Override
  public Inet4Address privateAddress() {
    return subnet.address(2);
  }

  Inet4Address gateway() {
    return subnet.address(1);
  }

  @Override
  public Optional<Inet4Address> publicAddress() {
    return Optional.ofNullable(publicAddress);
  }

  @Override
  public synchronized List<String> journal(String key) {
    ArrayDeque<String> j = journals.get(java.util.Objects.requireNonNull(key, "key"));
    return j == null ? List.of() : List.copyOf(j);
  }

  @Override
  public synchronized List<String> recentOutput() {
    return List.copyOf(recent);
  }

  @Override
  public Optional<dev.pods.VncConsole> console() {
    if (!Boolean.TRUE.equals(unit.options().vnc())) {
      return Optional.empty();
    }
    try {
      Optional<InetSocketAddress> display = deployment.hypervisor().vncDisplay(domain);
      String password = deployment.hypervisor().find(domain).map(d -> d.spec().vncPassword()).orElse(null);
      if (display.isEmpty() || password == null) {
        return Optional.empty();
      }
      return Optional.of(new dev.pods.VncConsole(display.get(), password));
    } catch (BackendException e) {
      if (deployment.hypervisor().state(domain) == dev.pods.spi.DomainState.MISSING) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public String consoleOutput() {
    try {
      return deployment.hypervisor().consoleOutput(domain);
    } catch (BackendException e) {
      return "";
    }
  }

  @Override
  public ExecResult exec(String... argv) {
    return exec(ExecRequest.of(argv));
  }

  @Override
  public ExecResult exec(ExecRequest request) {
    Duration wait = request.timeout().plus(ImdsServer.EXEC_GRACE).plusSeconds(10);
    try {
      return execAsync(request).get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PodsException("exec " + request.argv() + " in instance " + name + " interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof PodsException p) {
        throw new PodsException(p.getMessage(), p);
      }
      throw new PodsException("exec " + request.argv() + " in instance " + name + " failed: " + c, c);
    } catch (TimeoutException e) {
      throw noAnswer(request, wait, e);
    }
  }

  /**
   * The failure of an exec whose agent did not answer within {@code wait}: who did not answer, and when the guest
   * last contacted its metadata service.
   */
  PodsException noAnswer(ExecRequest request, Duration wait, @Nullable Throwable cause) {
    ImdsServer s = imds();
    Optional<Instant> last = s == null ? Optional.empty() : s.lastContact();
    return new PodsException("exec " + request.argv() + " in instance " + name + ": its agent did not answer within "
        + wait.toSeconds() + " s; " + last.map(t -> "the guest last contacted its metadata service at " + hms(t))
            .orElse("the guest never contacted its metadata service") + " (" + describe() + ")", cause);
  }

  @Override
  public CompletableFuture<ExecResult> execAsync(ExecRequest request) {
    Objects.requireNonNull(request, "request");
    ImdsServer s = imds();
    if (s == null) {
      throw new IllegalStateException("instance " + name + " has no metadata service (state " + state() + ")");
    }
    if (state() == InstanceState.STOPPED) {
      return CompletableFuture.failedFuture(new PodsException("cannot exec " + request.argv() + ": " + describe()));
    }
    CompletableFuture<ExecResult> f = s.exec(request);
    CompletableFuture<ExecResult> mine = new CompletableFuture<>();
    pendingExecs.add(mine);
    f.whenComplete((r, x) -> {
      pendingExecs.remove(mine);
      Throwable c = x instanceof java.util.concurrent.CompletionException && x.getCause() != null ? x.getCause() : x;
      if (c instanceof TimeoutException) {
        mine.completeExceptionally(noAnswer(request, request.timeout().plus(ImdsServer.EXEC_GRACE), c));
      } else if (x != null) {
        mine.completeExceptionally(x);
      } else {
        mine.complete(r);
      }
    });
    if (state() == InstanceState.STOPPED) { // stopped while it was being handed over
      mine.completeExceptionally(new PodsException("exec " + request.argv() + " ended: " + describe()));
    }
    return mine;
  }

  /** Fails every exec still waiting for the agent with what happened to the instance. */
  private void failPendingExecs() {
    for (CompletableFuture<ExecResult> f : List.copyOf(pendingExecs)) {
      pendingExecs.remove(f);
      f.completeExceptionally(new PodsException("exec ended without an answer: " + describe()));
    }
  }

  synchronized @Nullable ImdsServer imds() {
    return imds;
  }

  /**
   * Sets the metadata service; {@code null} (network or listener gone) also closes the port forwarders and the
   * console's listener on the public address.
   */
  void imds(@Nullable ImdsServer server) {
    List<PortForwarder> gone = new ArrayList<>();
    synchronized (this) {
      this.imds = server;
      if (server != null) {
        imdsSince = deployment.clock().instant();
      }
      if (server == null) {
        gone.addAll(forwarders.values());
        forwarders.clear();
        if (publicConsole != null) {
          gone.add(publicConsole);
          publicConsole = null;
        }
      }
    }
    gone.forEach(PortForwarder::close);
  }

  /** Hands over the console's listener on the public address (closed with the metadata service). */
  void publicConsole(PortForwarder f) {
    PortForwarder old;
    synchronized (this) {
      old = publicConsole;
      publicConsole = f;
    }
    if (old != null) {
      old.close();
    }
  }

  InstanceProgress progress() {
    return progress;
  }

  // ------------------------------------------------------------------------------------------ waits, ports, restart

  @Override
  public void await(Wait condition, Duration timeout) {
    Waiter.await(deployment, List.of(this), condition, timeout, deployment::isDestroyed, false);
  }

  @Override
  public InetSocketAddress endpoint(int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be in 1..65535, not " + port);
    }
    synchronized (this) {
      PortForwarder f = forwarders.get(port);
      if (f != null) {
        return f.address();
      }
      requireNetwork("forward port " + port);
      if (state == InstanceState.STOPPED) {
        throw new IllegalStateException("cannot forward port " + port + ": " + describe());
      }
    }
    InetSocketAddress target = new InetSocketAddress(privateAddress(), port);
    PortForwarder made;
    try {
      made = PortForwarder.start(name + ":" + port, () -> deployment.settings().networkDriver()
          .connectInNamespace(id, target, FORWARD_CONNECT_TIMEOUT));
    } catch (IOException e) {
      throw new PodsException("cannot open a local port forwarding to port " + port + " of instance " + name, e);
    }
    PortForwarder winner;
    synchronized (this) {
      winner = forwarders.get(port);
      if (winner == null && imds != null) {
        forwarders.put(port, made);
        LOG.debug("instance {}: {} forwards to {}", name, made.address(), target);
        return made.address();
      }
    }
    made.close();
    if (winner == null) {
      throw new IllegalStateException("instance " + name + " lost its network while forwarding port " + port);
    }
    return winner.address();
  }

  /** The forwarder of {@code port}, when {@link #endpoint} made one and it is still open (tests). */
  synchronized Optional<PortForwarder> forwarder(int port) {
    return Optional.ofNullable(forwarders.get(port));
  }

  private void requireNetwork(String what) {
    if (imds == null) {
      throw new IllegalStateException("cannot " + what + ": instance " + name + " has no network (state "
          + state + (deployment.isDestroyed() ? ", destroyed" : "") + ")");
    }
  }

  @Override
  public void restart() {
    restart(DEFAULT_RESTART_GRACE);
  }

  @Override
  public void restart(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace must not be negative: " + grace);
    }
    InstanceState before;
    synchronized (this) {
      before = state;
      if (!progress.initialized() || (state != InstanceState.READY && state != InstanceState.BOOTING
          && state != InstanceState.UNHEALTHY && state != InstanceState.STOPPED)) {
        throw new IllegalStateException("cannot restart instance " + name + ": it is " + state
            + (progress.initialized() ? "" : " and never finished its first boot"));
      }
      requireNetwork("restart");
      held = false; // a restart asked for ends a stop asked for
    }
    busy.set(true);
    try {
      // before asking: the new boot's run may be reported before the hypervisor call returns
      InstanceProgress.Boot old = progress.rebooting();
      move(InstanceState.BOOTING, null, "restarted by Instance.restart()", null);
      deployment.waitSignal().signal();
      DomainRestart.Outcome how;
      try {
        how = DomainRestart.restart(deployment.hypervisor(), domain, grace);
      } catch (RuntimeException e) {
        progress.restore(old);
        if (before == InstanceState.READY && old.bootDone()) {
          transition(InstanceState.READY, null);
        }
        deployment.waitSignal().signal();
        throw e instanceof PodsException p ? p
            : new PodsException("restart of instance " + name + " failed: " + e.getMessage(), e);
      }
      LOG.info("instance {}: domain {} restarted ({})", name, domain, how);
    } finally {
      busy.set(false);
    }
  }

  @Override
  public void stop() {
    stop(DEFAULT_STOP_GRACE);
  }

  @Override
  public void stop(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace must not be negative: " + grace);
    }
    synchronized (this) {
      switch (state) {
        case BOOTING, INITIALIZING, READY, UNHEALTHY -> { }
        case STOPPED -> {
          held = true; // already down: from now on it stays so
          restartAt = null;
        }
        default -> throw new IllegalStateException("cannot stop instance " + name + ": it is " + state);
      }
      held = true;
    }
    busy.set(true);
    try {
      deployment.hypervisor().stop(domain, grace);
      move(InstanceState.STOPPED, null, "stopped by Instance.stop() at " + hms(deployment.clock().instant()), null);
    } catch (RuntimeException e) {
      synchronized (this) {
        held = state == InstanceState.STOPPED;
      }
      throw e instanceof PodsException p ? p
          : new PodsException("stop of instance " + name + " failed: " + e.getMessage(), e);
    } finally {
      busy.set(false);
    }
    LOG.info("instance {}: domain {} stopped by Instance.stop()", name, domain);
  }

  @Override
  public void start() {
    String was;
    synchronized (this) {
      if (state != InstanceState.STOPPED) {
        throw new IllegalStateException("cannot start instance " + name + ": it is " + state + ", not STOPPED");
      }
      requireNetwork("start");
      was = reason;
    }
    startDomain("started by Instance.start()", was, true);
  }

  /**
   * The restart policy's restart of a STOPPED instance, when it is due at {@code now}: starts the same domain
   * (reboot and reload blocks run). Blocks on the hypervisor; a failure leaves it STOPPED with the next restart
   * planned further off.
   *
   * @return whether a restart was made (or tried)
   */
  boolean restartIfDue(Instant now) {
    int attempt;
    String was;
    synchronized (this) {
      if (state != InstanceState.STOPPED || held || restartAt == null || now.isBefore(restartAt)
          || imds == null) {
        return false;
      }
      attempts++;
      attempt = attempts;
      restartAt = null;
      was = reason;
    }
    LOG.info("instance {}: restart {} of domain {} ({})", name, attempt, domain, was);
    startDomain("restart " + attempt + " by its restart policy (" + unit.restart().templateName() + ") after: "
        + was, was, false);
    return true;
  }

  private void startDomain(String why, String was, boolean byUser) {
    busy.set(true);
    try {
      InstanceProgress.Boot old = progress.rebooting();
      synchronized (this) {
        held = false;
        restartAt = null;
      }
      move(InstanceState.BOOTING, null, why, null);
      try {
        deployment.hypervisor().start(domain);
      } catch (RuntimeException e) {
        progress.restore(old);
        Instant now = deployment.clock().instant();
        Instant next = byUser ? null : now.plus(backoff(attempts() + 1));
        synchronized (this) {
          held = byUser;
        }
        move(InstanceState.STOPPED, null, "its start failed at " + hms(now) + " (" + e.getMessage() + "); before: "
            + was, next);
        if (byUser) {
          throw e instanceof PodsException p ? p
              : new PodsException("start of instance " + name + " failed: " + e.getMessage(), e);
        }
        LOG.warn("instance {}: restart failed; next at {}", name, next, e);
      }
    } finally {
      busy.set(false);
    }
  }

  private synchronized int attempts() {
    return attempts;
  }

  /** The delay before restart number {@code attempt} (from 1): 10 s doubling up to 5 min. */
  static Duration backoff(int attempt) {
    Duration d = RestartPolicy.FIRST_BACKOFF;
    for (int i = 1; i < attempt && d.compareTo(RestartPolicy.MAX_BACKOFF) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(RestartPolicy.MAX_BACKOFF) > 0 ? RestartPolicy.MAX_BACKOFF : d;
  }

  /**
   * Its domain stopped (or was found stopped) without the runtime asking: when the instance was up, it becomes
   * STOPPED with {@code what} happened, and a restart is planned as its unit's policy says ({@code failure}: the
   * stop was a failure, not a power-off the guest asked for).
   *
   * @return whether the instance changed
   */
  boolean domainStopped(String what, boolean failure) {
    Instant now = deployment.clock().instant();
    RestartPolicy policy = unit.restart();
    Instant next;
    synchronized (this) {
      if (state != InstanceState.BOOTING && state != InstanceState.INITIALIZING && state != InstanceState.READY
          && state != InstanceState.UNHEALTHY) {
        return false;
      }
      if (readySince != null && Duration.between(readySince, now).compareTo(RestartPolicy.BACKOFF_RESET) >= 0) {
        attempts = 0; // healthy long enough: the back-off starts again
      }
      boolean restart = policy == RestartPolicy.ALWAYS || (policy == RestartPolicy.ON_FAILURE && failure);
      next = restart ? now.plus(backoff(attempts + 1)) : null;
    }
    return move(InstanceState.STOPPED, null, what + (next != null ? ""
        : "; not restarted (restart: " + policy.templateName() + ")"), next);
  }

  /**
   * Health, at {@code now}, of a READY or UNHEALTHY instance (others only forget their check results): starts its
   * unit's declared checks that are due (on {@code executor}), then decides. It is UNHEALTHY while its guest has not
   * contacted its metadata service for its unit's liveness timeout, a liveness check failed (under
   * {@code restart: never}) or a readiness check failed; READY again when none of these holds. A guest silent for
   * twice its liveness timeout, or a failed liveness check, under {@code restart: always} or {@code on-failure}
   * is a failure: its domain is powered off (on {@code executor}) and the restart policy starts it again.
   */
  void checkHealth(Instant now, java.util.concurrent.Executor executor) {
    ImdsServer s = imds();
    if (s == null) {
      return;
    }
    InstanceState st;
    Instant from;
    String why;
    synchronized (this) {
      st = state;
      from = upSince.isAfter(imdsSince) ? upSince : imdsSince;
      why = reason;
    }
    if (st != InstanceState.READY && st != InstanceState.UNHEALTHY) {
      checks.reset();
      return;
    }
    Unit u = unit;
    if (!u.readinessChecks().isEmpty() || !u.livenessChecks().isEmpty()) {
      checks.runDue(u.readinessChecks(), u.livenessChecks(), from, now, c -> runCheck(c, executor));
    }
    Instant contact = s.lastContact().orElse(null);
    Instant last = contact == null || contact.isBefore(from) ? from : contact;
    Duration limit = u.livenessTimeout();
    Duration silent = Duration.between(last, now);
    boolean restarts = u.restart() != RestartPolicy.NEVER;
    if (restarts && silent.compareTo(limit.multipliedBy(2)) > 0) {
      powerCycle(executor, "no contact from its guest since " + hms(last) + " (twice its liveness timeout of "
          + limit.toSeconds() + " s)");
      return;
    }
    String liveness = checks.failing(InstanceChecks.Role.LIVENESS, u.livenessChecks());
    if (restarts && liveness != null) {
      powerCycle(executor, liveness);
      return;
    }
    String problem = silent.compareTo(limit) > 0
        ? "no contact from its guest since " + hms(last) + " (liveness timeout " + limit.toSeconds() + " s)"
        : liveness != null ? liveness : checks.failing(InstanceChecks.Role.READINESS, u.readinessChecks());
    if (problem != null) {
      if (st == InstanceState.READY) {
        move(InstanceState.UNHEALTHY, null, problem, null);
      }
    } else if (st == InstanceState.UNHEALTHY) {
      move(InstanceState.READY, null, why.startsWith("no contact") && contact != null
          ? "its guest made contact again at " + hms(contact) : "its health checks pass again at " + hms(now), null);
    }
  }

  /** Starts one run of {@code check}: null when it passed, else what failed. */
  private CompletableFuture<@Nullable String> runCheck(dev.pods.spec.HealthCheck check,
      java.util.concurrent.Executor executor) {
    if (check.kind() == dev.pods.spec.HealthCheck.Kind.EXEC) {
      return execAsync(new ExecRequest(check.command(), null, check.timeout()))
          .orTimeout(check.timeout().plus(dev.pods.spec.HealthCheck.EXEC_ROUND_TRIP).toMillis(),
              TimeUnit.MILLISECONDS)
          .<@Nullable String>thenApply(r -> r.timedOut() ? "no exit within " + check.timeout().toSeconds() + " s"
              : r.exitCode() == 0 ? null : "exit code " + r.exitCode())
          .exceptionally(x -> {
            Throwable c = x instanceof java.util.concurrent.CompletionException && x.getCause() != null
                ? x.getCause() : x;
            return c instanceof TimeoutException ? "no answer from its agent within " + check.timeout().plus(
                dev.pods.spec.HealthCheck.EXEC_ROUND_TRIP).toSeconds() + " s" : String.valueOf(c.getMessage());
          });
    }
    InetSocketAddress target = new InetSocketAddress(privateAddress(), check.port());
    return CompletableFuture.supplyAsync(
        () -> HostProbe.run(deployment.settings().networkDriver(), id, target, check), executor);
  }

  /**
   * A failure the guest did not report ({@code why}): powers its domain off on {@code executor}, and it is STOPPED
   * with its restart planned as its unit's policy says. Never blocks the caller; one at a time.
   */
  private void powerCycle(java.util.concurrent.Executor executor, String why) {
    if (!busy.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(() -> {
        try {
          InstanceState st = state();
          if (st != InstanceState.READY && st != InstanceState.UNHEALTHY) {
            return;
          }
          deployment.hypervisor().stop(domain, Duration.ZERO);
          domainStopped(why + "; its domain was powered off at " + hms(deployment.clock().instant()), true);
          LOG.info("instance {}: domain {} powered off: {}", name, domain, why);
        } catch (RuntimeException e) {
          LOG.warn("instance {}: cannot power off domain {} ({})", name, domain, why, e);
        } finally {
          busy.set(false);
        }
      });
    } catch (RuntimeException e) {
      busy.set(false);
      LOG.warn("instance {}: cannot schedule the power-off of domain {}", name, domain, e);
    }
  }

  /**
   * Its network was rebuilt under a running domain ({@code why}): when the instance is up, the domain is stopped
   * and started again (a new emulator opens the new tap; same disk, addresses and token), and the instance is
   * BOOTING until its reboot run finished. Blocks on the hypervisor; a failed start leaves it STOPPED with a
   * restart planned as a failure.
   */
  void reattach(String why) {
    InstanceState st = state();
    if (st != InstanceState.BOOTING && st != InstanceState.INITIALIZING && st != InstanceState.READY
        && st != InstanceState.UNHEALTHY) {
      return;
    }
    if (!busy.compareAndSet(false, true)) {
      return;
    }
    try {
      InstanceProgress.Boot old = progress.rebooting();
      move(InstanceState.BOOTING, null, why, null);
      try {
        deployment.hypervisor().stop(domain, Duration.ZERO);
        deployment.hypervisor().start(domain);
        LOG.info("instance {}: domain {} started again on its rebuilt network", name, domain);
      } catch (RuntimeException e) {
        progress.restore(old);
        LOG.warn("instance {}: cannot start domain {} again on its rebuilt network", name, domain, e);
        domainStopped("its start on its rebuilt network failed at " + hms(deployment.clock().instant()) + " ("
            + e.getMessage() + ")", true);
      }
    } finally {
      busy.set(false);
    }
  }

  /**
   * The guest rebooted by itself (a reset, or a kernel panic with {@code panic=-1}): a READY or UNHEALTHY instance
   * is BOOTING until its reboot run finished.
   */
  void guestRebooted(Instant at) {
    InstanceState st = state();
    if (st == InstanceState.READY || st == InstanceState.UNHEALTHY) {
      progress.rebooting();
      move(InstanceState.BOOTING, null, "the guest rebooted by itself at " + hms(at) + " (a reset or a kernel panic)",
          null);
    }
  }

  /**
   * A recreation starts (its old VM was removed): back to {@link InstanceState#PENDING} from any state but
   * {@link InstanceState#DESTROYED}, with the new unit and public address, no failure and no recent output. The
   * caller builds it anew; no creation task is pending.
   */
  void recreating(Unit next, @Nullable Inet4Address newPublicAddress) {
    InstanceState from;
    synchronized (this) {
      from = state;
      if (from == InstanceState.DESTROYED) {
        throw new IllegalStateException("instance " + name + " was destroyed");
      }
      state = InstanceState.PENDING;
      failure = null;
      recent.clear();
      unit = next;
      publicAddress = newPublicAddress;
    }
    claimed.set(true);
    creation = CompletableFuture.completedFuture(null);
    deployment.stateChanged(new PodEvent.StateChanged(name, deployment.clock().instant(), from,
        InstanceState.PENDING, null));
  }

  /** Moves to {@code to} unless the instance is already in a final state; publishes the change. */
  boolean transition(InstanceState to, @Nullable Throwable cause) {
    return move(to, cause, null, null);
  }

  /**
   * Moves to {@code to} unless the instance is already there or in a final state, with {@code why} (else the
   * cause's message) as the status's reason and {@code nextRestart} as its planned restart; publishes the change.
   * Entering or leaving STOPPED or UNHEALTHY hands every peer its new view (it drops out of, or comes back into,
   * their lists); entering STOPPED, FAILED or DESTROYED fails the execs still waiting.
   */
  boolean move(InstanceState to, @Nullable Throwable cause, @Nullable String why, @Nullable Instant nextRestart) {
    InstanceState from;
    Instant now = deployment.clock().instant();
    String text;
    synchronized (this) {
      from = state;
      boolean isFinal = from == InstanceState.DESTROYED
          || (from == InstanceState.FAILED && to != InstanceState.DESTROYED);
      if (isFinal || from == to) {
        return false;
      }
      state = to;
      since = now;
      text = why != null ? why : cause != null ? String.valueOf(cause.getMessage()) : "";
      reason = text;
      restartAt = to == InstanceState.STOPPED ? nextRestart : null;
      readySince = to == InstanceState.READY ? now : null;
      if (to == InstanceState.READY && from != InstanceState.UNHEALTHY) {
        upSince = now;
      }
      if (to == InstanceState.READY) {
        initialized = true;
      }
      if (to == InstanceState.FAILED) {
        failure = cause;
      }
    }
    deployment.stateChanged(new PodEvent.StateChanged(name, now, from, to, text.isEmpty() ? null : text));
    if (to == InstanceState.STOPPED || to == InstanceState.FAILED || to == InstanceState.DESTROYED) {
      failPendingExecs();
    }
    if (from == InstanceState.STOPPED || from == InstanceState.UNHEALTHY || to == InstanceState.STOPPED
        || to == InstanceState.UNHEALTHY) {
      deployment.refreshViews();
    }
    return true;
  }

  /**
   * Sets the state a new runtime recovered from the record, before anyone can observe the instance (no event:
   * adopted instances do not announce their past again).
   */
  synchronized void restore(InstanceState recorded, @Nullable Throwable cause) {
    state = recorded;
    failure = recorded == InstanceState.FAILED ? cause : null;
    // UNHEALTHY comes only from READY: the guest finished its boot (its liveness is judged again from here on)
    initialized = recorded == InstanceState.READY || recorded == InstanceState.UNHEALTHY;
    progress.adopted(initialized);
  }

  /**
   * Restores a recorded STOPPED instance: {@code why} it stopped, whether {@link #stop()} stopped it
   * ({@code held}) and whether its guest was initialized (no event, as {@link #restore(InstanceState, Throwable)}).
   */
  synchronized void restoreStopped(String why, boolean held, boolean wasInitialized) {
    state = InstanceState.STOPPED;
    reason = why;
    this.held = held;
    initialized = wasInitialized;
    progress.adopted(wasInitialized);
  }

  /** Called on the metadata service's event thread: must return quickly. */
  void onAgentEvent(AgentEvent e) {
    if (e instanceof AgentEvent.StatusReported r) {
      // The agent re-reports its status after it lost its metadata service (a runtime restart): the end of an
      // initial phase that ran while no runtime listened arrives this way.
      InstanceState st = state();
      if (adoptedUnsettled && (st == InstanceState.BOOTING || st == InstanceState.INITIALIZING)) {
        switch (r.status()) {
          case RUNNING, RELOADING, RELOAD_FAULT -> {
            adoptedUnsettled = false;
            progress.adopted(true);
            if (transition(InstanceState.READY, null)) {
              deployment.refreshView(this);
            }
          }
          case FAULT -> {
            adoptedUnsettled = false;
            transition(InstanceState.FAILED, new PodsException("the boot phase of instance " + name
                + " failed (reported by its agent after a metadata service restart)"));
          }
          case INITIALIZING -> { }
        }
      }
    } else if (e instanceof AgentEvent.RunStarted r) {
      adoptedUnsettled = false; // its runs are seen from here on
      progress.onRunStarted(r);
      deployment.publish(new PodEvent.PhaseStarted(name, r.at(), r.trigger(), r.run()));
      if (r.trigger() == Trigger.FIRST_BOOT && state() == InstanceState.BOOTING) {
        transition(InstanceState.INITIALIZING, null);
        FaultPoint.reached("initializing");
      } else if (r.trigger() == Trigger.REBOOT && (state() == InstanceState.READY
          || state() == InstanceState.UNHEALTHY || state() == InstanceState.STOPPED)) {
        // a reboot the guest did by itself, or a start of its domain the runtime did not make
        move(InstanceState.BOOTING, null, "its guest began a new boot", null);
      }
    } else if (e instanceof AgentEvent.OutputLine l) {
      progress.onOutput(l.line());
      synchronized (this) {
        if (recent.size() == RECENT_LINES) {
          recent.removeFirst();
        }
        recent.addLast(l.line());
      }
      deployment.publish(new PodEvent.OutputLine(name, l.at(), l.run(), l.block(), l.stream(), l.line()));
    } else if (e instanceof AgentEvent.JournalLines j) {
      synchronized (this) {
        ArrayDeque<String> ring = journals.computeIfAbsent(j.key(), k -> new ArrayDeque<>());
        for (String line : j.lines()) {
          if (ring.size() == JOURNAL_LINES) {
            ring.removeFirst();
          }
          ring.addLast(line);
        }
      }
      if (j.dropped() > 0) {
        deployment.publish(new PodEvent.JournalDropped(name, j.at(), j.key(), j.dropped()));
      }
      for (String line : j.lines()) {
        deployment.publish(new PodEvent.JournalLine(name, j.at(), j.key(), line));
      }
    } else if (e instanceof AgentEvent.RunFinished f) {
      deployment.publish(new PodEvent.PhaseFinished(name, f.at(), f.trigger(), f.run(), f.ok(), f.failedBlock(),
          f.exitCode(), f.duration()));
      if (f.trigger() == Trigger.FIRST_BOOT) {
        if (f.ok()) {
          transition(InstanceState.READY, null);
        } else {
          transition(InstanceState.FAILED, new PodsException("the initial phase of instance " + name
              + " failed in block " + f.failedBlock() + " with exit code " + f.exitCode()));
        }
      } else if (f.trigger() == Trigger.REBOOT && state() == InstanceState.BOOTING) {
        if (f.ok()) {
          transition(InstanceState.READY, null);
        } else {
          transition(InstanceState.FAILED, new PodsException("the reboot phase of instance " + name
              + " failed in block " + f.failedBlock() + " with exit code " + f.exitCode()));
        }
      }
      // after the state: a waiter that sees the run done also sees READY (or FAILED) already
      progress.onRunFinished(f);
    } else if (e instanceof AgentEvent.ExecFinished x) {
      deployment.publish(new PodEvent.ExecFinished(name, x.at(), x.request().argv(), x.result()));
    } else if (e instanceof AgentEvent.EventsDropped d) {
      deployment.publish(new PodEvent.EventsDropped(name, d.at(), d.count()));
    }
    deployment.waitSignal().signal();
  }

  @Override
  public String toString() {
    return "Instance[" + name + ", " + id + ", " + state() + "]";
  }
}
