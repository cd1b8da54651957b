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
import dev.pods.spi.DnsHost;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainNic;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorEvent;
import dev.pods.spi.InstanceFiles;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import dev.pods.spi.PodMembership;
import dev.pods.spi.RuntimeSettings;
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
  private final dev.pods.spi.PodEventFeed feed;
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
  private final FirewallSync firewalls;
  private final NodePorts nodePorts;
  private final DnsPublisher dns;
  /**
   * Serialises what changes the instances' network specs after they are built (firewall rules, resolver names): each
   * holder reads a spec, changes its own part and writes it back, so two holders must never interleave; and each
   * computes from the instances as they are then, so the last update is the latest state. The firewall sync's lock.
   */
  private final ReentrantLock netLock;
  /**
   * Held while a view is computed and handed to a metadata service: refreshes run on event threads, migrations and
   * builds at once, and one that computed from an older unit or instance list must not hand its view over after a
   * newer one (the last update a guest gets is always the latest state). Quick: no I/O under it.
   */
  private final ReentrantLock viewLock = new ReentrantLock();
  private final java.util.concurrent.atomic.AtomicBoolean networkSyncQueued =
      new java.util.concurrent.atomic.AtomicBoolean();
  /** A {@link #followMembership} task is queued and has not started: later changes share it. */
  private final java.util.concurrent.atomic.AtomicBoolean followQueued = new java.util.concurrent.atomic.AtomicBoolean();
  /** A {@link #followMembership} task is re-planning (at most one at a time). */
  private final java.util.concurrent.atomic.AtomicBoolean following = new java.util.concurrent.atomic.AtomicBoolean();
  /** A change came that the running re-plan has not planned yet. */
  private final java.util.concurrent.atomic.AtomicBoolean followAgain = new java.util.concurrent.atomic.AtomicBoolean();
  /** How many re-plans {@link #followMembership} made; read by tests. */
  final java.util.concurrent.atomic.AtomicInteger follows = new java.util.concurrent.atomic.AtomicInteger();

  DefaultDeployment(DefaultPodRuntime runtime, RuntimeSettings s, Pod pod, IpAddressPool privatePool,
      @Nullable IpAddressPool publicPool) {
    this.runtime = runtime;
    this.s = s;
    this.pod = pod;
    this.privatePool = privatePool;
    this.publicPool = publicPool;
    this.feed = new dev.pods.spi.PodEventFeed(s.clock());
    this.firewalls = new FirewallSync(this, s.networkDriver());
    this.netLock = firewalls.lock();
    this.nodePorts = new NodePorts(this, s);
    this.dns = new DnsPublisher(pod.name());
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
    boolean listed = PeerStates.listed(e.from()) != PeerStates.listed(e.to());
    if (listed || PeerStates.healthy(e.from()) != PeerStates.healthy(e.to())) {
      refreshImdsViews();
    }
    if (listed && !destroyed) {
      requestNetworkSync(runtime.executor()); // off this (possibly event) thread: it blocks on the network driver
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
    return st == InstanceState.READY || st == InstanceState.FAILED || st == InstanceState.STOPPED;
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
    build(i, Build.FRESH, null);
  }

  /** How much of an instance {@link #build(DefaultInstance, Build, String)} makes. */
  enum Build {
    /** Everything: network, files (a new root overlay and seed: the initial phase runs again), domain. */
    FRESH,
    /**
     * What a host reboot took (network, a defined domain) around files that are still there: the network is created
     * again with the same names and addresses, the domain defined again on the kept root overlay and seed (same
     * disk, token and agent configuration; a guest that finished its initial phase runs its reboot and reload
     * blocks, not its initial ones).
     */
    KEPT_FILES,
    /** Nothing: network, files and a defined domain are there. */
    START
  }

  /**
   * Builds (or finishes) instance {@code i}; every step is idempotent, so it also completes what a crashed
   * runtime left half done. {@code how} says which parts are made ({@link Build}); then its metadata service is
   * started and its domain started. {@code why}, when given, is the reason of its CREATING state. On failure
   * what it made is removed (with {@link Build#START}, everything of the instance; with {@link Build#KEPT_FILES},
   * all but the kept files) and it is marked FAILED.
   */
  private void build(DefaultInstance i, Build how, @Nullable String why) {
    long t0 = System.nanoTime();
    Deque<Undo> undo = new ArrayDeque<>();
    try {
      i.move(InstanceState.CREATING, null, why, null);
      Unit unit = i.unit;
      if (how == Build.START) {
        // what an earlier runtime built is undone the same way (last built, first removed)
        undo.push(() -> s.networkDriver().delete(i.id()));
        undo.push(() -> s.instanceFiles().delete(i.domainName()));
        undo.push(() -> s.hypervisor().undefine(i.domainName()));
      } else {
        if (how == Build.FRESH) {
          i.initialized = false;
        }
        Optional<String> refused = s.imagePolicy().refusal(unit.image());
        if (refused.isPresent()) {
          throw new PodsException("image '" + unit.image() + "' of unit " + unit.name()
              + " is refused by the host's image policy: " + refused.get());
        }
        BootImage image = s.images().resolve(unit.image());

        // a fresh instance's files (its seed ISO, its overlay) are written while its network is made: neither needs
        // the other, and both mostly wait for programs (ip, dnsmasq; genisoimage, qemu-img)
        java.util.concurrent.FutureTask<InstanceFiles.Prepared> filesTask = null;
        if (how == Build.FRESH) {
          InstanceFiles.Seed seed = new InstanceFiles.Seed(i.name(), AgentScript.bytes(),
              AgentConfig.forGuest(i.token).withPollWait(pollWait(unit)).render(), Map.of());
          filesTask = new java.util.concurrent.FutureTask<>(() -> s.instanceFiles().prepare(i.domainName(), seed,
              image.baseDisk(), image.baseDisk() == null ? 0 : unit.diskSizeGib() * GIB));
          startBeside(filesTask);
          undo.push(() -> s.instanceFiles().delete(i.domainName()));
        } // kept files are not this build's: they stay when it fails
        undo.push(() -> {
          firewalls.removing(i);
          s.networkDriver().delete(i.id());
        });
        NetworkInstance net;
        try {
          net = createNetwork(i);
        } finally {
          if (filesTask != null) {
            filesTask.run(); // runs it here unless the executor started it; then waits below
            awaitQuietly(filesTask); // before any undo deletes the files
          }
        }
        FaultPoint.reached("network");

        InstanceFiles.Prepared files = filesTask != null ? joined(filesTask) : keptFiles(i, image);
        s.hypervisor().define(domainSpec(i, image, net, files));
        undo.push(() -> s.hypervisor().undefine(i.domainName()));
        FaultPoint.reached("define");
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

  /**
   * Hands {@code task} to the runtime's executor, so that it runs beside the calling thread's work; the caller runs
   * it itself ({@link java.util.concurrent.FutureTask#run()} does nothing once started) when the executor has not
   * started it by then (a queued or saturated executor never holds the caller up), or refused it.
   */
  private void startBeside(java.util.concurrent.FutureTask<?> task) {
    try {
      runtime.executor().execute(task);
    } catch (RuntimeException e) {
      LOG.debug("pod {}: a task runs on the calling thread ({})", pod.name(), e.toString());
    }
  }

  /** Waits until {@code task} is done, whatever its outcome; keeps the interrupt flag. */
  private static void awaitQuietly(java.util.concurrent.FutureTask<?> task) {
    boolean interrupted = false;
    while (!task.isDone()) {
      try {
        task.get();
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
        break; // done
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The result of a done {@code task}, or what it threw. */
  private static <T> T joined(java.util.concurrent.FutureTask<T> task) {
    try {
      return task.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PodsException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException r) {
        throw r;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new PodsException(String.valueOf(c), c);
    }
  }

  /**
   * Creates {@code i}'s network (idempotent: the same names and addresses as before) with the pod's current DNS
   * names, and records its firewall. Blocks on the network driver.
   */
  private NetworkInstance createNetwork(DefaultInstance i) {
    firewalls.building(i);
    NetworkSpec netSpec = networkSpec(i);
    NetworkInstance net = s.networkDriver().create(netSpec);
    netLock.lock();
    try {
      List<DnsHost> hosts = dnsHosts();
      if (!net.spec().dnsHosts().equals(hosts)) {
        net = s.networkDriver().update(net.spec().withDnsHosts(hosts)); // the pod changed meanwhile
      }
      firewalls.created(i, netSpec.firewall());
    } finally {
      netLock.unlock();
    }
    return net;
  }

  /**
   * For an adopted instance that stays STOPPED (stopped by {@link DefaultInstance#stop()}, or not restarted by its
   * policy) whose network or domain definition a host reboot took: builds its network again (same names and
   * addresses) and defines its domain again on its kept files, without starting it, so that a later
   * {@code start()} boots it as it was. Blocks on the network driver and the hypervisor; throws what failed (its
   * files are kept).
   */
  void rebuildStopped(DefaultInstance i) {
    BootImage image = s.images().resolve(i.unit.image());
    InstanceFiles.Prepared files = keptFiles(i, image);
    s.hypervisor().define(domainSpec(i, image, createNetwork(i), files));
  }

  /** The files an earlier runtime prepared for {@code i}, complete for {@code image}; else a {@link PodsException}. */
  private InstanceFiles.Prepared keptFiles(DefaultInstance i, BootImage image) {
    InstanceFiles.Prepared files = s.instanceFiles().find(i.domainName()).orElseThrow(() -> new PodsException(
        "instance " + i.name() + ": its files (seed) are gone; it cannot be started on them"));
    if (image.baseDisk() != null && files.disk() == null) {
      throw new PodsException("instance " + i.name() + ": its root disk is gone; it cannot be started on it");
    }
    return files;
  }

  /** Whether {@code i}'s files, as {@link #build} with {@link Build#KEPT_FILES} needs them, are there. */
  boolean filesKept(DefaultInstance i) {
    Optional<InstanceFiles.Prepared> files = s.instanceFiles().find(i.domainName());
    if (files.isEmpty()) {
      return false;
    }
    if (files.get().disk() != null) {
      return true;
    }
    try {
      return s.images().resolve(i.unit.image()).baseDisk() == null;
    } catch (RuntimeException e) {
      return false; // its image cannot be resolved now: a rebuild reports why
    }
  }

  /** The domain of {@code i} on {@code files}, booting {@code image}, with its NIC on {@code net}'s tap. */
  private DomainSpec domainSpec(DefaultInstance i, BootImage image, NetworkInstance net,
      InstanceFiles.Prepared files) {
    Unit unit = i.unit;
    DomainSpec.Builder spec = DomainSpec.builder(i.domainName())
        .metadata(new DomainMetadata(s.owner(), pod.name(), unit.name(), i.index(), specVersion(unit)))
        .vcpus(unit.processors())
        .memoryMib(unit.memoryMib())
        .boot(image.kernel() != null ? DomainBoot.kernel(image.kernel(), image.initrd(), image.cmdline())
            : DomainBoot.disk())
        .seedIso(files.seedIso())
        .serialLog(files.consoleLog())
        .nic(DomainNic.tap(net.tap(), net.spec().mac()));
    if (vnc(unit)) {
      spec.vncListen("127.0.0.1").vncPassword(VncPasswords.next());
    }
    if (files.disk() != null) {
      spec.disk(DomainDisk.qcow2(files.disk()));
    }
    attachDisks(i, spec); // after the root disk (vda): the guest finds them by serial number
    return spec.build();
  }

  /**
   * Adds instance {@code i}'s named persistent disks and host folders to its domain: for each disk mount, the disk of
   * the instance's index, created blank on first use (it is never removed with the instance); for each host_path
   * mount, the folder shared with virtiofs, read-only on the host side unless the mount says {@code readOnly: false}.
   */
  private void attachDisks(DefaultInstance i, DomainSpec.Builder spec) {
    List<dev.pods.spec.Mount> mounts = i.unit.mounts();
    for (int k = 0; k < mounts.size(); k++) {
      dev.pods.spec.Mount m = mounts.get(k);
      if (m.type() == dev.pods.spec.Mount.Type.HOST_PATH) {
        spec.filesystem(new dev.pods.spi.DomainFilesystem(HostFolders.resolve(m), ImdsServer.folderTag(k), m.readOnly()));
        continue;
      }
      String name = DiskUse.disk(m, i.index());
      dev.pods.spi.DiskStore store = s.disks();
      if (name == null || store == null) {
        throw new PodsException("instance " + i.name() + ": no disk for mounts[" + k + "] (" + m.path() + ")");
      }
      dev.pods.spi.DiskStore.Volume v = store.ensure(name, dev.pods.spi.DiskStore.DEFAULT_SIZE_BYTES);
      spec.disk(new DomainDisk(v.path(), v.format(), false, ImdsServer.diskSerial(k)));
    }
  }

  /**
   * How long the agent's long polls of {@code unit}'s instances last: a third of the liveness timeout, 1 to 20 s, so
   * that a live guest makes contact at least three times per timeout.
   */
  static Duration pollWait(Unit unit) {
    long s = Math.max(1, Math.min(20, unit.livenessTimeout().toSeconds() / 3));
    return Duration.ofSeconds(s);
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
    refreshView(i); // views refreshed since view(i) above missed this listener
    if (vnc(i.unit) && i.publicAddress().isPresent()) {
      startPublicConsole(i);
    }
    return imds;
  }

  static boolean vnc(Unit unit) {
    return Boolean.TRUE.equals(unit.options().vnc());
  }

  /**
   * Listens on port {@value dev.pods.VncConsole#PUBLIC_PORT} of {@code i}'s public address (inside its namespace,
   * where the port is kept back from the VM) and forwards every client to the domain's display, as it is when the
   * client comes (a recreated domain's display has another port).
   */
  private void startPublicConsole(DefaultInstance i) {
    var at = new java.net.InetSocketAddress(i.publicAddress().orElseThrow(), dev.pods.VncConsole.PUBLIC_PORT);
    java.net.ServerSocket server = s.networkDriver().bindInNamespace(i.id(), at);
    i.publicConsole(PortForwarder.serve(i.name() + ":vnc", server, () -> {
      java.net.InetSocketAddress display = s.hypervisor().vncDisplay(i.domainName())
          .orElseThrow(() -> new java.io.IOException("instance " + i.name() + " has no running display"));
      java.net.Socket socket = new java.net.Socket();
      try {
        socket.connect(display, 5000);
      } catch (java.io.IOException e) {
        socket.close();
        throw e;
      }
      return socket;
    }));
  }

  /** What adoption leaves to {@link #build}: how much, and why (the reason of the instance's CREATING state). */
  record Todo(Build how, String why) { }

  /**
   * Schedules {@link #build} for instances a new runtime adopted with parts missing, each as its {@link Todo} says.
   */
  void finishAdopted(Map<DefaultInstance, Todo> todo, Executor executor) {
    todo.forEach((i, what) -> {
      try {
        i.creation = CompletableFuture.runAsync(() -> {
          if (i.claimed.compareAndSet(false, true)) {
            build(i, what.how(), what.why());
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
    if (st != InstanceState.BOOTING && st != InstanceState.INITIALIZING && st != InstanceState.READY
        && st != InstanceState.UNHEALTHY && !(st == InstanceState.STOPPED && !i.held())) {
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
        build(i, Build.FRESH, null);
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

  /**
   * Compares {@code i}'s domain with its state: a domain that is gone is recreated ({@link #checkVanished}); one
   * that is no longer running while the instance was up makes it STOPPED, saying what happened ({@code event}'s
   * detail when an event told, else the state found) and planning a restart as its unit's policy says. Without an
   * event (a periodic reconcile) a stop counts only once it is still unexplained {@link #EVENT_GRACE} after it was
   * first found, so that the event, which says why, wins the race whenever it comes; after a reconnection
   * ({@code event} RECONNECTED) nothing more will come, and it counts at once. Ignored
   * while the runtime itself stops, starts or restarts the domain, and when {@link #checkVanished} would ignore it.
   * Blocks on the hypervisor; never call it on an event thread.
   */
  void checkDomain(DefaultInstance i, @Nullable HypervisorEvent event, Executor executor) {
    if (destroyed || runtime.isClosed() || !instances.contains(i) || generation % 2 == 1 || i.busy.get()) {
      return;
    }
    InstanceState st = i.state();
    if (st != InstanceState.BOOTING && st != InstanceState.INITIALIZING && st != InstanceState.READY
        && st != InstanceState.UNHEALTHY && st != InstanceState.STOPPED) {
      return;
    }
    DomainState ds = s.hypervisor().state(i.domainName());
    if (ds == DomainState.MISSING) {
      checkVanished(i, executor);
      return;
    }
    if (ds.isActive() || st == InstanceState.STOPPED || i.busy.get()) {
      i.downUnexplainedSince = null;
      return;
    }
    java.time.Instant now = clock().instant();
    java.time.Instant found = now;
    if (event == null) {
      // found by a reconcile: the lifecycle event that says why may be on its way (kill -9 of QEMU under load);
      // only a stop no event explained within the grace is taken as found
      java.time.Instant since = i.downUnexplainedSince;
      if (since == null) {
        i.downUnexplainedSince = now;
        return;
      }
      if (now.isBefore(since.plus(EVENT_GRACE))) {
        return;
      }
      found = since;
    }
    i.downUnexplainedSince = null;
    Stop how = Stop.of(event, ds, found);
    if (i.domainStopped(how.what(), how.failure())) {
      LOG.warn("pod {} instance {}: {}", pod.name(), i.name(), i.describe());
    }
  }

  /**
   * Brings {@code i}'s network back to what it was when a part of it went behind the runtime's back, as far as the
   * driver's cheap {@link dev.pods.spi.NetworkDriver#probe} sees (an intact network costs nothing more): the driver's
   * idempotent create rebuilds a deleted namespace or lost addresses with the same names and addresses and starts a
   * dead DHCP server again (its leases are kept); when its namespace was gone, the metadata service (which listened
   * in the old one) is started again in the new one with the same token, and a running domain is stopped and
   * started (its NIC's tap was rebuilt too; the guest's reboot and reload blocks run, its agent reconnects).
   * Ignored while the instance is not up or stopped, is being built, removed or restarted, and while a destroy or
   * a migration runs. Blocks on the network driver; never call it on an event thread.
   */
  void checkNetwork(DefaultInstance i) {
    if (destroyed || runtime.isClosed() || !instances.contains(i) || generation % 2 == 1 || i.leaving
        || i.busy.get() || i.healing.get()) {
      return;
    }
    InstanceState st = i.state();
    ImdsServer imds = i.imds();
    if (imds == null || (st != InstanceState.BOOTING && st != InstanceState.INITIALIZING
        && st != InstanceState.READY && st != InstanceState.UNHEALTHY && st != InstanceState.STOPPED)) {
      return;
    }
    // the driver's cheap probe first: the repair below (a create, which starts processes) only when it finds damage
    List<String> defects;
    try {
      defects = s.networkDriver().probe(i.id());
    } catch (RuntimeException e) {
      defects = List.of("the probe failed: " + e.getMessage());
    }
    if (defects.isEmpty()) {
      return;
    }
    if (!destroyLock.tryLock()) {
      return; // a destroy or migration decides the instance's fate
    }
    try {
      LOG.debug("pod {} instance {}: its network probe says {}; repairing it", pod.name(), i.name(),
          String.join("; ", defects));
      boolean namespaceLost = !namespaceThere(i);
      netLock.lock();
      try {
        var found = s.networkDriver().find(i.id());
        if (found.isPresent()) {
          s.networkDriver().create(found.get().spec());
        } else {
          LOG.warn("pod {} instance {}: its network is gone; building it again", pod.name(), i.name());
          NetworkSpec spec = networkSpec(i);
          s.networkDriver().create(spec);
          firewalls.created(i, spec.firewall());
        }
      } finally {
        netLock.unlock();
      }
      if (namespaceLost) {
        LOG.warn("pod {} instance {}: its metadata service went with its namespace; starting it again", pod.name(),
            i.name());
        startImds(i); // replaces it in the new namespace first: no moment without one for exec and waits
        imds.close(); // the old one listened in the deleted namespace
        i.reattach("its network namespace was deleted and built again at "
            + DefaultInstance.hms(clock().instant()) + "; its domain was started again to attach to it");
      }
    } catch (RuntimeException e) {
      LOG.warn("pod {} instance {}: cannot repair its network", pod.name(), i.name(), e);
    } finally {
      destroyLock.unlock();
    }
  }

  /** Whether {@code i}'s network namespace is there (a task runs in it). */
  private boolean namespaceThere(DefaultInstance i) {
    try {
      return s.networkDriver().callInNamespace(i.id(), () -> Boolean.TRUE);
    } catch (dev.pods.NetworkException e) {
      return false;
    }
  }

  /**
   * How long a reconcile that finds a domain stopped without an event waits for the event before it takes the stop
   * as found: events come within milliseconds normally, seconds under heavy load; the reconcile is for events lost
   * while the connection was down.
   */
  static final Duration EVENT_GRACE = Duration.ofSeconds(3);

  /** What a stop was, in words, and whether it counts as a failure for {@link dev.pods.RestartPolicy#ON_FAILURE}. */
  record Stop(String what, boolean failure) {
    static Stop of(@Nullable HypervisorEvent e, DomainState found, java.time.Instant now) {
      if (e != null && e.type() == HypervisorEvent.Type.STOPPED) {
        String at = " at " + DefaultInstance.hms(e.at());
        return switch (e.detail()) {
          case "SHUTDOWN" -> new Stop("the guest powered itself off" + at, false);
          case "DESTROYED" -> new Stop("its domain was destroyed" + at, true);
          case "CRASHED" -> new Stop("the guest crashed" + at, true);
          case "FAILED" -> new Stop("its emulator process died" + at, true);
          default -> new Stop("its domain stopped" + at + (e.detail().isEmpty() ? "" : " (" + e.detail() + ")"),
              true);
        };
      }
      if (e != null && e.type() == HypervisorEvent.Type.CRASHED) {
        return new Stop("the guest crashed at " + DefaultInstance.hms(e.at()), true);
      }
      return new Stop("its domain was found " + (found == DomainState.CRASHED ? "crashed" : "shut off") + " at "
          + DefaultInstance.hms(now), true);
    }
  }

  /**
   * The periodic watch, at {@code now}: liveness of every instance, restarts that are due (on {@code executor}),
   * and with {@code reconcile} a comparison of every instance with its domain ({@link #checkDomain}), for events
   * missed. Blocks on the hypervisor when reconciling.
   */
  void watch(java.time.Instant now, boolean reconcile, Executor executor) {
    if (destroyed || runtime.isClosed() || generation % 2 == 1) {
      return;
    }
    for (DefaultInstance i : instances) {
      if (reconcile) {
        checkDomain(i, null, executor);
        if (i.imds() != null && i.repairing.compareAndSet(false, true)) {
          try {
            executor.execute(() -> {
              try {
                checkNetwork(i);
              } finally {
                i.repairing.set(false);
              }
            });
          } catch (RuntimeException e) {
            i.repairing.set(false);
            LOG.warn("pod {} instance {}: cannot schedule a check of its network", pod.name(), i.name(), e);
          }
        }
      }
      i.checkHealth(now, executor);
      if (i.state() == InstanceState.STOPPED && i.status().restartAt() != null
          && !now.isBefore(i.status().restartAt()) && i.busy.compareAndSet(false, true)) {
        try {
          executor.execute(() -> {
            i.busy.set(false);
            if (!destroyed && !runtime.isClosed() && generation % 2 == 0 && destroyLock.tryLock()) {
              try {
                i.restartIfDue(clock().instant());
              } finally {
                destroyLock.unlock();
              }
            }
          });
        } catch (RuntimeException e) {
          i.busy.set(false);
          LOG.warn("pod {} instance {}: cannot schedule its restart", pod.name(), i.name(), e);
        }
      }
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
        .keptBackPort(vnc(i.unit) && uplink != null ? new int[] {dev.pods.VncConsole.PUBLIC_PORT} : new int[0])
        .firewall(FirewallRules.of(i.unit, peers()))
        .resolver(true)
        .dnsHosts(dnsHosts())
        .build();
  }

  /** The addresses of the instances that count for firewall rules naming their unit (see {@link PeerStates}). */
  List<FirewallRules.Peer> peers() {
    List<FirewallRules.Peer> out = new ArrayList<>();
    for (DefaultInstance i : instances) {
      if (PeerStates.listed(i.state()) && !i.leaving) {
        out.add(new FirewallRules.Peer(i.unit(), i.privateAddress(), i.publicAddress().orElse(null)));
      }
    }
    for (PodMembership.RemotePeer r : remotePeers()) {
      out.add(new FirewallRules.Peer(r.unit(), r.privateAddress(), r.publicAddress()));
    }
    return out;
  }

  /**
   * The pod's instances that other hosts run and that count as peers now ({@link PeerStates#listed}), as the
   * runtime's membership tells them; empty without a membership. Answers from memory.
   */
  List<PodMembership.RemotePeer> remotePeers() {
    PodMembership m = s.membership();
    if (m == null) {
      return List.of();
    }
    List<PodMembership.RemotePeer> out = new ArrayList<>();
    try {
      for (PodMembership.RemotePeer r : m.remotePeers(pod.name())) {
        if (PeerStates.listed(r.state())) {
          out.add(r);
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("pod {}: the membership cannot tell the remote peers", pod.name(), e);
    }
    return out;
  }

  /**
   * The membership says this pod may have changed: on the runtime's executor, hands every view that names peers its
   * remote peers as they are now ({@link #refreshViews}, at once, even while an apply holds the change lock), then
   * makes the deployment run what its runtime hosts now ({@link Migrator#follow}: instances newly hosted are
   * created, those no longer hosted removed, under the change lock, so serialised with scale, apply and destroy).
   * Changes that come while a task is queued share it, and one re-plan runs at a time (changes that come meanwhile
   * make it plan once more), so a burst costs a few re-plans and holds at most one executor thread waiting for the
   * change lock. Never blocks.
   */
  void followMembership() {
    if (destroyed || runtime.isClosed() || !followQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      runtime.executor().execute(() -> {
        followQueued.set(false);
        if (destroyed || runtime.isClosed()) {
          return;
        }
        refreshViews();
        followAgain.set(true);
        if (!following.compareAndSet(false, true)) {
          return; // the running re-plan sees followAgain and plans once more
        }
        try {
          while (followAgain.getAndSet(false) && !destroyed && !runtime.isClosed()) {
            follows.incrementAndGet();
            try {
              Migrator.follow(this);
            } catch (RuntimeException e) {
              LOG.warn("pod {}: cannot follow the membership's change (the next change tries again)", pod.name(), e);
            }
          }
        } finally {
          following.set(false);
        }
        if (followAgain.get()) {
          followMembership(); // set after the loop looked and before it let go: not lost
        }
      });
    } catch (RuntimeException e) {
      followQueued.set(false);
      LOG.warn("pod {}: cannot schedule following the membership's change", pod.name(), e);
    }
  }

  /** The deployment's node-port listeners. */
  NodePorts nodePorts() {
    return nodePorts;
  }

  /** Keeps the instances' network firewalls in step. */
  FirewallSync firewalls() {
    return firewalls;
  }

  /** The names and addresses the pod's DNS records publish now (live instances: not failed, not destroyed). */
  List<DnsRecords.Name> dnsNames() {
    List<DnsRecords.Live> live = new ArrayList<>();
    for (DefaultInstance i : instances) {
      InstanceState st = i.state();
      if (PeerStates.listed(st) && !i.leaving) {
        live.add(new DnsRecords.Live(i.unit(), i.index(), i.privateAddress(), i.publicAddress().orElse(null)));
      }
    }
    for (PodMembership.RemotePeer r : remotePeers()) {
      if (live.stream().noneMatch(l -> l.unit().equals(r.unit()) && l.index() == r.index())) {
        live.add(new DnsRecords.Live(r.unit(), r.index(), r.privateAddress(), r.publicAddress()));
      }
    }
    return DnsRecords.names(pod, live, s.domains());
  }

  private List<DnsHost> dnsHosts() {
    return DnsRecords.hosts(dnsNames());
  }

  /**
   * Brings the pod's DNS names up to date: every instance's resolver whose names differ gets the new ones (its
   * network is updated in place: DHCP and the guest are untouched; an instance whose network is not built yet
   * gets them when it is), and the registered providers get the names that changed. Blocks on the network driver
   * and the providers; failures are logged (the next refresh tries again).
   */
  void refreshDns() {
    netLock.lock();
    try {
      refreshDnsLocked();
    } finally {
      netLock.unlock();
    }
  }

  private void refreshDnsLocked() {
    List<DnsRecords.Name> names = dnsNames();
    List<DnsHost> hosts = DnsRecords.hosts(names);
    for (DefaultInstance i : instances) {
      InstanceState st = i.state();
      if (st == InstanceState.FAILED || st == InstanceState.DESTROYED || st == InstanceState.PENDING) {
        continue;
      }
      try {
        var net = s.networkDriver().find(i.id());
        if (net.isPresent() && !net.get().spec().dnsHosts().equals(hosts)) {
          s.networkDriver().update(net.get().spec().withDnsHosts(hosts));
        }
      } catch (RuntimeException e) {
        LOG.warn("pod {} instance {}: cannot update the names its resolver answers", pod.name(), i.name(), e);
      }
    }
    dns.publish(names);
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
      if (!PeerStates.listed(st)) {
        continue;
      }
      List<PeerInstance> peers = units.get(i.unit());
      if (peers == null) {
        continue; // its unit is being removed by a migration
      }
      peers.add(new PeerInstance(i.name(), i.index(), List.of(i.privateAddress().getHostAddress()),
          i.publicAddress().map(a -> List.of(a.getHostAddress())).orElse(List.of()), PeerStates.healthy(st)));
    }
    List<PodMembership.RemotePeer> remote = remotePeers();
    if (!remote.isEmpty()) {
      for (PodMembership.RemotePeer r : remote) {
        List<PeerInstance> peers = units.get(r.unit());
        if (peers == null || peers.stream().anyMatch(p -> p.name().equals(r.name()))) {
          continue; // not a unit of the pod as this runtime has it, or still running here until it is removed
        }
        peers.add(new PeerInstance(r.name(), r.index(), List.of(r.privateAddress().getHostAddress()),
            r.publicAddress() == null ? List.of() : List.of(r.publicAddress().getHostAddress()),
            PeerStates.healthy(r.state())));
      }
      units.values().forEach(l -> l.sort(java.util.Comparator.comparingInt(PeerInstance::index)));
    }
    units.forEach(b::unitInstances);
    for (dev.pods.spec.Reference r : spec.secrets()) {
      // a secret removed from the store since the deploy: declared, but without fields
      b.secret(r.name(), s.secrets().get(r.name()).orElse(Map.of()));
    }
    return b.build();
  }

  /** Publishes the pod's names through the registered providers (blocks on them; failures are logged). */
  void publishDns() {
    dns.publish(dnsNames());
  }

  /** Hands {@code i}'s metadata service its current view. */
  void refreshView(DefaultInstance i) {
    viewLock.lock();
    try {
      ImdsServer imds = i.imds();
      if (imds != null) {
        imds.update(view(i));
      }
    } finally {
      viewLock.unlock();
    }
  }

  /**
   * Hands every running metadata service its current view (a failed peer drops out: the others reload), brings
   * every instance's firewall in step with the instances its rules name, and the DNS names up to date
   * ({@link #refreshDns()}). Blocks on the network driver.
   */
  void refreshViews() {
    refreshImdsViews();
    firewalls.sync();
    refreshDns();
  }

  /**
   * Runs the network part of {@link #refreshViews} (firewall rules, then DNS names) on {@code executor}; requests made
   * while one is queued share it. Never blocks.
   */
  void requestNetworkSync(Executor executor) {
    if (!networkSyncQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(() -> {
        networkSyncQueued.set(false);
        if (!destroyed) {
          firewalls.sync();
          refreshDns();
        }
      });
    } catch (RuntimeException e) {
      networkSyncQueued.set(false);
      LOG.warn("pod {}: cannot schedule a firewall and DNS update", pod.name(), e);
    }
  }

  /** Hands every running metadata service its current view; quick (no I/O). */
  void refreshImdsViews() {
    viewLock.lock();
    try {
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
    } finally {
      viewLock.unlock();
    }
  }

  static String specVersion(Unit unit) {
    return dev.pods.spi.PodDocuments.unitVersion(unit);
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
        failed = instances.stream().filter(i -> i.state() == InstanceState.FAILED
            || (i.state() == InstanceState.STOPPED && i.status().restartAt() == null)).findFirst().orElse(null);
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
    if (failed != null && failed.state() == InstanceState.STOPPED) {
      throw new PodsException("pod " + pod.name() + " cannot get ready: " + failed.describe());
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
        m.append("\n").append(i.describe()).append(tail(i));
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
      nodePorts.close();
      runtime.saveState(this); // marked destroying: a runtime that starts after a crash from here on finishes it
      for (DefaultInstance i : instances) {
        settle(i);
      }
      List<Throwable> errors = new ArrayList<>();
      step(errors, dns::withdraw);
      for (DefaultInstance i : instances) {
        teardown(i, errors);
      }
      if (errors.isEmpty()) {
        // addresses last: a retry after a failure above still knows them
        for (DefaultInstance i : instances) {
          if (runtime.releasesPrivateAddresses()) {
            step(errors, () -> privatePool.release(i.id()));
          }
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
    firewalls.removing(i);
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
    nodePorts.close();
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
          st, st == InstanceState.FAILED ? i.failure().map(Throwable::getMessage).orElse("?")
              : st == InstanceState.STOPPED ? i.status().reason() : null,
          st == InstanceState.STOPPED && i.held(), i.initialized));
    }
    return new DeploymentRecord(pod, s.owner(), destroyed, list);
  }
}
