package dev.pods.runtime;

import dev.pods.InstanceState;
import dev.pods.PodsException;
import dev.pods.Wait;
import dev.pods.WaitTimeoutException;
import dev.pods.imds.ImdsServer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Blocks until a {@link Wait} holds for a set of instances of one deployment. Phase and output conditions are
 * re-evaluated when the deployment's {@link WaitSignal} fires (an agent report or a state change), never by asking
 * the guest; port conditions try a connection from inside the instance's namespace at most every
 * {@value Wait#PORT_RETRY_MILLIS} ms. Each call uses only the calling thread; not shared between calls.
 */
final class Waiter {
  /** The longest a single connection attempt of a port condition may take. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

  private final DefaultDeployment deployment;
  private final Wait condition;
  private final BooleanSupplier destroyed;
  private final boolean skipRemoved;
  private final List<Target> targets = new ArrayList<>();

  private Waiter(DefaultDeployment deployment, List<DefaultInstance> instances, Wait condition,
      BooleanSupplier destroyed, boolean skipRemoved) {
    this.deployment = deployment;
    this.condition = condition;
    this.destroyed = destroyed;
    this.skipRemoved = skipRemoved;
    for (DefaultInstance i : instances) {
      List<Leaf> leaves = new ArrayList<>();
      flatten(condition, leaves);
      targets.add(new Target(i, leaves));
    }
  }

  /**
   * Waits until {@code condition} held for every one of {@code instances}.
   *
   * @param destroyed whether the deployment was destroyed (checked at every wake-up)
   * @param skipRemoved whether an instance that a scale or migration removes meanwhile is dropped from the wait (a
   *     deployment-wide wait) rather than failing it (a wait on that instance)
   * @throws WaitTimeoutException, PodsException, IllegalStateException as {@link dev.pods.Deployment#await} says
   */
  static void await(DefaultDeployment deployment, List<DefaultInstance> instances, Wait condition,
      Duration timeout, BooleanSupplier destroyed, boolean skipRemoved) {
    Objects.requireNonNull(condition, "condition");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    new Waiter(deployment, instances, condition, destroyed, skipRemoved).run(timeout);
  }

  private static void flatten(Wait w, List<Leaf> into) {
    if (w instanceof Wait.AllOf a) {
      a.waits().forEach(x -> flatten(x, into));
    } else {
      into.add(new Leaf(w));
    }
  }

  private void run(Duration timeout) {
    long start = System.nanoTime();
    long deadline = start + Math.min(timeout.toNanos(), Long.MAX_VALUE / 4);
    WaitSignal signal = deployment.waitSignal();
    while (true) {
      long seen = signal.seq();
      long wake = deadline;
      boolean all = true;
      for (Target t : targets) {
        if (removed(t.instance)) {
          continue; // scaled away or removed by a migration while waiting: no longer part of the deployment
        }
        failFast(t.instance);
        for (Leaf l : t.leaves) {
          if (!l.met) {
            l.met = test(t.instance, l, deadline);
          }
          if (!l.met) {
            all = false;
            wake = Math.min(wake, l.retryAt);
          }
        }
      }
      if (all) {
        return;
      }
      long now = System.nanoTime();
      if (now - deadline >= 0) {
        throw timeout(Duration.ofNanos(now - start));
      }
      try {
        signal.awaitChange(seen, Math.max(1, Math.min(wake, deadline) - now));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PodsException("interrupted while waiting for " + condition.describe() + " in pod "
            + deployment.pod().name(), e);
      }
    }
  }

  /**
   * Whether a scale or migration removed {@code i}: DESTROYED is final and, outside a destroy of the whole
   * deployment (whose flag is set before any instance changes), only a removal leads there; the instance may still
   * be in the list for a moment, which is replaced after its removal.
   */
  private boolean removed(DefaultInstance i) {
    return skipRemoved && !destroyed.getAsBoolean() && i.state() == InstanceState.DESTROYED;
  }

  private void failFast(DefaultInstance i) {
    if (destroyed.getAsBoolean() || i.state() == InstanceState.DESTROYED) {
      throw new IllegalStateException("instance " + i.name() + " of pod " + deployment.pod().name()
          + " was destroyed while waiting for " + condition.describe());
    }
    if (i.state() == InstanceState.STOPPED) {
      throw new PodsException(i.describe() + " (pod " + deployment.pod().name() + ", waiting for "
          + condition.describe() + ")");
    }
    if (i.state() == InstanceState.FAILED) {
      Throwable cause = i.failure().orElse(null);
      throw new PodsException("instance " + i.name() + " of pod " + deployment.pod().name()
          + " failed while waiting for " + condition.describe() + ": "
          + (cause == null ? "?" : cause.getMessage()) + DefaultDeployment.tail(i), cause);
    }
  }

  private boolean test(DefaultInstance i, Leaf l, long deadline) {
    Wait w = l.wait;
    if (w instanceof Wait.ForPhase p) {
      ImdsServer imds = i.imds();
      InstanceProgress.PhaseStatus st = i.progress().phase(p.phase(), imds == null ? null : imds.stateHash());
      if (st.failure() != null) {
        throw new PodsException("instance " + i.name() + " of pod " + deployment.pod().name() + ": "
            + st.failure() + " while waiting for " + w.describe() + DefaultDeployment.tail(i));
      }
      return st.met();
    }
    if (w instanceof Wait.ForOutput o) {
      InstanceProgress.Scan s = i.progress().scan(o.pattern(), l.cursor);
      l.cursor = s.next();
      l.count += s.matches();
      return l.count >= o.times();
    }
    if (w instanceof Wait.ForPort p) {
      long now = System.nanoTime();
      if (now - l.retryAt < 0) {
        return false;
      }
      l.retryAt = now + TimeUnit.MILLISECONDS.toNanos(Wait.PORT_RETRY_MILLIS);
      long left = Math.max(TimeUnit.MILLISECONDS.toNanos(50), deadline - now);
      Duration connect = Duration.ofNanos(Math.min(left, CONNECT_TIMEOUT.toNanos()));
      InetSocketAddress target = new InetSocketAddress(i.privateAddress(), p.port());
      try (Socket s = deployment.settings().networkDriver().connectInNamespace(i.id(), target, connect)) {
        return s.isConnected();
      } catch (Exception e) {
        l.lastError = e.getMessage();
        return false;
      }
    }
    throw new IllegalArgumentException("unknown wait " + w);
  }

  private WaitTimeoutException timeout(Duration elapsed) {
    StringBuilder m = new StringBuilder("pod " + deployment.pod().name() + ": " + condition.describe()
        + " did not hold within " + elapsed.toMillis() + " ms:");
    for (Target t : targets) {
      List<String> missing = new ArrayList<>();
      for (Leaf l : t.leaves) {
        if (!l.met) {
          missing.add(l.wait.describe() + (l.lastError == null ? "" : " (last attempt: " + l.lastError + ")"));
        }
      }
      if (!missing.isEmpty()) {
        m.append("\n").append(t.instance.describe())
            .append(", no ").append(String.join(", no ", missing)).append(DefaultDeployment.tail(t.instance));
      }
    }
    return new WaitTimeoutException(condition, elapsed, m.toString());
  }

  private record Target(DefaultInstance instance, List<Leaf> leaves) {}

  /** One condition for one instance: met once, it stays met. */
  private static final class Leaf {
    final Wait wait;
    boolean met;
    /** When a polled condition may be tried again ({@link System#nanoTime()}); far away for event-driven ones. */
    long retryAt;
    long cursor;
    int count;
    @Nullable String lastError;

    Leaf(Wait wait) {
      this.wait = wait;
      this.retryAt = wait instanceof Wait.ForPort ? System.nanoTime() : System.nanoTime() + Long.MAX_VALUE / 4;
    }
  }
}
