package dev.pods.kvm;

import dev.pods.BackendException;
import dev.pods.kvm.internal.DomainXml;
import dev.pods.kvm.internal.EventLoop;
import dev.pods.kvm.internal.KvmProbe;
import dev.pods.kvm.internal.Libvirt;
import dev.pods.spi.Acceleration;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainFilesystem;
import dev.pods.spi.DomainInfo;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorEvent;
import dev.pods.spi.HypervisorInfo;
import dev.pods.spi.HypervisorStats;
import dev.pods.spi.StopOutcome;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainBlockStats;
import org.libvirt.DomainInterfaceStats;
import org.libvirt.LibvirtException;
import org.libvirt.event.ConnectionCloseReason;
import org.libvirt.event.DomainEvent;
import org.libvirt.event.LifecycleListener;
import org.libvirt.event.RebootListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Hypervisor} on libvirt through libvirt-java: QEMU with KVM when a probe shows that KVM really runs a
 * guest here, QEMU TCG otherwise (with a warning), or libvirt's test driver ({@code test:///...}) for tests.
 *
 * <p>Domains are plain persistent libvirt domains on machine {@code pc} (IDE cdrom for the seed: the Debian
 * cloud kernel has no AHCI), with a bounded TCG translation cache, the serial console in a log file written by
 * virtlogd, and the pods metadata in {@code <metadata>} (namespace {@value DomainXml#NAMESPACE}), which is how
 * {@link #list(String)} finds them after a restart.
 *
 * <p>A {@link DomainFilesystem#readOnly() read-only} shared folder is shared as a read-only bind mount of it under
 * {@code <cacheDir>/shares} (this libvirt refuses {@code <readonly/>} on virtiofs and its virtiofsd has no
 * read-only mode, so root in the guest could otherwise remount the share read-write): made at {@link #define},
 * made again at {@link #start} when it is gone (a host reboot), removed at {@link #undefine} (also for a domain
 * that no longer exists) and by a define that fails; {@link #find} and {@link #define} report the folder itself.
 * It needs root and a local URI: with a remote URI, defining a read-only folder fails.
 *
 * <p><b>Threads.</b> libvirt's event loop runs on one daemon thread per process; events are handed to
 * listeners on this instance's daemon thread {@code pods-libvirt-dispatch-N}, in order. When the connection is
 * lost (libvirtd restarts), a {@link HypervisorEvent.Type#CONNECTION_LOST} event is published and the same
 * thread reconnects every second until it succeeds ({@link HypervisorEvent.Type#RECONNECTED}); calls made
 * meanwhile try to reconnect themselves and fail with a {@link BackendException} if they cannot.
 *
 * <p><b>Contract.</b> Thread-safe; blocking; idempotent as {@link Hypervisor} says. {@code LibvirtException}
 * never escapes: every failure is a {@link BackendException} with the operation, the domain and libvirt's error
 * number ({@code virErrorNumber}). Local files (kernel, console log) are checked and read on this machine, so
 * with a remote URI ({@code qemu+ssh://host/system}) {@link #consoleOutput} reads nothing and the kernel check is
 * skipped (a missing kernel then fails at {@link #start} with the remote libvirtd's error), and the KVM probe is
 * not run ({@link #autoAcceleration()}). The caller closes the instance; {@link #close()} leaves domains running.
 */
public final class LibvirtHypervisor implements Hypervisor {
  private static final Logger LOG = LoggerFactory.getLogger(LibvirtHypervisor.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  /** The definition, with secrets (the VNC password) so that a read-back spec equals the one defined. */
  private static final int XML_INACTIVE = Domain.XMLFlags.INACTIVE | Domain.XMLFlags.SECURE;

  /** The connection URI used when none is configured. */
  public static final String DEFAULT_URI = "qemu:///system";
  /** Where guest images and KVM probe results are cached by default. */
  public static final Path DEFAULT_CACHE = Path.of("/var/cache/pods");

  private final String uri;
  private final boolean local;
  private final Acceleration defaultAcceleration;
  private final int tbCacheMib;
  private final @Nullable Path probeKernel;
  private final Path cacheDir;
  private final Duration probeTimeout;
  private final ReadOnlyShares shares;
  private final ReentrantLock connLock = new ReentrantLock();
  private final ScheduledExecutorService dispatch;
  private final List<Consumer<HypervisorEvent>> listeners = new CopyOnWriteArrayList<>();
  private final LifecycleListener lifecycle = this::onLifecycle;
  private final RebootListener rebootListener = this::onReboot;
  private volatile @Nullable Connect conn;
  private volatile @Nullable Acceleration resolved;
  private volatile boolean closed;
  private volatile boolean reconnecting;

  private LibvirtHypervisor(Builder b) {
    this.uri = b.uri != null ? b.uri : configuredUri();
    URI u = URI.create(this.uri);
    this.local = u.getHost() == null || u.getHost().isEmpty();
    this.defaultAcceleration = b.acceleration;
    this.tbCacheMib = b.tbCacheMib;
    this.probeKernel = b.probeKernel;
    this.cacheDir = b.cacheDir;
    this.probeTimeout = b.probeTimeout;
    this.shares = new ReadOnlyShares(cacheDir.resolve("shares"));
    int n = THREADS.incrementAndGet();
    this.dispatch = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "pods-libvirt-dispatch-" + n);
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * The URI configured for this process: system property {@code pods.kvm.uri}, else environment variable
   * {@code PODS_KVM_URI}, else {@value #DEFAULT_URI}.
   */
  public static String configuredUri() {
    String p = System.getProperty("pods.kvm.uri");
    if (p != null && !p.isBlank()) {
      return p;
    }
    String e = System.getenv("PODS_KVM_URI");
    return e != null && !e.isBlank() ? e : DEFAULT_URI;
  }

  /** A builder; nothing is opened until {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Opens a hypervisor on {@code uri} with default options. */
  public static LibvirtHypervisor connect(String uri) {
    return builder().uri(uri).build();
  }

  /** The connection URI. */
  public String uri() {
    return uri;
  }

  // ---------------------------------------------------------------------------------------------- connection

  private Connect open() {
    EventLoop.ensureRunning();
    Connect c;
    try {
      c = new Connect(uri);
    } catch (LibvirtException e) {
      throw Libvirt.wrap("connect " + uri, null, e);
    }
    try {
      c.addLifecycleListener(lifecycle);
      c.addRebootListener(rebootListener);
      c.registerCloseListener(this::onClose);
    } catch (LibvirtException e) {
      closeQuietly(c);
      throw Libvirt.wrap("subscribe " + uri, null, e);
    }
    if (!local) {
      // Keepalive lets a remote connection notice a dead peer; local drivers close the socket instead.
      try {
        c.setKeepAlive(5, 3);
      } catch (LibvirtException e) {
        LOG.debug("keepalive not supported on {}", uri, e);
      }
    }
    return c;
  }

  private Connect conn() {
    Connect c = conn;
    if (c != null) {
      return c;
    }
    connLock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("hypervisor " + uri + " is closed");
      }
      c = conn;
      if (c == null) {
        c = open();
        conn = c;
      }
      return c;
    } finally {
      connLock.unlock();
    }
  }

  private void onClose(Connect c, ConnectionCloseReason reason) {
    if (closed || conn != c) {
      return;
    }
    LOG.warn("connection to {} lost ({}); reconnecting", uri, reason);
    conn = null;
    publish(new HypervisorEvent(HypervisorEvent.Type.CONNECTION_LOST, null, Instant.now(), reason.name()));
    scheduleReconnect(0);
  }

  private void scheduleReconnect(long delayMs) {
    if (closed || reconnecting) {
      return;
    }
    reconnecting = true;
    try {
      dispatch.schedule(this::reconnect, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      reconnecting = false;
    }
  }

  private void reconnect() {
    reconnecting = false;
    if (closed) {
      return;
    }
    try {
      conn();
      LOG.info("reconnected to {}", uri);
      publish(new HypervisorEvent(HypervisorEvent.Type.RECONNECTED, null, Instant.now(), ""));
    } catch (RuntimeException e) {
      LOG.debug("reconnect to {} failed; retrying in 1 s", uri, e);
      scheduleReconnect(1000);
    }
  }

  /** Runs a libvirt call; a dead connection is dropped so that the next call reconnects. */
  private <T> T call(String op, @Nullable String domain, Libvirt.Call<T> c) {
    try {
      return c.run();
    } catch (LibvirtException e) {
      dropIfDead();
      throw Libvirt.wrap(op, domain, e);
    }
  }

  private void dropIfDead() {
    Connect c = conn;
    if (c == null) {
      return;
    }
    boolean alive;
    try {
      alive = c.isAlive();
    } catch (LibvirtException e) {
      alive = false;
    }
    if (!alive && conn == c) {
      conn = null;
      closeQuietly(c);
    }
  }

  private @Nullable Domain lookup(String op, String name) {
    DomainSpec.checkName(name);
    Connect c = conn();
    try {
      return c.domainLookupByName(name);
    } catch (LibvirtException e) {
      if (Libvirt.code(e) == Libvirt.NO_DOMAIN) {
        return null;
      }
      dropIfDead();
      throw Libvirt.wrap(op, name, e);
    }
  }

  private Domain require(String op, String name) {
    Domain d = lookup(op, name);
    if (d == null) {
      throw new BackendException(op, name, Libvirt.NO_DOMAIN, "no domain with matching name '" + name + "'",
          null);
    }
    return d;
  }

  // ---------------------------------------------------------------------------------------------- SPI

  @Override
  public HypervisorInfo info() {
    Connect c = conn();
    String driver = call("info", null, c::getType);
    long v = call("info", null, c::getVersion);
    String version = (v / 1_000_000) + "." + (v / 1000 % 1000) + "." + (v % 1000);
    return new HypervisorInfo(uri, driver, version, autoAcceleration());
  }

  /**
   * What {@link Acceleration#AUTO} resolves to here: the builder's choice, or the KVM probe's verdict. The probe
   * boots a local kernel, so on a remote URI it is not run and AUTO means KVM: for a remote host without working
   * KVM, set {@link Builder#acceleration(Acceleration)} to TCG.
   */
  public Acceleration autoAcceleration() {
    Acceleration a = resolved;
    if (a != null) {
      return a;
    }
    if (defaultAcceleration != Acceleration.AUTO) {
      a = defaultAcceleration;
    } else if (!local) {
      // The probe needs local files; a remote host is expected to be a real KVM host.
      a = Acceleration.KVM;
    } else {
      a = KvmProbe.probe(conn(), probeKernel, cacheDir, probeTimeout);
    }
    resolved = a;
    return a;
  }

  @Override
  public DomainInfo define(DomainSpec spec) {
    Objects.requireNonNull(spec, "spec");
    try {
      return defineOnce(spec);
    } catch (BackendException e) {
      // Another caller may have defined the same name between our lookup and our define: libvirt then refuses
      // a second definition without the first one's UUID. Decide again against what now exists.
      if (e.code() == Libvirt.DOM_EXIST || e.code() == Libvirt.OPERATION_FAILED) {
        Domain now = lookup("define", spec.name());
        if (now != null) {
          return defineOnce(spec);
        }
      }
      throw e;
    }
  }

  private DomainInfo defineOnce(DomainSpec spec) {
    String name = spec.name();
    DomainSpec effective = spec.acceleration() == Acceleration.AUTO
        ? spec.withAcceleration(autoAcceleration()) : spec;
    if (local && spec.boot() instanceof DomainBoot.Kernel k) {
      requireFile(name, k.kernel(), "kernel");
      if (k.initrd() != null) {
        requireFile(name, k.initrd(), "initrd");
      }
    }
    String uuid = null;
    Domain existing = lookup("define", name);
    if (existing != null) {
      DomainXml.Parsed p = parse("define", name, existing, XML_INACTIVE);
      if (p.spec().isEmpty()) {
        throw new BackendException("define", name, Libvirt.DOM_EXIST,
            "a domain of that name exists and was not created by pods", null);
      }
      String owner = p.spec().get().metadata().owner();
      if (!owner.equals(spec.metadata().owner())) {
        throw new BackendException("define", name, Libvirt.DOM_EXIST,
            "a domain of that name belongs to owner '" + owner + "'", null);
      }
      if (p.spec().get().equals(effective)) {
        return new DomainInfo(name, state(existing, name), p.spec().get());
      }
      uuid = p.uuid();
    }
    Domain d;
    try {
      String xml = DomainXml.write(share(effective), new DomainXml.Options(tbCacheMib, uuid));
      LOG.debug("defining domain {}:\n{}", name, xml);
      Connect c = conn();
      d = call("define", name, () -> c.domainDefineXML(xml));
    } catch (RuntimeException e) {
      if (existing == null) {
        try {
          shares.release(name); // a failed define leaves no mount behind
        } catch (RuntimeException u) {
          e.addSuppressed(u);
        }
      }
      throw e;
    }
    DomainXml.Parsed p = parse("define", name, d, XML_INACTIVE);
    return new DomainInfo(name, state(d, name), p.spec().orElseThrow(
        () -> new BackendException("define", name, -1, "libvirt dropped the pods metadata", null)));
  }

  /** The read-only shares of this hypervisor's domains (for {@link Reaper}). */
  ReadOnlyShares shares() {
    return shares;
  }

  /**
   * {@code spec} as libvirt gets it: every read-only folder replaced by a read-only bind mount of it
   * ({@link ReadOnlyShares}), made now if it is not there.
   */
  private DomainSpec share(DomainSpec spec) {
    if (spec.filesystems().stream().noneMatch(DomainFilesystem::readOnly)) {
      return spec;
    }
    if (!local) {
      throw new BackendException("define", spec.name(), -1,
          "read-only host folders need libvirt on this machine, not " + uri, null);
    }
    List<DomainFilesystem> fs = new ArrayList<>();
    for (DomainFilesystem f : spec.filesystems()) {
      fs.add(f.readOnly() ? shares.ensure(spec.name(), f) : f);
    }
    return spec.withFilesystems(fs);
  }

  /** {@code spec} as it was defined: the read-only bind mounts libvirt shares replaced by their folders. */
  private DomainSpec original(DomainSpec spec) {
    if (!local || spec.filesystems().isEmpty()) {
      return spec;
    }
    return spec.withFilesystems(spec.filesystems().stream().map(shares::original).toList());
  }

  private static void requireFile(String name, Path p, String what) {
    if (!Files.isRegularFile(p)) {
      throw new BackendException("define", name, Libvirt.NO_KERNEL, what + " '" + p + "' does not exist", null);
    }
  }

  @Override
  public void start(String name) {
    Domain d = require("start", name);
    if (call("start", name, d::isActive) == 1) {
      return;
    }
    parse("start", name, d, XML_INACTIVE).spec().ifPresent(this::share); // mounted again after a host reboot
    long t0 = System.nanoTime();
    call("start", name, d::create);
    LOG.debug("started domain {} in {} ms", name, (System.nanoTime() - t0) / 1_000_000);
  }

  @Override
  public StopOutcome stop(String name, Duration grace) {
    Objects.requireNonNull(grace, "grace");
    Domain d = lookup("stop", name);
    if (d == null || call("stop", name, d::isActive) != 1) {
      return StopOutcome.ALREADY_STOPPED;
    }
    if (!grace.isNegative() && !grace.isZero()) {
      long deadline = System.nanoTime() + grace.toNanos();
      try {
        d.shutdown();
      } catch (LibvirtException e) {
        if (!isActive(d, name)) {
          return StopOutcome.GRACEFUL;
        }
        LOG.debug("graceful shutdown of {} refused; powering off", name, e);
      }
      try {
        while (System.nanoTime() < deadline) {
          if (!isActive(d, name)) {
            return StopOutcome.GRACEFUL;
          }
          Thread.sleep(50);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BackendException("stop", name, -1, "interrupted while waiting for the guest", e);
      }
      LOG.info("domain {} did not power off within {}; forcing it", name, grace);
    }
    forceOff(d, name, "stop");
    return StopOutcome.FORCED;
  }

  private boolean isActive(Domain d, String name) {
    try {
      return d.isActive() == 1;
    } catch (LibvirtException e) {
      if (Libvirt.code(e) == Libvirt.NO_DOMAIN) {
        return false;
      }
      throw Libvirt.wrap("state", name, e);
    }
  }

  private void forceOff(Domain d, String name, String op) {
    try {
      d.destroy();
    } catch (LibvirtException e) {
      int code = Libvirt.code(e);
      if (code != Libvirt.OPERATION_INVALID && code != Libvirt.NO_DOMAIN) {
        dropIfDead();
        throw Libvirt.wrap(op, name, e);
      }
    }
  }

  @Override
  public void reboot(String name) {
    Domain d = require("reboot", name);
    if (!isActive(d, name)) {
      throw new BackendException("reboot", name, Libvirt.OPERATION_INVALID, "domain is not running", null);
    }
    call("reboot", name, () -> {
      d.reboot(0);
      return null;
    });
  }

  @Override
  public void destroy(String name) {
    Domain d = lookup("destroy", name);
    if (d != null && isActive(d, name)) {
      forceOff(d, name, "destroy");
    }
  }

  @Override
  public void undefine(String name) {
    Domain d = lookup("undefine", name);
    if (d != null) {
      if (isActive(d, name)) {
        forceOff(d, name, "undefine");
      }
      try {
        d.undefine();
      } catch (LibvirtException e) {
        if (Libvirt.code(e) != Libvirt.NO_DOMAIN) {
          dropIfDead();
          throw Libvirt.wrap("undefine", name, e);
        }
      }
    }
    if (local) {
      shares.release(name); // also what a crash between mounting and defining left
    }
  }

  @Override
  public DomainState state(String name) {
    Domain d = lookup("state", name);
    return d == null ? DomainState.MISSING : state(d, name);
  }

  private DomainState state(Domain d, String name) {
    try {
      return map(d.getInfo().state);
    } catch (LibvirtException e) {
      if (Libvirt.code(e) == Libvirt.NO_DOMAIN) {
        return DomainState.MISSING;
      }
      dropIfDead();
      throw Libvirt.wrap("state", name, e);
    }
  }

  private static DomainState map(org.libvirt.DomainInfo.DomainState s) {
    switch (s) {
      case VIR_DOMAIN_RUNNING:
      case VIR_DOMAIN_BLOCKED:
        return DomainState.RUNNING;
      case VIR_DOMAIN_PAUSED:
      case VIR_DOMAIN_PMSUSPENDED:
        return DomainState.PAUSED;
      case VIR_DOMAIN_SHUTDOWN:
        return DomainState.SHUTTING_DOWN;
      case VIR_DOMAIN_SHUTOFF:
        return DomainState.SHUT_OFF;
      case VIR_DOMAIN_CRASHED:
        return DomainState.CRASHED;
      default:
        return DomainState.OTHER;
    }
  }

  private DomainXml.Parsed parse(String op, String name, Domain d, int flags) {
    String xml = call(op, name, () -> d.getXMLDesc(flags));
    try {
      DomainXml.Parsed p = DomainXml.read(xml);
      return new DomainXml.Parsed(p.name(), p.uuid(), p.spec().map(this::original), p.live());
    } catch (IllegalArgumentException e) {
      throw new BackendException(op, name, -1, "cannot read the domain XML: " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<DomainInfo> find(String name) {
    Domain d = lookup("find", name);
    return d == null ? Optional.empty() : info(d, name);
  }

  private Optional<DomainInfo> info(Domain d, String name) {
    try {
      String xml = d.getXMLDesc(XML_INACTIVE);
      DomainState st = map(d.getInfo().state);
      return DomainXml.read(xml).spec().map(s -> new DomainInfo(name, st, original(s)));
    } catch (LibvirtException e) {
      if (Libvirt.code(e) == Libvirt.NO_DOMAIN) {
        return Optional.empty();
      }
      dropIfDead();
      throw Libvirt.wrap("find", name, e);
    } catch (IllegalArgumentException e) {
      LOG.debug("ignoring domain {} with unreadable XML", name, e);
      return Optional.empty();
    }
  }

  @Override
  public List<DomainInfo> listAll() {
    Connect c = conn();
    Domain[] all = call("list", null, () -> c.listAllDomains(0));
    List<DomainInfo> out = new ArrayList<>();
    for (Domain d : all) {
      String name;
      try {
        name = d.getName();
      } catch (LibvirtException e) {
        continue;
      }
      info(d, name).ifPresent(out::add);
    }
    out.sort(Comparator.comparing(DomainInfo::name));
    return out;
  }

  @Override
  public Optional<java.net.InetSocketAddress> vncDisplay(String name) {
    Domain d = require("vncDisplay", name);
    org.libvirt.DomainInfo i = call("vncDisplay", name, d::getInfo);
    DomainState st = map(i.state);
    if (st == DomainState.SHUT_OFF || st == DomainState.CRASHED) {
      return Optional.empty();
    }
    DomainXml.Parsed p = parse("vncDisplay", name, d, 0);
    String listen = p.spec().map(DomainSpec::vncListen).orElse(null);
    if (listen == null || p.live().vncPort() <= 0) {
      return Optional.empty();
    }
    return Optional.of(new java.net.InetSocketAddress(listen, p.live().vncPort()));
  }

  @Override
  public HypervisorStats stats(String name) {
    Domain d = require("stats", name);
    org.libvirt.DomainInfo i = call("stats", name, d::getInfo);
    if (map(i.state) == DomainState.SHUT_OFF || map(i.state) == DomainState.CRASHED) {
      throw new BackendException("stats", name, Libvirt.OPERATION_INVALID, "domain is not running", null);
    }
    DomainXml.Live live = parse("stats", name, d, 0).live();
    long rd = 0;
    long wr = 0;
    try {
      for (String dev : live.diskTargets()) {
        DomainBlockStats b = d.blockStats(dev);
        rd += Math.max(0, b.rd_bytes);
        wr += Math.max(0, b.wr_bytes);
      }
    } catch (LibvirtException e) {
      LOG.debug("no block statistics for {}", name, e);
      rd = -1;
      wr = -1;
    }
    long rx = 0;
    long tx = 0;
    try {
      for (String dev : live.interfaceTargets()) {
        DomainInterfaceStats n = d.interfaceStats(dev);
        rx += Math.max(0, n.rx_bytes);
        tx += Math.max(0, n.tx_bytes);
      }
    } catch (LibvirtException e) {
      LOG.debug("no interface statistics for {}", name, e);
      rx = -1;
      tx = -1;
    }
    return new HypervisorStats(name, Instant.now(), i.nrVirtCpu, i.cpuTime, i.memory, i.maxMem, rd, wr, rx, tx);
  }

  @Override
  public String consoleOutput(String name) {
    Domain d = require("consoleOutput", name);
    Optional<DomainSpec> s = parse("consoleOutput", name, d, XML_INACTIVE).spec();
    Path log = s.isPresent() ? s.get().serialLog() : null;
    if (log == null || !local || !Files.exists(log)) {
      return "";
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE)
          .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(log)))
          .toString();
    } catch (IOException e) {
      throw new BackendException("consoleOutput", name, -1, "cannot read " + log + ": " + e, e);
    }
  }

  @Override
  public Subscription subscribe(Consumer<HypervisorEvent> listener) {
    Objects.requireNonNull(listener, "listener");
    conn();
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    connLock.lock();
    Connect c;
    try {
      if (closed) {
        return;
      }
      closed = true;
      c = conn;
      conn = null;
    } finally {
      connLock.unlock();
    }
    listeners.clear();
    if (c != null) {
      try {
        c.removeLifecycleListener(lifecycle);
      } catch (LibvirtException e) {
        LOG.debug("cannot remove the lifecycle listener", e);
      }
      removeRebootListener(c, rebootListener);
      closeQuietly(c);
    }
    dispatch.shutdown();
  }

  /**
   * Deregisters the reboot callback before the connection is dropped. libvirt keeps the connection (and the
   * callback) alive while a callback is registered, but libvirt-java's JNA trampoline for it is collected with
   * the {@code Connect}: a guest reboot after that would call into freed code and abort the JVM. libvirt-java
   * 0.5.4 has no public {@code removeRebootListener}; its private deregistration takes libvirt's event id
   * ({@code VIR_DOMAIN_EVENT_ID_REBOOT} = 1).
   */
  private static void removeRebootListener(Connect c, RebootListener l) {
    try {
      java.lang.reflect.Method m =
          Connect.class.getDeclaredMethod("domainEventDeregister", int.class, org.libvirt.event.EventListener.class);
      m.setAccessible(true);
      m.invoke(c, 1, l);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("cannot deregister the reboot listener of {}", c, e);
    }
  }

  private static void closeQuietly(Connect c) {
    try {
      // libvirt-java's close callback dereferences the connection after close(): unregister it first.
      c.unregisterCloseListener();
    } catch (LibvirtException e) {
      LOG.debug("cannot unregister the close listener", e);
    }
    try {
      c.close();
    } catch (LibvirtException e) {
      LOG.debug("closing a libvirt connection failed", e);
    }
  }

  // ---------------------------------------------------------------------------------------------- events

  private int onLifecycle(Domain d, DomainEvent e) {
    HypervisorEvent.Type t = switch (e.getType()) {
      case DEFINED -> HypervisorEvent.Type.DEFINED;
      case UNDEFINED -> HypervisorEvent.Type.UNDEFINED;
      case STARTED -> HypervisorEvent.Type.STARTED;
      case STOPPED -> HypervisorEvent.Type.STOPPED;
      case SUSPENDED, PMSUSPENDED -> HypervisorEvent.Type.SUSPENDED;
      case RESUMED -> HypervisorEvent.Type.RESUMED;
      case SHUTDOWN -> HypervisorEvent.Type.SHUTTING_DOWN;
      case CRASHED -> HypervisorEvent.Type.CRASHED;
      default -> null;
    };
    if (t != null) {
      publishFrom(d, t, detail(e));
    }
    return 0;
  }

  private void onReboot(Domain d) {
    publishFrom(d, HypervisorEvent.Type.REBOOTED, "");
  }

  private void publishFrom(Domain d, HypervisorEvent.Type t, String detail) {
    try {
      publish(new HypervisorEvent(t, d.getName(), Instant.now(), detail));
    } catch (LibvirtException ex) {
      LOG.debug("event for a domain whose name cannot be read", ex);
    }
  }

  private static String detail(DomainEvent e) {
    try {
      Object detail = e.getDetail();
      return detail == null ? "" : detail.toString();
    } catch (RuntimeException ex) {
      return "";
    }
  }

  private void publish(HypervisorEvent ev) {
    if (closed || listeners.isEmpty()) {
      return;
    }
    try {
      dispatch.execute(() -> {
        for (Consumer<HypervisorEvent> l : listeners) {
          try {
            l.accept(ev);
          } catch (RuntimeException ex) {
            LOG.warn("hypervisor event listener failed on {}", ev, ex);
          }
        }
      });
    } catch (RejectedExecutionException ex) {
      LOG.debug("dropping {} after close", ev);
    }
  }

  /**
   * Builds a {@link LibvirtHypervisor}. Not thread-safe. Defaults: the {@link #configuredUri() configured
   * URI}, {@link Acceleration#AUTO} (probe), a 64 MiB TCG translation cache, cache folder
   * {@code /var/cache/pods}, a 10 s probe timeout.
   */
  public static final class Builder {
    private @Nullable String uri;
    private Acceleration acceleration = Acceleration.AUTO;
    private int tbCacheMib = 64;
    private @Nullable Path probeKernel;
    private Path cacheDir = DEFAULT_CACHE;
    private Duration probeTimeout = Duration.ofSeconds(10);

    private Builder() {}

    /** The libvirt connection URI, e.g. {@code qemu:///system}, {@code qemu+ssh://host/system}. */
    public Builder uri(String u) {
      this.uri = Objects.requireNonNull(u, "uri");
      return this;
    }

    /**
     * What specs asking for {@link Acceleration#AUTO} get: AUTO (default) probes KVM; KVM or TCG is used as
     * given. A spec's own explicit choice always wins over this.
     */
    public Builder acceleration(Acceleration a) {
      this.acceleration = Objects.requireNonNull(a, "acceleration");
      return this;
    }

    /** Size of QEMU's TCG translation cache in MiB (bounded: QEMU's default of 1 GiB costs RSS). */
    public Builder tbCacheMib(int mib) {
      if (mib < 1) {
        throw new IllegalArgumentException("tbCacheMib must be >= 1");
      }
      this.tbCacheMib = mib;
      return this;
    }

    /** A Linux kernel for the KVM probe; by default one from the guest image cache is used. */
    public Builder probeKernel(Path kernel) {
      this.probeKernel = Objects.requireNonNull(kernel, "kernel");
      return this;
    }

    /** Where KVM probe results are cached, guest images looked up and read-only shares mounted. */
    public Builder cacheDir(Path dir) {
      this.cacheDir = Objects.requireNonNull(dir, "dir");
      return this;
    }

    /** How long the KVM probe waits for the kernel's first line. */
    public Builder probeTimeout(Duration d) {
      this.probeTimeout = Objects.requireNonNull(d, "timeout");
      return this;
    }

    /**
     * Opens the connection and registers for events.
     *
     * @throws BackendException when libvirt is missing or the connection cannot be opened
     */
    public LibvirtHypervisor build() {
      LibvirtHypervisor h = new LibvirtHypervisor(this);
      try {
        h.conn();
      } catch (RuntimeException e) {
        h.close();
        throw e;
      }
      return h;
    }
  }
}
