package dev.pods.etcd;

import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.InstanceStatus;
import dev.pods.MigrationPlan;
import dev.pods.Phase;
import dev.pods.PhaseTimeoutException;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodEvents;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.WaitTimeoutException;
import dev.pods.etcd.internal.StatusRecord;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * One pod desired in a cluster, as a {@link ClusterRuntime} shows it (see there for how it differs from a local
 * deployment). Thread-safe; changes ({@link #scale}, {@code apply}, {@link #destroy()}) are serialized.
 */
final class ClusterDeployment implements Deployment {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

  private final ClusterRuntime runtime;
  private final String name;
  private final dev.pods.spi.PodEventFeed feed;
  private final Map<String, ClusterInstance> handles = new ConcurrentHashMap<>();
  private final ReentrantLock changes = new ReentrantLock();
  private volatile Pod pod;
  private volatile boolean destroyed;
  /** Whether the cluster's watch has shown the pod desired (after that, its absence means it was removed). */
  private volatile boolean shown;

  ClusterDeployment(ClusterRuntime runtime, String name, Pod pod) {
    this.runtime = runtime;
    this.name = name;
    this.pod = pod;
    this.feed = new dev.pods.spi.PodEventFeed(runtime.clock());
    this.shown = runtime.view().pod(name) != null;
  }

  String name() {
    return name;
  }

  ClusterRuntime runtime() {
    return runtime;
  }

  /** Whether this runtime destroyed it, or the cluster no longer desires it (another client removed it). */
  boolean destroyed() {
    return destroyed || shown && runtime.view().pod(name) == null;
  }

  void seen(Pod now) {
    pod = now;
    shown = true;
  }

  void publish(PodEvent e) {
    feed.publish(e);
  }

  /** An event a node wrote: kept for output waits and published. */
  void received(PodEvent e) {
    if (e instanceof PodEvent.OutputLine l) {
      instanceNamed(l.instance()).output(l.line());
    } else if (e instanceof PodEvent.JournalLine j) {
      instanceNamed(j.instance()).journalLine(j.key(), j.line());
    }
    feed.publish(e);
  }

  void pendingSince(String instance, Instant at) {
    instanceNamed(instance).pendingSince(at);
  }

  void closeFeed() {
    feed.close();
  }

  /** The handle of instance {@code UNIT-INDEX} (made on first use; one per name). */
  ClusterInstance instanceNamed(String instance) {
    int dash = instance.lastIndexOf('-');
    return handles.computeIfAbsent(instance, n -> new ClusterInstance(this, instance.substring(0, dash),
        Integer.parseInt(instance.substring(dash + 1))));
  }

  /** The cluster's pod now (the last one seen, once it was removed). */
  @Override
  public Pod pod() {
    Pod now = runtime.view().pod(name);
    return now != null ? now : pod;
  }

  @Override
  public List<Instance> instances() {
    List<Instance> out = new ArrayList<>();
    for (Unit u : pod().units()) {
      for (int i = 0; i < u.count(); i++) {
        out.add(instanceNamed(u.name() + "-" + i));
      }
    }
    return out;
  }

  @Override
  public Instance instance(String unit, int index) {
    Unit u = pod().unit(unit).orElseThrow(() -> new IllegalArgumentException("pod " + name + " has no unit '" + unit
        + "'"));
    if (index < 0 || index >= u.count()) {
      throw new IllegalArgumentException("unit " + unit + " of pod " + name + " has " + u.count()
          + " instance(s), no index " + index);
    }
    return instanceNamed(unit + "-" + index);
  }

  @Override
  public PodEvents events() {
    return feed;
  }

  /** Waits until every instance is READY on some node. */
  @Override
  public void awaitReady(Duration timeout) {
    List<ClusterInstance> all = current();
    long start = System.nanoTime();
    String missing = waitFor(all, Wait.forPhase(Phase.INITIAL), timeout);
    if (missing != null) {
      throw new PhaseTimeoutException(Phase.INITIAL, Duration.ofNanos(System.nanoTime() - start), "pod " + name
          + " not ready after " + timeout.toSeconds() + " s: " + missing);
    }
  }

  @Override
  public void await(Wait condition, Duration timeout) {
    List<ClusterInstance> all = current();
    long start = System.nanoTime();
    String missing = waitFor(all, condition, timeout);
    if (missing != null) {
      throw new WaitTimeoutException(condition, Duration.ofNanos(System.nanoTime() - start), "pod " + name + ": "
          + condition.describe() + " not met after " + timeout.toSeconds() + " s: " + missing);
    }
  }

  private List<ClusterInstance> current() {
    checkNotDestroyed();
    return instances().stream().map(ClusterInstance.class::cast).toList();
  }

  private void checkNotDestroyed() {
    if (destroyed()) {
      throw new IllegalStateException("pod " + name + " was destroyed" + (destroyed ? ""
          : ": it is no longer desired in the cluster under " + runtime.prefix()));
    }
    runtime.checkOpen();
  }

  /**
   * Blocks until {@code condition} held for each of {@code instances}, woken by the cluster's changes; returns null,
   * or when the timeout passed, the instances it does not hold for with their statuses.
   *
   * @throws PodsException at once when one is FAILED
   */
  String waitFor(List<ClusterInstance> instances, Wait condition, Duration timeout) {
    ClusterInstance.check(condition);
    Map<ClusterInstance, WaitProgress> progress = new java.util.LinkedHashMap<>();
    instances.forEach(i -> progress.put(i, new WaitProgress(condition)));
    return waitUntil(instances, timeout, i -> progress.get(i).met(i));
  }

  /** Blocks until {@code done} holds for each of {@code instances}; as {@link #waitFor}. */
  String waitUntil(List<ClusterInstance> instances, Duration timeout, Predicate<ClusterInstance> done) {
    long end = System.nanoTime() + timeout.toNanos();
    ClusterView view = runtime.view();
    while (true) {
      long seen = view.changes();
      checkNotDestroyed();
      List<ClusterInstance> left = new ArrayList<>();
      for (ClusterInstance i : instances) {
        InstanceStatus s = i.status();
        if (s.state() == InstanceState.FAILED) {
          throw new PodsException("instance " + i.name() + " of pod " + name + " FAILED" + i.where() + " since "
              + TIME.format(s.since()) + ": " + s.reason() + i.lastLines());
        }
        if (!done.test(i)) {
          left.add(i);
        }
      }
      if (left.isEmpty()) {
        return null;
      }
      long rest = end - System.nanoTime();
      if (rest <= 0) {
        return String.join("; ", left.stream().map(ClusterInstance::describe).toList());
      }
      try {
        view.awaitChange(seen, rest);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PodsException("waiting for pod " + name + " was interrupted", e);
      }
    }
  }

  /**
   * Blocks until {@code done} holds, woken by the cluster's changes; false when {@code timeout} passed first.
   *
   * @throws IllegalStateException when the runtime is closed meanwhile
   */
  boolean awaitTrue(java.util.function.BooleanSupplier done, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    ClusterView view = runtime.view();
    while (true) {
      long seen = view.changes();
      if (done.getAsBoolean()) {
        return true;
      }
      long rest = end - System.nanoTime();
      if (rest <= 0) {
        return false;
      }
      try {
        view.awaitChange(seen, rest);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PodsException("waiting for pod " + name + " was interrupted", e);
      }
      runtime.checkOpen();
    }
  }

  /** What of a wait has been met for one instance (a part of {@code allOf} once met stays met). */
  private static final class WaitProgress {
    private final List<Wait> parts;
    private final boolean[] met;

    WaitProgress(Wait w) {
      parts = w instanceof Wait.AllOf a ? a.waits() : List.of(w);
      met = new boolean[parts.size()];
    }

    boolean met(ClusterInstance i) {
      boolean all = true;
      for (int k = 0; k < parts.size(); k++) {
        met[k] = met[k] || i.holds(parts.get(k));
        all &= met[k];
      }
      return all;
    }
  }

  @Override
  public boolean isReady() {
    return instances().stream().allMatch(i -> i.state() == InstanceState.READY);
  }

  /**
   * Removes the pod from the cluster's desired pods and waits until no node reports any of its instances (for the
   * runtime's destroy timeout). Idempotent.
   *
   * @throws PodsException naming the instances still running and their nodes when the timeout passes; a second
   *     call waits again
   */
  @Override
  public void destroy() {
    changes.lock();
    try {
      runtime.checkOpen();
      runtime.desired().remove(name);
      destroyed = true;
      long end = System.nanoTime() + runtime.destroyTimeout().toNanos();
      ClusterView view = runtime.view();
      while (true) {
        long seen = view.changes();
        Map<String, StatusRecord> left = view.statusOf(name);
        if (left.isEmpty()) {
          break;
        }
        long rest = end - System.nanoTime();
        if (rest <= 0) {
          List<String> which = new ArrayList<>();
          left.forEach((i, s) -> which.add(i + " on " + s.node() + " (" + s.state() + ")"));
          throw new PodsException("pod " + name + " removed from the cluster, but after "
              + runtime.destroyTimeout().toSeconds() + " s nodes still run " + String.join(", ", which));
        }
        try {
          view.awaitChange(seen, rest);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new PodsException("destroying pod " + name + " was interrupted", e);
        }
      }
      feed.close();
      runtime.forget(name, this);
    } finally {
      changes.unlock();
    }
  }

  @Override
  public void scale(String unit, int count) {
    Objects.requireNonNull(unit, "unit");
    Unit u = pod().unit(unit).orElseThrow(() -> new IllegalArgumentException("pod " + name + " has no unit '" + unit
        + "'"));
    if (count < 0 || count > Unit.MAX_COUNT) {
      throw new IllegalArgumentException("count must be in 0.." + Unit.MAX_COUNT + ", not " + count);
    }
    plan(pod().withUnit(u.toBuilder().count(count).build())).apply();
  }

  @Override
  public MigrationPlan plan(Pod next) {
    Objects.requireNonNull(next, "next");
    checkNotDestroyed();
    if (!next.name().equals(name)) {
      throw new IllegalArgumentException("a plan of pod " + name + " cannot lead to pod " + next.name());
    }
    runtime.checkImages(next);
    Pod from = pod();
    return new ClusterPlan(this, from, next, ClusterPlanner.steps(next, from, runtime.view().statusOf(name)));
  }

  /** Runs {@code change} serialized with the other changes of this deployment. */
  void change(Runnable change) {
    changes.lock();
    try {
      checkNotDestroyed();
      change.run();
    } finally {
      changes.unlock();
    }
  }

  @Override
  public void close() {
    destroy();
  }
}
