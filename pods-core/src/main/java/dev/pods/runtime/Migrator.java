package dev.pods.runtime;

import dev.pods.ConflictException;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.MigrationPlan.Action;
import dev.pods.MigrationPlan.Step;
import dev.pods.Phase;
import dev.pods.PhaseTimeoutException;
import dev.pods.Pod;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.RuntimeSettings;
import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans and applies migrations of a {@link DefaultDeployment}: {@link dev.pods.Deployment#scale}, {@link
 * dev.pods.Deployment#plan} and {@link MigrationPlan#apply()}. Applying runs on the caller's thread under the
 * deployment's change lock (creations of new instances go to the runtime's executor); one instance of this class
 * is one apply.
 */
final class Migrator {
  private static final Logger LOG = LoggerFactory.getLogger(Migrator.class);

  private final DefaultDeployment d;
  private final DefaultMigrationPlan plan;
  private final Duration recreateTimeout;
  private final String pod;

  private Migrator(DefaultDeployment d, DefaultMigrationPlan plan, Duration recreateTimeout) {
    this.d = d;
    this.plan = plan;
    this.recreateTimeout = recreateTimeout;
    this.pod = plan.to().name();
  }

  // ------------------------------------------------------------------------------------------ entry points

  static MigrationPlan plan(DefaultDeployment d, Pod next) {
    Objects.requireNonNull(next, "next");
    long before = d.generation();
    Pod from = d.pod();
    List<DefaultInstance> instances = d.instanceList();
    if (d.isDestroyed()) {
      throw new IllegalStateException("pod " + from.name() + " was destroyed");
    }
    if (!next.name().equals(from.name())) {
      throw new IllegalArgumentException("pod " + from.name() + " cannot be migrated to pod " + next.name()
          + ": a deployment keeps its pod's name (deploy the other pod instead)");
    }
    List<dev.pods.Problem> dnsProblems = DnsRecords.check(next, d.settings().domains());
    if (!dnsProblems.isEmpty()) {
      throw new dev.pods.PodSpecException("pod '" + next.name() + "'", dnsProblems);
    }
    DeployChecks.check(next, d.settings(), d.runtime().disksInUse(next.name()));
    for (Unit u : next.units()) {
      if (u.publicAddress() && d.publicPool() == null) {
        throw new PodsException("unit " + u.name() + " of pod " + next.name()
            + " wants a public address, but the runtime has no public network");
      }
    }
    NodePorts.check(next, d.settings().nodeAddress(), d.runtime().nodePortClaims(d));
    List<Step> steps = Planner.steps(next, running(instances), hosting(d));
    // made while a migration ran (odd) or changed meanwhile: a plan that can never apply
    long generation = d.generation() == before ? before : -1;
    return new DefaultMigrationPlan(d, generation, from, next, steps);
  }

  private static List<Planner.Running> running(List<DefaultInstance> instances) {
    List<Planner.Running> running = new ArrayList<>();
    for (DefaultInstance i : instances) {
      InstanceState st = i.state();
      if (st != InstanceState.DESTROYED) {
        running.add(new Planner.Running(i.unit(), i.index(), i.unit, st == InstanceState.FAILED));
      }
    }
    return running;
  }

  /** What the deployment's runtime hosts: every instance without a membership. */
  private static Planner.Hosting hosting(DefaultDeployment d) {
    if (d.settings().membership() == null) {
      return Planner.Hosting.ALL;
    }
    String pod = d.pod().name();
    return (unit, index) -> d.runtime().hosts(pod, unit, index);
  }

