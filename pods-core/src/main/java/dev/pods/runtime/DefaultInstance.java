package dev.pods.runtime;

import dev.pods.BackendException;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.ExecRequest;
import dev.pods.imds.ExecResult;
import dev.pods.imds.ImdsServer;
import dev.pods.spi.Cidr;
import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/** One instance of a {@link DefaultDeployment}; its state is guarded by {@code this}, never held while blocking. */
final class DefaultInstance implements Instance {
  static final int RECENT_LINES = 50;

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

  private InstanceState state = InstanceState.PENDING;
  private @Nullable Throwable failure;
  private @Nullable ImdsServer imds;
  private final ArrayDeque<String> recent = new ArrayDeque<>();
  volatile CompletableFuture<Void> creation = CompletableFuture.completedFuture(null);
  /** Taken once: by the creation task when it starts, or by destroy() when the task has not started yet. */
  final java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();
  /**
   * Whether the guest on the current disk completed its initial phase (READY once); tells its metadata service
   * ({@code initialized}) that a later boot is not the first. Cleared when the instance gets a fresh disk.
   */
  volatile boolean initialized;
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
  public synchronized List<String> recentOutput() {
    return List.copyOf(recent);
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
      throw new PodsException("exec " + request.argv() + " in instance " + name + " failed: " + e.getCause(),
          e.getCause());
    } catch (TimeoutException e) {
      throw new PodsException("exec " + request.argv() + " in instance " + name + ": no answer within " + wait, e);
    }
  }

  @Override
  public CompletableFuture<ExecResult> execAsync(ExecRequest request) {
    Objects.requireNonNull(request, "request");
    ImdsServer s = imds();
    if (s == null) {
      throw new IllegalStateException("instance " + name + " has no metadata service (state " + state() + ")");
    }
    return s.exec(request);
  }

  synchronized @Nullable ImdsServer imds() {
    return imds;
  }

  synchronized void imds(@Nullable ImdsServer server) {
    this.imds = server;
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
    InstanceState from;
    synchronized (this) {
      from = state;
      boolean isFinal = from == InstanceState.DESTROYED
          || (from == InstanceState.FAILED && to != InstanceState.DESTROYED);
      if (isFinal || from == to) {
        return false;
      }
      state = to;
      if (to == InstanceState.READY) {
        initialized = true;
      }
      if (to == InstanceState.FAILED) {
        failure = cause;
      }
    }
    deployment.stateChanged(new PodEvent.StateChanged(name, deployment.clock().instant(), from, to,
        cause == null ? null : String.valueOf(cause.getMessage())));
    return true;
  }

  /**
   * Sets the state a new runtime recovered from the record, before anyone can observe the instance (no event:
   * adopted instances do not announce their past again).
   */
  synchronized void restore(InstanceState recorded, @Nullable Throwable cause) {
    state = recorded;
    failure = recorded == InstanceState.FAILED ? cause : null;
    initialized = recorded == InstanceState.READY;
  }

  /** Called on the metadata service's event thread: must return quickly. */
  void onAgentEvent(AgentEvent e) {
    if (e instanceof AgentEvent.StatusReported r) {
      // The agent re-reports its status after it lost its metadata service (a runtime restart): the end of an
      // initial phase that ran while no runtime listened arrives this way.
      InstanceState st = state();
      if (st == InstanceState.BOOTING || st == InstanceState.INITIALIZING) {
        switch (r.status()) {
          case RUNNING, RELOADING, RELOAD_FAULT -> {
            if (transition(InstanceState.READY, null)) {
              deployment.refreshView(this);
            }
          }
          case FAULT -> transition(InstanceState.FAILED, new PodsException("the boot phase of instance " + name
              + " failed (reported by its agent after a metadata service restart)"));
          case INITIALIZING -> { }
        }
      }
    } else if (e instanceof AgentEvent.RunStarted r) {
      deployment.publish(new PodEvent.PhaseStarted(name, r.at(), r.trigger(), r.run()));
      if (r.trigger() == Trigger.FIRST_BOOT && state() == InstanceState.BOOTING) {
        transition(InstanceState.INITIALIZING, null);
        FaultPoint.reached("initializing");
      }
    } else if (e instanceof AgentEvent.OutputLine l) {
      synchronized (this) {
        if (recent.size() == RECENT_LINES) {
          recent.removeFirst();
        }
        recent.addLast(l.line());
      }
      deployment.publish(new PodEvent.OutputLine(name, l.at(), l.run(), l.block(), l.stream(), l.line()));
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
      }
    } else if (e instanceof AgentEvent.ExecFinished x) {
      deployment.publish(new PodEvent.ExecFinished(name, x.at(), x.request().argv(), x.result()));
    } else if (e instanceof AgentEvent.EventsDropped d) {
      deployment.publish(new PodEvent.EventsDropped(name, d.at(), d.count()));
    }
  }

  @Override
  public String toString() {
    return "Instance[" + name + ", " + id + ", " + state() + "]";
  }
}
