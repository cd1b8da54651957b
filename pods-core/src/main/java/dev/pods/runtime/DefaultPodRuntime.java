package dev.pods.runtime;

import dev.pods.spi.RuntimeSettings;
import dev.pods.spi.StateStore;
import dev.pods.ConflictException;
import dev.pods.Deployment;
import dev.pods.InstanceState;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.imds.ImdsServer;
import dev.pods.spi.Cidr;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorEvent;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.PodMembership;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime behind {@link PodRuntime#builder()}. Keeps one {@link DeploymentRecord} per deployment in its
 * state folder ({@link FileStateStore}, written before anything is built and at every change adoption depends on);
 * on start it adopts what those records describe and removes what its owner has but no record wants
 * ({@link Adoption}); while it runs, it recreates instances whose domain vanished and marks STOPPED those whose
 * domain stopped behind its back (hypervisor events, and a reconcile every {@link #RECONCILE_EVERY} watch periods),
 * restarts them as their unit's restart policy says, and marks UNHEALTHY the READY instances whose guest stopped
 * contacting its metadata service (its watcher thread, {@code pods-watch-N}).
 */
public final class DefaultPodRuntime implements PodRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultPodRuntime.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final RuntimeSettings s;
  private final @Nullable ExecutorService ownExecutor;
  private final java.util.concurrent.Executor executor;
  private final StateStore store;
  /** Serialises record writes with {@link #forget}, so a late write never resurrects a removed record. */
  private final ReentrantLock stateLock = new ReentrantLock();
  private final FileChannel lockChannel;
  /** Writes records after state changes ({@link #save}); drained by {@link #close()}. */
  private final ExecutorService recordWriter = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pods-state-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  });
  private final Map<String, DefaultDeployment> deployments = new LinkedHashMap<>();
  private volatile Hypervisor.@Nullable Subscription events;
  private volatile dev.pods.spi.SecretStore.@Nullable Registration secretEvents;
  /** Closing it stops the membership's calls ({@link #onMembershipChanged}); null without a membership. */
  private volatile @Nullable AutoCloseable membershipEvents;
  private volatile boolean closed;
  private final RuntimeDisks disks;
  /** Runs {@link #tick} every {@link #WATCH_PERIOD}; made by {@link #start}. */
  private volatile java.util.concurrent.@Nullable ScheduledExecutorService watcher;
  private final AtomicInteger ticks = new AtomicInteger();
  /** How often liveness and due restarts are looked at. */
  static final java.time.Duration WATCH_PERIOD = java.time.Duration.ofSeconds(1);
  /** Every how many watch periods the domains' real states are compared with the instances' (for lost events). */
  static final int RECONCILE_EVERY = 5;

  private DefaultPodRuntime(RuntimeSettings s, StateStore store, FileChannel lockChannel) {
    this.s = s;
    this.store = store;
    this.lockChannel = lockChannel;
    this.disks = new RuntimeDisks(this, s.disks());
    if (s.executor() == null) {
      ownExecutor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pods-runtime-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
      executor = ownExecutor;
    } else {
      ownExecutor = null;
      executor = s.executor();
    }
  }

  /**
   * Creates the state folder and takes its lock (see {@link #lock}), opens its records, adopts the deployments
   * recorded there (see {@link Adoption}: blocks while it removes leftovers and starts the metadata services of
   * running instances; what must be rebuilt is scheduled on the executor) and subscribes to hypervisor events for
   * self-healing.
   *
   * @throws dev.pods.ConflictException when another runtime holds the state folder
   * @throws PodsException when the state folder cannot be created or opened
   */
  public static PodRuntime start(RuntimeSettings s) {
    try {
      Files.createDirectories(s.stateDir());
    } catch (IOException e) {
      throw new PodsException("cannot create the state folder " + s.stateDir(), e);
    }
    FileChannel lock = lock(s.stateDir()); // before the records are read: only the holder adopts or removes
    DefaultPodRuntime rt;
    try {
      StateStore custom = s.stateStore();
      StateStore store = custom != null ? custom : FileStateStore.open(s.stateDir().resolve("deployments"));
      rt = new DefaultPodRuntime(s, store, lock);
    } catch (RuntimeException | Error e) {
      try {
        lock.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    try {
      Adoption.run(rt, s);
      rt.events = s.hypervisor().subscribe(rt::onHypervisorEvent);
      rt.secretEvents = s.secrets().onChange(rt::onSecretChanged);
      PodMembership m = s.membership();
      if (m != null) {
        rt.membershipEvents = m.listen(rt::onMembershipChanged);
        // what changed before the listener was registered (while no runtime ran, or during the adoption): the
        // adopted deployments follow the membership as it is now (those no longer hosted here are removed)
        for (Deployment d : rt.deployments()) {
          ((DefaultDeployment) d).followMembership();
        }
      }
      java.util.concurrent.ScheduledExecutorService w = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pods-watch-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
      rt.watcher = w;
      w.scheduleWithFixedDelay(() -> {
        try {
          rt.tick(rt.ticks.incrementAndGet() % RECONCILE_EVERY == 0);
        } catch (RuntimeException e) {
          LOG.warn("runtime watch failed", e);
        }
      }, WATCH_PERIOD.toMillis(), WATCH_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RuntimeException | Error e) {
      rt.close();
      throw e;
    }
    return rt;
  }

  /**
   * Takes {@code <state>/runtime.lock} (an advisory lock the kernel drops when the process dies, so a crashed runtime
   * never blocks the next one) and writes this process's pid into it.
   */
  static FileChannel lock(Path stateDir) {
    Path f = stateDir.resolve("runtime.lock");
    FileChannel ch;
    try {
      ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new PodsException("cannot open the state folder's lock " + f, e);
    }
    try {
      java.nio.channels.FileLock l;
      try {
        l = ch.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException e) {
        throw new ConflictException("the state folder " + stateDir + " is used by another runtime (in this process, "
            + ProcessHandle.current().pid() + "); close it first or use another state folder");
      }
      if (l == null) {
        String holder = Files.readString(f).strip();
        throw new ConflictException("the state folder " + stateDir + " is used by another runtime"
            + (holder.isEmpty() ? "" : " (process " + holder + ")") + "; close it first or use another state folder");
      }
      ch.truncate(0);
      ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      ch.force(false);
      return ch;
    } catch (IOException | RuntimeException e) {
      try {
        ch.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new PodsException("cannot lock the state folder " + stateDir, e);
    }
  }

  boolean isClosed() {
    return closed;
  }

  StateStore store() {
    return store;
  }

  java.util.concurrent.Executor executor() {
    return executor;
  }

  @Override
  public String owner() {
    return s.owner();
  }

  /**
   * Whether this runtime runs instance {@code index} of unit {@code unit} of pod {@code pod}: every one without a
   * membership, else those its {@link PodMembership#hosts} says.
   */
  boolean hosts(String pod, String unit, int index) {
    PodMembership m = s.membership();
    return m == null || m.hosts(pod, unit + "-" + index);
  }

  /**
   * Whether this runtime releases the private addresses of the instances it removes: not with a membership, whose
   * hosts share the private pool and keep an instance's address when it moves (the cluster releases it once no host
   * runs it).
   */
  boolean releasesPrivateAddresses() {
    return s.membership() == null;
  }

  /** The private address pool (one /30 per instance). */
  IpAddressPool privatePool() {
    return s.networkDriver().pool(IpPoolSpec.subnets(
        "priv-" + slug(s.privateRange().toString(), 30), s.privateRange(), 30));
  }

  /** The public address pool, when there is a public network. */
  @Nullable IpAddressPool publicPool() {
    return s.publicNetwork() == null ? null : s.networkDriver().pool(IpPoolSpec.addresses(
        "pub-" + slug(s.publicNetwork().range().toString(), 30), s.publicNetwork().range(),
        s.publicNetwork().gateway()));
  }

  /** Refuses a pod with an image the runtime's image policy refuses, before anything is recorded or built. */
  static void checkImages(RuntimeSettings s, Pod pod) {
    List<dev.pods.Problem> problems = s.imagePolicy().problems(pod);
    if (!problems.isEmpty()) {
      throw new dev.pods.PodSpecException("pod '" + pod.name() + "'", problems);
    }
  }

  @Override
  public Deployment deploy(Pod pod) {
    Objects.requireNonNull(pod, "pod");
    List<dev.pods.Problem> dnsProblems = DnsRecords.check(pod, s.domains());
    if (!dnsProblems.isEmpty()) {
      throw new dev.pods.PodSpecException("pod '" + pod.name() + "'", dnsProblems);
    }
    checkImages(s, pod);
    IpAddressPool priv = privatePool();
    IpAddressPool pub = publicPool();
    DefaultDeployment d = new DefaultDeployment(this, s, pod, priv, pub);
    // Held until its instances are scheduled: a membership change that finds the deployment meanwhile waits for the
    // lock, then plans against the instances built here (instead of creating the same ones a second time).
    java.util.concurrent.locks.ReentrantLock building = d.changeLock();
    building.lock();
    try {
      return deploy(pod, d, priv, pub);
    } finally {
      building.unlock();
    }
  }

  private Deployment deploy(Pod pod, DefaultDeployment d, IpAddressPool priv, @Nullable IpAddressPool pub) {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the runtime is closed");
      }
      if (deployments.containsKey(pod.name())) {
        throw new IllegalStateException("pod " + pod.name() + " is already deployed");
      }
      NodePorts.check(pod, s.nodeAddress(), nodePortClaims(null));
      DeployChecks.check(pod, s, disksInUse(pod.name()));
      deployments.put(pod.name(), d);
    }
    List<String> allocated = new ArrayList<>();
    try {
      // first the intent (ids and tokens, no addresses yet): whatever a crash leaves from here on is named by it
      List<DeploymentRecord.InstanceRecord> planned = new ArrayList<>();
      Map<String, String> tokens = new LinkedHashMap<>();
      for (Unit u : pod.units()) {
        if (u.publicAddress() && pub == null) {
          throw new PodsException("unit " + u.name() + " of pod " + pod.name()
              + " wants a public address, but the runtime has no public network");
        }
        for (int i = 0; i < u.count(); i++) {
          if (!hosts(pod.name(), u.name(), i)) {
            continue; // another host runs it
          }
          String id = instanceId(pod.name(), u.name(), i);
          String token = ImdsServer.newToken();
          tokens.put(id, token);
          planned.add(new DeploymentRecord.InstanceRecord(u.name(), i, id, s.namePrefix() + id, null, null,
              DefaultDeployment.specVersion(u), token, InstanceState.PENDING, null));
        }
      }
      writeRecord(d, () -> new DeploymentRecord(pod, s.owner(), false, planned));
      for (DeploymentRecord.InstanceRecord ir : planned) {
        Unit u = pod.unit(ir.unit()).orElseThrow();
        String id = ir.id();
        allocated.add(id);
        Cidr subnet = priv.allocate(id);
        Inet4Address pa = u.publicAddress() ? Objects.requireNonNull(pub).allocate(id).network() : null;
        d.add(new DefaultInstance(d, u, ir.index(), id, s.namePrefix() + id, subnet, pa, tokens.get(id)));
      }
      writeRecord(d, d::record);
      d.nodePorts().reconcile(pod);
    } catch (RuntimeException e) {
      d.nodePorts().close();
      for (String id : allocated) {
        if (releasesPrivateAddresses()) {
          priv.release(id);
        }
        if (pub != null) {
          pub.release(id);
        }
      }
      forget(d);
      throw e;
    }
    LOG.info("pod {}: {} instances scheduled", pod.name(), d.instanceList().size());
    FaultPoint.reached("addresses");
    d.publishDns();
    d.startAll(executor);
    return d;
  }

  /** The node ports the deployments but {@code except} claim: external port to a description of its holder. */
  synchronized Map<Integer, String> nodePortClaims(@Nullable DefaultDeployment except) {
    Map<Integer, String> out = new LinkedHashMap<>();
    for (DefaultDeployment other : deployments.values()) {
      if (other != except) {
        NodePorts.claims(other.pod()).forEach(out::putIfAbsent);
      }
    }
    return out;
  }

  /**
   * Disk name to the instance ({@code POD/UNIT-INDEX}) using it, over every deployment of this runtime except the
   * one of pod {@code exceptPod}.
   */
  synchronized Map<String, String> disksInUse(@Nullable String exceptPod) {
    Map<String, String> out = new LinkedHashMap<>();
    for (DefaultDeployment d : deployments.values()) {
      if (!d.pod().name().equals(exceptPod)) {
        DiskUse.of(d.pod()).forEach(out::putIfAbsent);
      }
    }
    if (s.disks() != null) {
      // domains of other owners (another runtime or `pods up` on the same data folder) that have a disk attached
      try {
        Map<java.nio.file.Path, String> names = new HashMap<>();
        for (dev.pods.spi.DiskStore.Volume v : s.disks().list()) {
          names.put(v.path().toAbsolutePath().normalize(), v.name());
        }
        for (dev.pods.spi.DomainInfo d : s.hypervisor().listAll()) {
          if (d.spec().metadata().owner().equals(s.owner())) {
            continue; // this runtime's own: its deployments above say who uses what
          }
          for (dev.pods.spi.DomainDisk disk : d.spec().disks()) {
            String name = names.get(disk.path().toAbsolutePath().normalize());
            if (name != null) {
              out.putIfAbsent(name, d.spec().metadata().pod() + "/" + d.spec().metadata().unit() + "-"
                  + d.spec().metadata().index() + " (domain " + d.name() + " of another runtime)");
            }
          }
        }
      } catch (RuntimeException e) {
        LOG.warn("cannot ask the hypervisor which other domains have the named disks attached", e);
      }
    }
    return out;
  }

  @Override
  public dev.pods.Disks disks() {
    return disks;
  }

  /** Registers a deployment {@link Adoption} rebuilt. */
  synchronized void adopted(DefaultDeployment d) {
    deployments.put(d.pod().name(), d);
  }

  /**
   * Writes {@code d}'s record unless it was forgotten, at once; a failure is logged (the record is written again at
   * the next change). For the writes that must be durable before the caller goes on (a destroy's mark,
   * adoption, a migration's changes).
   */
  void saveState(DefaultDeployment d) {
    try {
      writeRecord(d, d::record);
    } catch (RuntimeException e) {
      LOG.warn("pod {}: cannot write its state record", d.pod().name(), e);
    }
  }

  /**
   * Writes {@code d}'s record after a state change, soon and off the caller's thread (a metadata service's or a
   * subscriber's event thread must not wait for an fsync): one queued write per deployment at a time, which writes
   * the latest state when it runs, so a burst of changes costs a few writes. Inline once the runtime is closed.
   */
  void save(DefaultDeployment d) {
    if (d.recordDirty.getAndSet(true)) {
      return; // a queued write will see this change too
    }
    Runnable write = () -> {
      d.recordDirty.set(false);
      saveState(d);
    };
    try {
      recordWriter.execute(write);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      write.run();
    }
  }

  /** The record is made under the lock, so that the last write holds the latest states. */
  private void writeRecord(DefaultDeployment d, Supplier<DeploymentRecord> r) {
    stateLock.lock();
    try {
      synchronized (this) {
        if (deployments.get(d.pod().name()) != d) {
          return;
        }
      }
      store.put(d.pod().name(), r.get().toBytes());
    } finally {
      stateLock.unlock();
    }
  }

  /** A deployment was destroyed (or never made it): drop it and its record. */
  /** Whether {@code d} is this runtime's deployment of its pod (not one whose deploy failed, or destroyed). */
  synchronized boolean registered(DefaultDeployment d) {
    return deployments.get(d.pod().name()) == d;
  }

  void forget(DefaultDeployment d) {
    stateLock.lock();
    try {
      boolean mine;
      synchronized (this) {
        mine = deployments.remove(d.pod().name(), d);
      }
      if (mine) {
        store.remove(d.pod().name());
      }
    } finally {
      stateLock.unlock();
    }
  }

  @Override
  public synchronized List<Deployment> deployments() {
    return List.copyOf(deployments.values());
  }

  @Override
  public synchronized Optional<Deployment> deployment(String pod) {
    Objects.requireNonNull(pod, "pod");
    return Optional.ofNullable(deployments.get(pod));
  }

  /**
   * One watch of every deployment ({@link DefaultDeployment#watch}): liveness and due restarts, and with
   * {@code reconcile} the domains' real states. Run every {@link #WATCH_PERIOD} by the watcher thread (every
   * {@link #RECONCILE_EVERY}th with {@code reconcile}); tests call it after moving their clock.
   */
  void tick(boolean reconcile) {
    if (closed) {
      return;
    }
    List<DefaultDeployment> ds;
    synchronized (this) {
      ds = List.copyOf(deployments.values());
    }
    java.time.Instant now = s.clock().instant();
    for (DefaultDeployment d : ds) {
      d.watch(now, reconcile, executor);
    }
  }

  /**
   * On a backend thread: hands a check of the instance concerned to the executor (its domain stopped, crashed or
   * vanished: {@link DefaultDeployment#checkDomain}; its guest rebooted by itself); after a reconnection (events
   * may have been lost meanwhile), a check of every instance.
   */
  private void onHypervisorEvent(HypervisorEvent e) {
    boolean all = e.type() == HypervisorEvent.Type.RECONNECTED;
    if (closed || (!all && (e.domain() == null
        || (e.type() != HypervisorEvent.Type.UNDEFINED && e.type() != HypervisorEvent.Type.STOPPED
            && e.type() != HypervisorEvent.Type.CRASHED && e.type() != HypervisorEvent.Type.REBOOTED)))) {
      return;
    }
    List<DefaultDeployment> ds;
    synchronized (this) {
      ds = List.copyOf(deployments.values());
    }
    for (DefaultDeployment d : ds) {
      for (DefaultInstance i : List.copyOf(d.instanceList())) {
        if (all || i.domainName().equals(e.domain())) {
          if (e.type() == HypervisorEvent.Type.REBOOTED) {
            if (!i.busy.get()) {
              i.guestRebooted(e.at());
            }
            continue;
          }
          try {
            executor.execute(() -> {
              try {
                d.checkDomain(i, e, executor); // after RECONNECTED: no event of what was missed will come
              } catch (RuntimeException x) {
                LOG.warn("pod {} instance {}: self-heal check failed", d.pod().name(), i.name(), x);
              }
            });
          } catch (RuntimeException x) {
            LOG.warn("pod {} instance {}: cannot schedule a self-heal check", d.pod().name(), i.name(), x);
          }
        }
      }
    }
  }

  /**
   * A secret's value changed in the store: every deployment with a unit declaring it hands its metadata services
   * their new views (the declaring instances' state hashes change, so their agents run the reload blocks).
   */
  private void onSecretChanged(String name) {
    if (closed) {
      return;
    }
    List<DefaultDeployment> ds;
    synchronized (this) {
      ds = List.copyOf(deployments.values());
    }
    for (DefaultDeployment d : ds) {
      if (d.pod().units().stream().anyMatch(u -> u.secrets().stream().anyMatch(r -> r.name().equals(name)))) {
        d.refreshViews();
      }
    }
  }

  /**
   * The membership says pod {@code pod} may have changed (on any thread; never blocks): its deployment, if this
   * runtime has one, follows it on the executor ({@link DefaultDeployment#followMembership}).
   */
  private void onMembershipChanged(String pod) {
    if (closed) {
      return;
    }
    DefaultDeployment d;
    synchronized (this) {
      d = deployments.get(pod);
    }
    if (d != null) {
      d.followMembership();
    }
  }

  @Override
  public void close() {
    List<DefaultDeployment> ds;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      ds = List.copyOf(deployments.values());
    }
    AutoCloseable membershipSub = membershipEvents;
    if (membershipSub != null) {
      try {
        membershipSub.close();
      } catch (Exception e) {
        LOG.warn("runtime close: cannot stop listening to the membership", e);
      }
    }
    Hypervisor.Subscription sub = events;
    if (sub != null) {
      sub.close();
    }
    dev.pods.spi.SecretStore.Registration secretSub = secretEvents;
    if (secretSub != null) {
      secretSub.close();
    }
    java.util.concurrent.ScheduledExecutorService w = watcher;
    if (w != null) {
      w.shutdownNow();
    }
    if (ownExecutor != null) {
      ownExecutor.shutdown();
      try {
        if (!ownExecutor.awaitTermination(60, TimeUnit.SECONDS)) {
          ownExecutor.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        ownExecutor.shutdownNow();
      }
    }
    ds.forEach(DefaultDeployment::detach);
    recordWriter.shutdown(); // the writes of the last changes still run
    try {
      if (!recordWriter.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn("runtime close: state records still being written after 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (AutoCloseable c : s.owned()) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("runtime close: cannot close {}", c, e);
      }
    }
    try {
      lockChannel.close();
    } catch (IOException e) {
      LOG.warn("runtime close: cannot release the state folder's lock", e);
    }
    LOG.info("runtime closed; {} deployments left running", ds.size());
  }

  /** {@code <pod>-<unit>-<index>} made a valid network instance id (lower case, digits, '-', at most 40). */
  static String instanceId(String pod, String unit, int index) {
    String raw = pod + "-" + unit + "-" + index;
    String id = slug(raw, 40);
    if (!id.equals(raw)) {
      String suffix = "-" + sha256(raw).substring(0, 6) + "-" + index;
      id = slug(raw.substring(0, raw.lastIndexOf('-')), 40 - suffix.length()) + suffix;
    }
    return id;
  }

  /** Lower case letters, digits and '-', no leading or trailing '-', at most {@code max} characters. */
  static String slug(String text, int max) {
    String t = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-");
    if (t.length() > max) {
      t = t.substring(0, max);
    }
    t = t.replaceAll("^-+|-+$", "");
    return t.isEmpty() ? "x" : t;
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