  /**
   * Makes the deployment run what its runtime's membership hosts now, with its current pod: the hosting steps of a
   * plan against that pod (instances newly hosted here created, those no longer hosted removed; failed instances and
   * what an interrupted apply left are for the user's plans) applied under the change lock, like an apply. Blocks
   * while a scale, apply or destroy runs, and on the parts; a removal that fails leaves the instance FAILED and
   * throws (the next change removes it).
   *
   * @return whether anything was created or removed
   */
  static boolean follow(DefaultDeployment d) {
    ReentrantLock lock = d.changeLock();
    lock.lock();
    try {
      if (d.isDestroyed() || d.runtime().isClosed() || !d.runtime().registered(d)) {
        return false; // destroyed, or its deploy failed and it was forgotten
      }
      Pod pod = d.pod();
      List<Step> moves = Planner.steps(pod, running(d.instanceList()), hosting(d)).stream()
          .filter(s -> s.action() == Action.CREATE || s.action() == Action.REMOVE)
          .toList();
      if (moves.isEmpty()) {
        return false;
      }
      LOG.info("pod {}: following its membership: {}", pod.name(), moves.stream()
          .map(s -> s.instance() + " " + s.action().name().toLowerCase(java.util.Locale.ROOT) + " ("
              + String.join(", ", s.reasons()) + ")").toList());
      apply(new DefaultMigrationPlan(d, d.generation(), pod, pod, moves), MigrationPlan.DEFAULT_RECREATE_TIMEOUT);
      return true;
    } finally {
      lock.unlock();
    }
  }

  static void scale(DefaultDeployment d, String unit, int count) {
    Objects.requireNonNull(unit, "unit");
    if (count < 0 || count > Unit.MAX_COUNT) {
      throw new IllegalArgumentException("count must be 0.." + Unit.MAX_COUNT + ", not " + count);
    }
    ReentrantLock lock = d.changeLock();
    lock.lock();
    try {
      Pod p = d.pod();
      if (d.isDestroyed()) {
        throw new IllegalStateException("pod " + p.name() + " was destroyed");
      }
      Unit u = p.unit(unit).orElseThrow(() -> new IllegalArgumentException("pod " + p.name() + " has no unit "
          + unit + " (units: " + p.units().stream().map(Unit::name).toList() + ")"));
      DefaultMigrationPlan plan = (DefaultMigrationPlan) plan(d, p.withUnit(u.toBuilder().count(count).build()));
      LOG.info("pod {}: scale {} to {}", p.name(), unit, count);
      apply(plan, MigrationPlan.DEFAULT_RECREATE_TIMEOUT);
    } finally {
      lock.unlock();
    }
  }

