package dev.pods.runtime;

import dev.pods.internal.SafeText;
import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.Phase;
import dev.pods.PhaseTimeoutException;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodEvents;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.agent.AgentConfig;
import dev.pods.agent.AgentScript;
import dev.pods.imds.ImdsBinding;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.InstanceView;
import dev.pods.imds.NamespaceRunner;
import dev.pods.imds.PeerInstance;
import dev.pods.spi.Cidr;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainNic;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.InstanceFiles;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deployed pod: builds its instances on the executor and removes them on {@link #destroy()}; {@link Migrator}
 * changes them ({@link #scale}, {@link MigrationPlan#apply()}) under {@link #changeLock()}.
 */
final class DefaultDeployment implements Deployment {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultDeployment.class);
  private static final long GIB = 1024L * 1024 * 1024;
  private static final int TAIL_LINES = 15;

  private final DefaultPodRuntime runtime;
  private final RuntimeSettings s;
  private volatile Pod pod;
  private final IpAddressPool privatePool;
  private final @Nullable IpAddressPool publicPool;
  /** Immutable; replaced (never mutated) by deploy and by migrations, so readers iterate a consistent list. */
  private volatile List<DefaultInstance> instances = List.of();
  private final EventFeed feed;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** Serializes destroy, scale and apply. */
  private final ReentrantLock destroyLock = new ReentrantLock();
  /** A write of the record is queued ({@link DefaultPodRuntime#save}). */
  final java.util.concurrent.atomic.AtomicBoolean recordDirty = new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean destroyed;
  /** Bumped (under destroyLock) when a migration starts and when it ends: odd while one runs. */
  private volatile long generation;
  private final WaitSignal waitSignal = new WaitSignal();

  DefaultDeployment(DefaultPodRuntime runtime, RuntimeSettings s, Pod pod, IpAddressPool privatePool,
      @Nullable IpAddressPool publicPool) {
    this.runtime = runtime;
    this.s = s;
    this.pod = pod;
    this.privatePool = privatePool;
    this.publicPool = publicPool;
    this.feed = new EventFeed(s.clock());
  }

  void add(DefaultInstance i) {
    List<DefaultInstance> l = new ArrayList<>(instances);
    l.add(i);
    instances = List.copyOf(l);
  }

  Hypervisor hypervisor() {
    return s.hypervisor();
  }

  Clock clock() {
    return s.clock();
  }

  WaitSignal waitSignal() {
    return waitSignal;
  }

  void publish(PodEvent e) {
    feed.publish(e);
  }

  void stateChanged(PodEvent.StateChanged e) {
    LOG.debug("pod {} instance {}: {} -> {}", pod.name(), e.instance(), e.from(), e.to());
    feed.publish(e);
    if (persistent(e.from()) || persistent(e.to())) {
      runtime.save(this);
    }
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    waitSignal.signal();
  }

  /**
   * The states whose entering or leaving is recorded: what adoption needs (READY: the guest is initialized; FAILED:
   * it stays failed). The others it tells from the domain and network themselves; DESTROYED comes with the
   * record's removal.
   */
  private static boolean persistent(InstanceState st) {
    return st == InstanceState.READY || st == InstanceState.FAILED;
  }

  // ------------------------------------------------------------------------------------------ creation

  /** Starts building every instance on {@code executor}. */
  void startAll(Executor executor) {
    schedule(instances, executor);
  }

  /** Starts building each of {@code list} on {@code executor}. */
  void schedule(List<DefaultInstance> list, Executor executor) {
    for (DefaultInstance i : list) {
      try {
        i.creation = CompletableFuture.runAsync(() -> create(i), executor);
      } catch (RuntimeException e) {
        i.transition(InstanceState.FAILED, new PodsException("cannot schedule instance " + i.name(), e));
      }
    }
  }

  private interface Undo {
    void run() throws Exception;
  }

  void create(DefaultInstance i) {
    if (!i.claimed.compareAndSet(false, true)) {
      return; // destroyed (or recreated) before it started
    }
    build(i);
  }

  /** Builds instance {@code i} anew on the calling thread; on failure removes what it built and marks it FAILED. */
  void build(DefaultInstance i) {
    build(i, true);
  }

  /**
   * Builds (or finishes) instance {@code i}; every step is idempotent, so it also completes what a crashed
   * runtime left half done. {@code fresh}: network, files (a new root overlay: the initial phase runs again),
   * domain, metadata service, start; otherwise (network, files and a defined domain are there) only the metadata
   * service and the start. On failure everything of the instance is removed and it is marked FAILED.
   */
  private void build(DefaultInstance i, boolean fresh) {
    long t0 = System.nanoTime();
    Deque<Undo> undo = new ArrayDeque<>();
    try {
      i.transition(InstanceState.CREATING, null);
      Unit unit = i.unit;
      if (fresh) {
        i.initialized = false;
        Optional<String> refused = s.imagePolicy().refusal(unit.image());
        if (refused.isPresent()) {
          throw new PodsException("image '" + unit.image() + "' of unit " + unit.name()
              + " is refused by the host's image policy: " + refused.get());
        }
        BootImage image = s.images().resolve(unit.image());
        String version = specVersion(unit);

        NetworkInstance net = s.networkDriver().create(networkSpec(i));
        undo.push(() -> s.networkDriver().delete(i.id()));
        FaultPoint.reached("network");

        InstanceFiles.Seed seed = new InstanceFiles.Seed(i.name(), AgentScript.bytes(),
            AgentConfig.forGuest(i.token).render(), Map.of());
        InstanceFiles.Prepared files = s.instanceFiles().prepare(i.domainName(), seed, image.baseDisk(),
            image.baseDisk() == null ? 0 : unit.diskSizeGib() * GIB);
        undo.push(() -> s.instanceFiles().delete(i.domainName()));

        DomainSpec.Builder spec = DomainSpec.builder(i.domainName())
            .metadata(new DomainMetadata(s.owner(), pod.name(), unit.name(), i.index(), version))
            .vcpus(unit.processors())
            .memoryMib(unit.memoryMib())
            .boot(image.kernel() != null ? DomainBoot.kernel(image.kernel(), image.initrd(), image.cmdline())
                : DomainBoot.disk())
            .seedIso(files.seedIso())
            .serialLog(files.consoleLog())
            .nic(DomainNic.tap(net.tap(), net.spec().mac()));
        if (files.disk() != null) {
          spec.disk(DomainDisk.qcow2(files.disk()));
        }
        s.hypervisor().define(spec.build());
        undo.push(() -> s.hypervisor().undefine(i.domainName()));
        FaultPoint.reached("define");
      } else {
        // what an earlier runtime built is undone the same way (last built, first removed)
        undo.push(() -> s.networkDriver().delete(i.id()));
        undo.push(() -> s.instanceFiles().delete(i.domainName()));
        undo.push(() -> s.hypervisor().undefine(i.domainName()));
      }

      // before the domain starts: the agent asks for its spec as soon as the guest is up
      ImdsServer imds = startImds(i);
      undo.push(() -> {
        i.imds(null);
        imds.close();
      });
      if (destroyed || runtime.isClosed()) {
        throw new PodsException("deployment of pod " + pod.name() + " was destroyed or its runtime closed");
      }
      s.hypervisor().start(i.domainName());
      i.transition(InstanceState.BOOTING, null);
      LOG.info("pod {} instance {} started in {} ms", pod.name(), i.name(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      FaultPoint.reached("start");
    } catch (RuntimeException | Error e) {
      LOG.warn("pod {} instance {}: creation failed, removing what was built", pod.name(), i.name(), e);
      while (!undo.isEmpty()) {
        try {
          undo.pop().run();
        } catch (Exception | Error u) {
          e.addSuppressed(u);
        }
      }
      i.transition(InstanceState.FAILED, e);
      refreshViews();
    }
  }

  /** Starts the instance's metadata service (recorded token, current view) and hands it to the instance. */
  ImdsServer startImds(DefaultInstance i) {
    ImdsServer imds = ImdsServer.builder()
        .binding(ImdsBinding.inNamespace(NamespaceRunner.of(s.networkDriver(), i.id()), s.metadataAddress()))
        .view(view(i))
        .token(i.token)
        .clock(s.clock())
        .listener(i::onAgentEvent)
        .start();
    i.imds(imds);
    imds.update(view(i)); // views refreshed since view(i) above missed this listener
    return imds;
  }

  /**
   * Schedules {@link #build} for instances a new runtime adopted with parts missing; {@code fresh} tells per
   * instance whether everything is rebuilt or only the metadata service and the start are due.
   */
  void finishAdopted(Map<DefaultInstance, Boolean> todo, Executor executor) {
    todo.forEach((i, fresh) -> {
      try {
        i.creation = CompletableFuture.runAsync(() -> {
          if (i.claimed.compareAndSet(false, true)) {
            build(i, fresh);
          }
        }, executor);
      } catch (RuntimeException e) {
        i.transition(InstanceState.FAILED, new PodsException("cannot schedule instance " + i.name(), e));
      }
    });
  }

  // ------------------------------------------------------------------------------------------ self-heal

  /**
   * The hypervisor reported that {@code i}'s domain stopped or was removed: when the domain is gone for good while
   * the instance was up (booting, initializing or ready), recreates it on {@code executor} with a fresh disk and
   * the same addresses and token (its initial phase runs again). Ignored while the deployment is destroyed, the
   * runtime closed, the instance failed or being (re)built, and while a destroy or a migration holds the change
   * lock. Blocks on the hypervisor; never call it on an event thread.
   */
  void checkVanished(DefaultInstance i, Executor executor) {
    if (destroyed || runtime.isClosed() || !instances.contains(i) || generation % 2 == 1) {
      return; // destroyed, closed, removed, or a migration (which removes and rebuilds domains on purpose) runs
    }
    InstanceState st = i.state();
    if (st != InstanceState.BOOTING && st != InstanceState.INITIALIZING && st != InstanceState.READY) {
      return;
    }
    if (s.hypervisor().state(i.domainName()) != DomainState.MISSING) {
      return;
    }
    if (!i.healing.compareAndSet(false, true)) {
      return;
    }
    LOG.warn("pod {} instance {}: its domain {} vanished; recreating it", pod.name(), i.name(), i.domainName());
    Runnable heal = () -> {
      // under the change lock, so that it never overlaps a destroy or a migration; when one holds it, that one
      // decides the instance's fate (and may be waiting for this very task: never block on the lock here)
      if (!destroyLock.tryLock()) {
        i.healing.set(false);
        return;
      }
      try {
        if (destroyed || runtime.isClosed() || !instances.contains(i)
            || s.hypervisor().state(i.domainName()) != DomainState.MISSING) {
          return;
        }
        ImdsServer old = i.imds();
        if (old != null) {
          i.imds(null);
          old.close();
        }
        i.transition(InstanceState.CREATING,
            new PodsException("domain " + i.domainName() + " vanished; recreating it"));
        build(i, true);
      } finally {
        i.healing.set(false);
        destroyLock.unlock();
      }
    };
    try {
      i.creation = CompletableFuture.runAsync(heal, executor);
    } catch (RuntimeException e) {
      i.healing.set(false);
      LOG.warn("pod {} instance {}: cannot schedule its recreation", pod.name(), i.name(), e);
    }
  }

  private NetworkSpec networkSpec(DefaultInstance i) {
    byte[] a = i.privateAddress().getAddress();
    NetworkUplink uplink = null;
    if (i.publicAddress().isPresent()) {
      var pn = java.util.Objects.requireNonNull(s.publicNetwork());
      uplink = new NetworkUplink(pn.bridge(), i.publicAddress().get(), pn.range().prefixLength(), pn.gateway());
    }
    return NetworkSpec.builder()
        .instanceId(i.id())
        .owner(s.owner())
        .hostname(i.name())
        .mac(String.format("52:54:00:%02x:%02x:%02x", a[1] & 0xff, a[2] & 0xff, a[3] & 0xff))
        .subnet(i.subnet)
        .privateAddress(i.privateAddress())
        .gateway(i.gateway())
        .dnsServer(s.dnsServers().toArray(new java.net.Inet4Address[0]))
        .vpc(new NetworkVpc(DefaultPodRuntime.slug(i.unit.vpc(), 40), s.privateRange()))
        .hostNamespace(s.hostNamespace())
        .uplink(uplink)
        .firewall(NetworkFirewall.open())
        .build();
  }

  /** What instance {@code self} sees: itself, and every live instance of every unit of the pod. */
  private InstanceView view(DefaultInstance self) {
    Pod pod = this.pod;
    Unit spec = self.unit;
    InstanceView.Builder b = InstanceView.builder()
        .pod(pod.name())
        .unit(self.unit())
        .index(self.index())
        .instanceId(self.id())
        .hostname(self.name())
        .spec(spec, specVersion(spec))
        .initialized(self.initialized)
        .privateIps(List.of(self.privateAddress().getHostAddress()))
        .publicIps(self.publicAddress().map(a -> List.of(a.getHostAddress())).orElse(List.of()));
    Map<String, List<PeerInstance>> units = new LinkedHashMap<>();
    for (Unit u : pod.units()) {
      units.put(u.name(), new ArrayList<>());
    }
    for (DefaultInstance i : instances) {
      InstanceState st = i.state();
      if (st == InstanceState.FAILED || st == InstanceState.DESTROYED) {
        continue;
      }
      List<PeerInstance> peers = units.get(i.unit());
      if (peers == null) {
        continue; // its unit is being removed by a migration
      }
      peers.add(new PeerInstance(i.name(), i.index(), List.of(i.privateAddress().getHostAddress()),
          i.publicAddress().map(a -> List.of(a.getHostAddress())).orElse(List.of()), true));
    }
    units.forEach(b::unitInstances);
    return b.build();
  }

  /** Hands {@code i}'s metadata service its current view. */
  void refreshView(DefaultInstance i) {
    ImdsServer imds = i.imds();
    if (imds != null) {
      imds.update(view(i));
    }
  }

  /** Hands every running metadata service its current view (a failed peer drops out: the others reload). */
  void refreshViews() {
    for (DefaultInstance i : instances) {
      ImdsServer imds = i.imds();
      if (imds != null) {
        try {
          imds.update(view(i));
        } catch (RuntimeException e) {
          LOG.warn("pod {} instance {}: cannot update its view", pod.name(), i.name(), e);
        }
      }
    }
  }

  static String specVersion(Unit unit) {
    return DefaultPodRuntime.sha256(unit.toString()).substring(0, 16);
  }

  // ------------------------------------------------------------------------------------------ API

  @Override
  public Pod pod() {
    return pod;
  }

  @Override
  public List<Instance> instances() {
    return List.copyOf(instances);
  }

  @Override
  public Instance instance(String unit, int index) {
    for (DefaultInstance i : instances) {
      if (i.unit().equals(unit) && i.index() == index) {
        return i;
      }
    }
    throw new IllegalArgumentException("pod " + pod.name() + " has no instance " + unit + "-" + index);
  }

  List<DefaultInstance> instanceList() {
    return instances;
  }

  @Override
  public PodEvents events() {
    return feed;
  }

  @Override
  public void await(Wait condition, Duration timeout) {
    if (destroyed) {
      throw new IllegalStateException("pod " + pod.name() + " was destroyed");
    }
    Waiter.await(this, List.copyOf(instances), condition, timeout, this::isDestroyed, true);
  }

  @Override
  public boolean isReady() {
    return instances.stream().allMatch(i -> i.state() == InstanceState.READY);
  }

  @Override
  public void awaitReady(Duration timeout) {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    DefaultInstance failed = null;
    lock.lock();
    try {
      while (true) {
        if (destroyed) {
          throw new IllegalStateException("pod " + pod.name() + " was destroyed");
        }
        failed = instances.stream().filter(i -> i.state() == InstanceState.FAILED).findFirst().orElse(null);
        if (failed != null || isReady()) {
          break;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        changed.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PodsException("interrupted while waiting for pod " + pod.name() + " to get ready", e);
    } finally {
      lock.unlock();
    }
    if (failed != null) {
      Throwable cause = failed.failure().orElse(null);
      throw new PodsException("instance " + failed.name() + " of pod " + pod.name() + " failed: "
          + (cause == null ? "?" : cause.getMessage()) + tail(failed), cause);
    }
    if (isReady()) {
      return;
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    StringBuilder m = new StringBuilder("pod " + pod.name() + " not ready after " + elapsed.toMillis() + " ms:");
    for (DefaultInstance i : instances) {
      if (i.state() != InstanceState.READY) {
        m.append("\ninstance ").append(i.name()).append(" is ").append(i.state()).append(tail(i));
      }
    }
    throw new PhaseTimeoutException(Phase.INITIAL, elapsed, m.toString());
  }

  /** The longest guest line quoted in a message, in characters. */
  private static final int TAIL_LINE_CHARS = 500;

  static String tail(DefaultInstance i) {
    List<String> lines = i.recentOutput();
    String what = "output";
    if (lines.isEmpty()) {
      lines = i.consoleOutput().lines().toList();
      what = "console";
    }
    if (lines.isEmpty()) {
      return "; no output";
    }
    // guest text: escaped, so that it cannot move a terminal's cursor or pass for a line of pods' own
    List<String> t = lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()).stream()
        .map(l -> SafeText.outputLine(l, TAIL_LINE_CHARS)).toList();
    return "; last " + what + " lines:\n  " + String.join("\n  ", t);
  }

  // ------------------------------------------------------------------------------------------ migration

  @Override
  public void scale(String unit, int count) {
    Migrator.scale(this, unit, count);
  }

  @Override
  public MigrationPlan plan(Pod next) {
    DefaultPodRuntime.checkImages(s, next);
    return Migrator.plan(this, next);
  }

  /** Held by destroy and by every migration. */
  ReentrantLock changeLock() {
    return destroyLock;
  }

  boolean isDestroyed() {
    return destroyed;
  }

  long generation() {
    return generation;
  }

  /** Under {@link #changeLock()} only. */
  void bumpGeneration() {
    generation = generation + 1;
  }

  /** Under {@link #changeLock()} only. */
  void pod(Pod next) {
    pod = next;
  }

  /** Under {@link #changeLock()} only. */
  void instances(List<DefaultInstance> next) {
    instances = List.copyOf(next);
  }

  DefaultPodRuntime runtime() {
    return runtime;
  }

  RuntimeSettings settings() {
    return s;
  }

  IpAddressPool privatePool() {
    return privatePool;
  }

  @Nullable IpAddressPool publicPool() {
    return publicPool;
  }

  /**
   * Waits until {@code i} is {@link InstanceState#READY} or {@link InstanceState#FAILED}, the deployment is
   * destroyed, the runtime closed, or {@code deadline} (a {@link System#nanoTime()}) passed.
   *
   * @return the instance's state then
   */
  InstanceState awaitSettled(DefaultInstance i, long deadline) throws InterruptedException {
    lock.lock();
    try {
      while (true) {
        InstanceState st = i.state();
        if (st == InstanceState.READY || st == InstanceState.FAILED || destroyed || runtime.isClosed()) {
          return st;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return st;
        }
        // closing the runtime does not signal: look again at least every second
        changed.awaitNanos(Math.min(left, TimeUnit.SECONDS.toNanos(1)));
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void destroy() {
    // before the lock: a migration waiting for a recreation sees it, gives up and lets go of the lock
    destroyed = true;
    waitSignal.signal(); // waiters see the destruction at once
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    destroyLock.lock();
    try {
      runtime.saveState(this); // marked destroying: a runtime that starts after a crash from here on finishes it
      for (DefaultInstance i : instances) {
        settle(i);
      }
      List<Throwable> errors = new ArrayList<>();
      for (DefaultInstance i : instances) {
        teardown(i, errors);
      }
      if (errors.isEmpty()) {
        // addresses last: a retry after a failure above still knows them
        for (DefaultInstance i : instances) {
          step(errors, () -> privatePool.release(i.id()));
          if (publicPool != null) {
            step(errors, () -> publicPool.release(i.id()));
          }
        }
      }
      if (!errors.isEmpty()) {
        PodsException e = new PodsException("destroy pod " + pod.name() + ": " + errors.size()
            + " steps failed, first: " + errors.get(0).getMessage(), errors.get(0));
        errors.subList(1, errors.size()).forEach(e::addSuppressed);
        throw e;
      }
      instances.forEach(i -> i.transition(InstanceState.DESTROYED, null));
      runtime.forget(this);
      feed.close();
      LOG.info("pod {} destroyed", pod.name());
    } finally {
      destroyLock.unlock();
    }
  }

  /** Ends instance {@code i}'s creation task: cancels it when it has not started, else waits for it. */
  void settle(DefaultInstance i) {
    if (i.claimed.compareAndSet(false, true)) {
      i.creation.cancel(false); // never started: nothing to wait for
      return;
    }
    try {
      i.creation.join();
    } catch (RuntimeException e) {
      // the creation task records its own failure
    }
  }

  /**
   * Removes what instance {@code i} owns on the host, its addresses excepted: metadata service, domain, files and
   * network. Every step is tried; failures are added to {@code errors}.
   */
  void teardown(DefaultInstance i, List<Throwable> errors) {
    step(errors, () -> {
      ImdsServer imds = i.imds();
      if (imds != null) {
        imds.close();
        i.imds(null);
      }
    });
    step(errors, () -> s.hypervisor().undefine(i.domainName()));
    step(errors, () -> s.instanceFiles().delete(i.domainName()));
    step(errors, () -> s.networkDriver().delete(i.id()));
  }

  private static void step(List<Throwable> errors, Undo u) {
    try {
      u.run();
    } catch (Exception | Error e) {
      errors.add(e);
    }
  }

  @Override
  public void close() {
    destroy();
  }

  /** Runtime closed: stop listening and delivering, leave the VMs. */
  void detach() {
    for (DefaultInstance i : instances) {
      ImdsServer imds = i.imds();
      if (imds != null) {
        imds.close();
        i.imds(null);
      }
    }
    feed.close();
  }

  /** Whether {@link #destroy()} started. */
  boolean isDestroying() {
    return destroyed;
  }

  /** The record written to the state folder (see {@link DeploymentRecord}). */
  DeploymentRecord record() {
    List<DeploymentRecord.InstanceRecord> list = new ArrayList<>();
    for (DefaultInstance i : List.copyOf(instances)) {
      InstanceState st = i.state();
      list.add(new DeploymentRecord.InstanceRecord(i.unit(), i.index(), i.id(), i.domainName(), i.subnet.toString(),
          i.publicAddress().map(java.net.Inet4Address::getHostAddress).orElse(null), specVersion(i.unit), i.token,
          st, st == InstanceState.FAILED ? i.failure().map(Throwable::getMessage).orElse("?") : null));
    }
    return new DeploymentRecord(pod, s.owner(), destroyed, list);
  }
}