  static void apply(DefaultMigrationPlan plan, Duration recreateTimeout) {
    Objects.requireNonNull(recreateTimeout, "recreateTimeout");
    if (recreateTimeout.isNegative() || recreateTimeout.isZero()) {
      throw new IllegalArgumentException("recreateTimeout must be positive, not " + recreateTimeout);
    }
    DefaultDeployment d = plan.deployment();
    ReentrantLock lock = d.changeLock();
    lock.lock();
    try {
      if (d.isDestroyed()) {
        throw new IllegalStateException("pod " + d.pod().name() + " was destroyed");
      }
      if (d.runtime().isClosed()) {
        throw new IllegalStateException("the runtime of pod " + d.pod().name() + " is closed");
      }
      if (plan.generation() != d.generation()) {
        throw new ConflictException("the plan for pod " + d.pod().name() + " was made against an older state of"
            + " the deployment, which was scaled or migrated since (or while the plan was made): make a new plan");
      }
      if (plan.isEmpty()) {
        return;
      }
      d.bumpGeneration();
      try {
        new Migrator(d, plan, recreateTimeout).run();
      } finally {
        d.bumpGeneration();
      }
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------------------------------ apply

  private void run() {
    long t0 = System.nanoTime();
    Pod next = plan.to();
    Map<String, DefaultInstance> byName = new HashMap<>();
    d.instanceList().forEach(i -> byName.put(i.name(), i));
    List<Step> steps = plan.steps();

    List<DefaultInstance> created = allocate(next, steps); // all or nothing, before anything changes
    d.pod(next);

    List<Step> removals = new ArrayList<>(steps.stream().filter(s -> s.action() == Action.REMOVE).toList());
    Collections.reverse(removals); // highest index first
    List<PodsException> removalErrors = new ArrayList<>();
    for (Step s : removals) {
      remove(Objects.requireNonNull(byName.get(s.instance()), s.instance()), removalErrors);
    }

    List<DefaultInstance> list = new ArrayList<>(d.instanceList());
    list.addAll(created);
    List<String> order = next.units().stream().map(Unit::name).toList();
    list.sort(Comparator.<DefaultInstance>comparingInt(i -> order.contains(i.unit()) ? order.indexOf(i.unit())
        : order.size()).thenComparingInt(DefaultInstance::index));
    d.instances(list);
    d.runtime().saveState(d); // the new instances are recorded before anything of them is built
    d.firewalls().sync(); // the new addresses enter the rules that name their units before their VMs start
    d.schedule(created, d.runtime().executor());

    int live = 0;
    for (Step s : steps) {
      if (s.action() == Action.LIVE) {
        Objects.requireNonNull(byName.get(s.instance()), s.instance()).unit = unitOf(next, s);
        live++;
      }
    }
    d.refreshViews();
    d.runtime().saveState(d);
    d.nodePorts().reconcile(next);
    LOG.info("pod {}: {} instances removed, {} scheduled, {} updated live in {} ms", pod, removals.size(),
        created.size(), live, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    if (!removalErrors.isEmpty()) {
      PodsException e = new PodsException("migrate pod " + pod + ": " + removalErrors.size()
          + " instances could not be removed (they are FAILED; plan again to retry), first: "
          + removalErrors.get(0).getMessage() + "; new instances were scheduled and live changes made, no"
          + " recreation was started", removalErrors.get(0));
      removalErrors.subList(1, removalErrors.size()).forEach(e::addSuppressed);
      throw e;
    }

    List<Step> recreations = steps.stream().filter(s -> s.action() == Action.RECREATE).toList();
    for (int k = 0; k < recreations.size(); k++) {
      Step s = recreations.get(k);
      recreate(Objects.requireNonNull(byName.get(s.instance()), s.instance()), unitOf(next, s),
          recreations.subList(0, k), recreations.subList(k + 1, recreations.size()));
    }
    if (!recreations.isEmpty()) {
      LOG.info("pod {}: migration done in {} ms ({} instances recreated)", pod,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), recreations.size());
    }
  }

  private static Unit unitOf(Pod next, Step s) {
    return next.unit(s.unit()).orElseThrow(() -> new IllegalStateException("no unit " + s.unit() + " in " + next));
  }

  /** New instances with their addresses; on failure releases what it allocated and throws. */
  private List<DefaultInstance> allocate(Pod next, List<Step> steps) {
    IpAddressPool priv = d.privatePool();
    IpAddressPool pub = d.publicPool();
    RuntimeSettings s = d.settings();
    List<DefaultInstance> out = new ArrayList<>();
    List<String> allocated = new ArrayList<>();
    try {
      for (Step st : steps) {
        if (st.action() != Action.CREATE) {
          continue;
        }
        Unit u = unitOf(next, st);
        if (u.publicAddress() && pub == null) {
          throw new PodsException("unit " + u.name() + " of pod " + pod
              + " wants a public address, but the runtime has no public network");
        }
        String id = DefaultPodRuntime.instanceId(pod, u.name(), st.index());
        allocated.add(id);
        Cidr subnet = priv.allocate(id);
        Inet4Address pa = u.publicAddress() ? Objects.requireNonNull(pub).allocate(id).network() : null;
        out.add(new DefaultInstance(d, u, st.index(), id, s.namePrefix() + id, subnet, pa,
            dev.pods.imds.ImdsServer.newToken()));
      }
    } catch (RuntimeException e) {
      for (String id : allocated) {
        try {
          if (d.runtime().releasesPrivateAddresses()) {
            priv.release(id);
          }
          if (pub != null) {
            pub.release(id);
          }
        } catch (RuntimeException r) {
          e.addSuppressed(r);
        }
      }
      throw e;
    }
    return out;
  }

  /** Removes {@code i} with everything it owns; on failure it stays listed, FAILED, and the error is added. */
  private void remove(DefaultInstance i, List<PodsException> errors) {
    d.settle(i);
    // its addresses leave the rules that name its unit first: before its VM goes, long before they are released
    d.firewalls().removing(i);
    d.firewalls().sync();
    List<Throwable> errs = new ArrayList<>();
    d.teardown(i, errs);
    if (errs.isEmpty()) {
      // addresses last: a retry after a failure above still knows them; with a membership the private one is kept
      // (the hosts share the pool, and the instance keeps it wherever it runs next)
      if (d.runtime().releasesPrivateAddresses()) {
        release(d.privatePool(), i, errs);
      }
      if (d.publicPool() != null) {
        release(Objects.requireNonNull(d.publicPool()), i, errs);
      }
    }
    if (errs.isEmpty()) {
      i.transition(InstanceState.DESTROYED, null);
      List<DefaultInstance> rest = new ArrayList<>(d.instanceList());
      rest.remove(i);
      d.instances(rest);
      LOG.info("pod {}: instance {} removed", pod, i.name());
      return;
    }
    PodsException e = new PodsException("remove instance " + i.name() + " of pod " + pod + ": "
        + errs.get(0).getMessage(), errs.get(0));
    errs.subList(1, errs.size()).forEach(e::addSuppressed);
    i.transition(InstanceState.FAILED, e);
    errors.add(e);
  }

  private static void release(IpAddressPool pool, DefaultInstance i, List<Throwable> errs) {
    try {
      pool.release(i.id());
    } catch (RuntimeException e) {
      errs.add(e);
    }
  }

  /** Rebuilds {@code i} running {@code next} and waits for its initial phase; throws when it does not get there. */
  private void recreate(DefaultInstance i, Unit next, List<Step> done, List<Step> left) {
    long t0 = System.nanoTime();
    LOG.info("pod {}: recreating instance {}", pod, i.name());
    Inet4Address pa = i.publicAddress().orElse(null);
    IpAddressPool pub = d.publicPool();
    if (next.publicAddress() && pa == null) {
      try {
        pa = Objects.requireNonNull(pub, "public pool").allocate(i.id()).network();
      } catch (RuntimeException e) {
        throw failure(i, "no public address: " + e.getMessage(), e, done, left);
      }
    }
    d.settle(i);
    List<Throwable> errs = new ArrayList<>();
    d.teardown(i, errs);
    if (!next.publicAddress() && pa != null && errs.isEmpty()) {
      d.firewalls().sync(); // its public address leaves its peers' rules before another instance can get it
      release(Objects.requireNonNull(pub), i, errs);
      pa = null;
    }
    if (!errs.isEmpty()) {
      PodsException e = new PodsException("its old VM could not be removed: " + errs.get(0).getMessage(),
          errs.get(0));
      errs.subList(1, errs.size()).forEach(e::addSuppressed);
      i.transition(InstanceState.FAILED, e);
      d.refreshViews();
      throw failure(i, e.getMessage(), e, done, left);
    }
    i.recreating(next, pa);
    d.build(i); // marks the instance FAILED (and cleans up) when it cannot be built
    d.runtime().saveState(d);
    InstanceState st;
    try {
      st = d.awaitSettled(i, System.nanoTime() + recreateTimeout.toNanos());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure(i, "interrupted while waiting for it", e, done, left);
    }
    if (st == InstanceState.READY) {
      LOG.info("pod {}: instance {} recreated and ready in {} ms", pod, i.name(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      return;
    }
    if (st == InstanceState.FAILED) {
      d.refreshViews(); // its peers stop listing it (it may have failed in the guest, not while being built)
      Throwable cause = i.failure().orElse(null);
      throw failure(i, cause == null ? "failed" : String.valueOf(cause.getMessage()), cause, done, left);
    }
    if (d.isDestroyed()) {
      throw failure(i, "the deployment was destroyed meanwhile", null, done, left);
    }
    if (d.runtime().isClosed()) {
      throw failure(i, "the runtime was closed meanwhile", null, done, left);
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
    throw new PhaseTimeoutException(Phase.INITIAL, elapsed, message(i, "its initial phase did not finish within "
        + recreateTimeout + " (it is " + st + ")", done, left));
  }

  private PodsException failure(DefaultInstance i, String why, @Nullable Throwable cause, List<Step> done,
      List<Step> left) {
    return new PodsException(message(i, why, done, left), cause);
  }

  private String message(DefaultInstance i, String why, List<Step> done, List<Step> left) {
    return "migrate pod " + pod + ": recreating instance " + i.name() + " failed: " + why
        + "; recreated before it: " + names(done) + "; left as they were: " + names(left)
        + " (plan(pod()) lists what is left)" + DefaultDeployment.tail(i);
  }

  private static String names(List<Step> steps) {
    return steps.isEmpty() ? "none" : String.join(", ", steps.stream().map(Step::instance).toList());
  }
}
