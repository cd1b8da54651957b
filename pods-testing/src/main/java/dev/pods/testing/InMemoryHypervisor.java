package dev.pods.testing;

import dev.pods.BackendException;
import dev.pods.spi.Acceleration;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainInfo;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorEvent;
import dev.pods.spi.HypervisorInfo;
import dev.pods.spi.HypervisorStats;
import dev.pods.spi.StopOutcome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Hypervisor} that keeps its domains in memory: no guest runs, no file is created. It behaves as the
 * contract says (idempotency, ownership, events, forced stop after the grace period) and checks what a real
 * emulator would check (kernel and initrd at define; disks and seed at start). Time is simulated: a stop of a
 * guest that ignores ACPI returns {@link StopOutcome#FORCED} at once instead of waiting for the grace period.
 * A running domain with a {@link DomainSpec#vncListen()} has a real loopback VNC display that speaks the start of
 * RFB as QEMU does (greeting, VNC authentication with the spec's password), until it stops or the hypervisor is
 * closed.
 *
 * <p>Fault knobs: {@link #failNext(String)}, {@link #ignoreShutdown(String)}, {@link #crash(String)},
 * {@link #guestPowersOff(String)}, {@link #emulatorDies(String)}, {@link #guestResets(String)},
 * {@link #guestPrints(String, String)}. Each reports what libvirt reports for the same thing, with libvirt's event
 * details ({@code STOPPED} with {@code SHUTDOWN}, {@code DESTROYED}, {@code CRASHED} or {@code FAILED}).
 *
 * <p>Thread-safe: every operation holds the instance's lock for its (short, non-blocking) duration; listeners
 * are called on the calling thread after the lock is released. {@link #close()} is idempotent.
 */
public final class InMemoryHypervisor implements Hypervisor {
  private static final Logger LOG = LoggerFactory.getLogger(InMemoryHypervisor.class);
  /** Error codes, chosen equal to libvirt's so that callers can test one code for both. */
  static final int NO_DOMAIN = 42;
  static final int OPERATION_INVALID = 55;
  static final int DOM_EXIST = 28;
  static final int NO_KERNEL = 17;
  static final int INJECTED = 1;

  private final Object lock = new Object();
  private final Clock clock;
  private final Acceleration resolved;
  private final Map<String, Dom> domains = new TreeMap<>();
  private final Map<String, Integer> failures = new TreeMap<>();
  private final List<Consumer<HypervisorEvent>> listeners = new CopyOnWriteArrayList<>();
  private boolean closed;
  /** While set, events are lost (as during a lost connection to a real hypervisor). */
  private boolean disconnected;

  private static final class Dom {
    DomainSpec spec;
    DomainState state = DomainState.SHUT_OFF;
    boolean ignoresShutdown;
    @Nullable Instant startedAt;
    final StringBuilder console = new StringBuilder();
    /** The VNC display while the domain runs with a {@code vncListen}. */
    @Nullable FakeDisplay display;

    void stopDisplay() {
      if (display != null) {
        display.close();
        display = null;
      }
    }

    Dom(DomainSpec spec) {
      this.spec = spec;
    }
  }

  private InMemoryHypervisor(Clock clock, Acceleration resolved) {
    this.clock = clock;
    this.resolved = resolved;
  }

  /** A fake on the system clock where {@link Acceleration#AUTO} resolves to TCG. */
  public static InMemoryHypervisor create() {
    return new InMemoryHypervisor(Clock.systemUTC(), Acceleration.TCG);
  }

  /**
   * A fake with the given clock (for event times and CPU time) and AUTO resolution.
   *
   * @param resolved what {@link Acceleration#AUTO} resolves to; must not be AUTO
   */
  public static InMemoryHypervisor create(Clock clock, Acceleration resolved) {
    Objects.requireNonNull(clock, "clock");
    if (resolved == Acceleration.AUTO) {
      throw new IllegalArgumentException("resolved acceleration must be KVM or TCG");
    }
    return new InMemoryHypervisor(clock, resolved);
  }

  /** Makes the next call of {@code operation} (e.g. {@code "start"}) throw; calls add up. */
  public void failNext(String operation) {
    synchronized (lock) {
      failures.merge(operation, 1, Integer::sum);
    }
  }

  /**
   * Simulates losing the connection to the hypervisor: publishes {@link HypervisorEvent.Type#CONNECTION_LOST}, then
   * loses every event until {@link #reconnect()} (operations keep working, as another client's would).
   */
  public void disconnect() {
    publish(List.of(new HypervisorEvent(HypervisorEvent.Type.CONNECTION_LOST, null, clock.instant(), "")));
    synchronized (lock) {
      disconnected = true;
    }
  }

  /** Ends a {@link #disconnect()}: publishes {@link HypervisorEvent.Type#RECONNECTED}; nothing lost is replayed. */
  public void reconnect() {
    synchronized (lock) {
      disconnected = false;
    }
    publish(List.of(new HypervisorEvent(HypervisorEvent.Type.RECONNECTED, null, clock.instant(), "")));
  }

  /** Makes the guest of a defined domain ignore graceful shutdown requests, so stops are forced. */
  public void ignoreShutdown(String name) {
    synchronized (lock) {
      require("ignoreShutdown", name).ignoresShutdown = true;
    }
  }

  /** Simulates a guest crash of a running domain: it becomes {@link DomainState#CRASHED}. */
  public void crash(String name) {
    List<HypervisorEvent> ev = new ArrayList<>();
    synchronized (lock) {
      Dom d = require("crash", name);
      if (!d.state.isActive()) {
        throw new BackendException("crash", name, OPERATION_INVALID, "domain is not running", null);
      }
      d.state = DomainState.CRASHED;
      d.startedAt = null;
      d.stopDisplay();
      ev.add(event(HypervisorEvent.Type.CRASHED, name, "PANICKED"));
      ev.add(event(HypervisorEvent.Type.STOPPED, name, "CRASHED"));
    }
    publish(ev);
  }

  /**
   * Simulates a running guest powering itself off (ACPI power-off from inside, e.g. {@code poweroff}): the domain
   * is shut off, with {@link HypervisorEvent.Type#SHUTTING_DOWN} and a {@code STOPPED} event whose detail is
   * {@code SHUTDOWN}, as libvirt reports it.
   */
  public void guestPowersOff(String name) {
    stopBehindTheBack(name, "guestPowersOff", List.of(HypervisorEvent.Type.SHUTTING_DOWN), "SHUTDOWN");
  }

  /**
   * Simulates the emulator process of a running domain dying (e.g. QEMU killed with SIGKILL): the domain is shut
   * off with a {@code STOPPED} event whose detail is {@code FAILED}, as libvirt reports it.
   */
  public void emulatorDies(String name) {
    stopBehindTheBack(name, "emulatorDies", List.of(), "FAILED");
  }

  /** Simulates a running guest resetting itself (a reboot from inside, or a kernel panic with {@code panic=-1}). */
  public void guestResets(String name) {
    List<HypervisorEvent> ev = new ArrayList<>();
    synchronized (lock) {
      Dom d = require("guestResets", name);
      if (d.state != DomainState.RUNNING) {
        throw new BackendException("guestResets", name, OPERATION_INVALID, "domain is not running", null);
      }
      ev.add(event(HypervisorEvent.Type.REBOOTED, name, ""));
    }
    publish(ev);
  }

  private void stopBehindTheBack(String name, String op, List<HypervisorEvent.Type> before, String detail) {
    List<HypervisorEvent> ev = new ArrayList<>();
    synchronized (lock) {
      Dom d = require(op, name);
      if (!d.state.isActive()) {
        throw new BackendException(op, name, OPERATION_INVALID, "domain is not running", null);
      }
      d.state = DomainState.SHUT_OFF;
      d.startedAt = null;
      before.forEach(t -> ev.add(event(t, name, "")));
      ev.add(event(HypervisorEvent.Type.STOPPED, name, detail));
    }
    publish(ev);
  }

  /**
   * Simulates the guest writing to its serial console: appended to the spec's serial log file when it has one
   * (as a real emulator would), otherwise kept in memory.
   */
  public void guestPrints(String name, String text) {
    Path log;
    synchronized (lock) {
      Dom d = require("guestPrints", name);
      log = d.spec.serialLog();
      if (log == null) {
        d.console.append(text);
        return;
      }
    }
    try {
      Files.writeString(log, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public HypervisorInfo info() {
    return new HypervisorInfo("memory:///", "in-memory", "1", resolved);
  }

  @Override
  public DomainInfo define(DomainSpec spec) {
    Objects.requireNonNull(spec, "spec");
    DomainSpec effective =
        spec.acceleration() == Acceleration.AUTO ? spec.withAcceleration(resolved) : spec;
    List<HypervisorEvent> ev = new ArrayList<>();
    DomainInfo result;
    synchronized (lock) {
      checkOpen();
      injected("define", spec.name());
      if (spec.boot() instanceof DomainBoot.Kernel k) {
        requireFile("define", spec.name(), k.kernel(), "kernel");
        if (k.initrd() != null) {
          requireFile("define", spec.name(), k.initrd(), "initrd");
        }
      }
      Dom d = domains.get(spec.name());
      if (d == null) {
        d = new Dom(effective);
        domains.put(spec.name(), d);
        ev.add(event(HypervisorEvent.Type.DEFINED, spec.name(), "ADDED"));
      } else {
        if (!d.spec.metadata().owner().equals(spec.metadata().owner())) {
          throw new BackendException("define", spec.name(), DOM_EXIST,
              "a domain of that name belongs to owner '" + d.spec.metadata().owner() + "'", null);
        }
        if (!d.spec.equals(effective)) {
          d.spec = effective;
          ev.add(event(HypervisorEvent.Type.DEFINED, spec.name(), "UPDATED"));
        }
      }
      result = snapshot(spec.name(), d);
    }
    publish(ev);
    return result;
  }

  @Override
  public void start(String name) {
    List<HypervisorEvent> ev = new ArrayList<>();
    synchronized (lock) {
      checkOpen();
      Dom d = require("start", name);
      injected("start", name);
      if (d.state.isActive()) {
        return;
      }
      for (dev.pods.spi.DomainFilesystem f : d.spec.filesystems()) {
        if (!java.nio.file.Files.isDirectory(f.source())) {
          throw new dev.pods.BackendException("start", name, -1, "shared folder " + f.source() + " is not a folder",
              null);
        }
      }
      for (DomainDisk disk : d.spec.disks()) {
        requireFile("start", name, disk.path(), "disk");
      }
      if (d.spec.seedIso() != null) {
        requireFile("start", name, d.spec.seedIso(), "seed ISO");
      }
      if (d.spec.vncListen() != null) {
        try {
          d.display = FakeDisplay.start(name, d.spec.vncListen(), d.spec.vncPassword());
        } catch (java.io.IOException e) {
          throw new BackendException("start", name, -1, "cannot open the VNC display on " + d.spec.vncListen()
              + ": " + e.getMessage(), e);
        }
      }
      d.state = DomainState.RUNNING;
      d.startedAt = clock.instant();
      ev.add(event(HypervisorEvent.Type.STARTED, name, "BOOTED"));
    }
    publish(ev);
  }

  @Override
  public StopOutcome stop(String name, Duration grace) {
    Objects.requireNonNull(grace, "grace");
    List<HypervisorEvent> ev = new ArrayList<>();
    StopOutcome outcome;
    synchronized (lock) {
      checkOpen();
      Dom d = domains.get(name);
      if (d == null || !d.state.isActive()) {
        return StopOutcome.ALREADY_STOPPED;
      }
      injected("stop", name);
      boolean graceful = !d.ignoresShutdown && !grace.isZero() && !grace.isNegative();
      if (graceful) {
        ev.add(event(HypervisorEvent.Type.SHUTTING_DOWN, name, "GUEST"));
      }
      d.state = DomainState.SHUT_OFF;
      d.startedAt = null;
      d.stopDisplay();
      ev.add(event(HypervisorEvent.Type.STOPPED, name, graceful ? "SHUTDOWN" : "DESTROYED"));
      outcome = graceful ? StopOutcome.GRACEFUL : StopOutcome.FORCED;
    }
    publish(ev);
    return outcome;
  }

  @Override
  public void reboot(String name) {
    List<HypervisorEvent> ev = new ArrayList<>();
    synchronized (lock) {
      checkOpen();
      Dom d = require("reboot", name);
      injected("reboot", name);
      if (d.state != DomainState.RUNNING) {
        throw new BackendException("reboot", name, OPERATION_INVALID, "domain is not running", null);
      }
      if (!d.ignoresShutdown) {
        ev.add(event(HypervisorEvent.Type.REBOOTED, name, ""));
      }
    }
    publish(ev);
  }

  @Override
  public void destroy(String name) {
    List<HypervisorEvent> ev = new ArrayList<>();
    synchronized (lock) {
      checkOpen();
      Dom d = domains.get(name);
      if (d == null || !d.state.isActive()) {
        return;
      }
      injected("destroy", name);
      d.state = DomainState.SHUT_OFF;
      d.startedAt = null;
      d.stopDisplay();
      ev.add(event(HypervisorEvent.Type.STOPPED, name, "DESTROYED"));
    }
    publish(ev);
  }

  @Override
  public void undefine(String name) {
    List<HypervisorEvent> ev = new ArrayList<>();
    synchronized (lock) {
      checkOpen();
      Dom d = domains.get(name);
      if (d == null) {
        return;
      }
      injected("undefine", name);
      if (d.state.isActive()) {
        ev.add(event(HypervisorEvent.Type.STOPPED, name, "DESTROYED"));
      }
      d.stopDisplay();
      domains.remove(name);
      ev.add(event(HypervisorEvent.Type.UNDEFINED, name, "REMOVED"));
    }
    publish(ev);
  }

  @Override
  public DomainState state(String name) {
    synchronized (lock) {
      checkOpen();
      Dom d = domains.get(name);
      return d == null ? DomainState.MISSING : d.state;
    }
  }

  @Override
  public Optional<DomainInfo> find(String name) {
    synchronized (lock) {
      checkOpen();
      Dom d = domains.get(name);
      return d == null ? Optional.empty() : Optional.of(snapshot(name, d));
    }
  }

  @Override
  public List<DomainInfo> listAll() {
    synchronized (lock) {
      checkOpen();
      List<DomainInfo> out = new ArrayList<>();
      domains.forEach((n, d) -> out.add(snapshot(n, d)));
      return out;
    }
  }

  @Override
  public Optional<java.net.InetSocketAddress> vncDisplay(String name) {
    synchronized (lock) {
      checkOpen();
      Dom d = require("vncDisplay", name);
      return d.display == null ? Optional.empty() : Optional.of(d.display.address());
    }
  }

  @Override
  public HypervisorStats stats(String name) {
    synchronized (lock) {
      checkOpen();
      Dom d = require("stats", name);
      Instant started = d.startedAt;
      if (!d.state.isActive() || started == null) {
        throw new BackendException("stats", name, OPERATION_INVALID, "domain is not running", null);
      }
      Instant now = clock.instant();
      long kib = d.spec.memoryMib() * 1024;
      long cpu = Math.max(0, Duration.between(started, now).toNanos());
      return new HypervisorStats(name, now, d.spec.vcpus(), cpu, kib, kib, 0, 0, 0, 0);
    }
  }

  @Override
  public String consoleOutput(String name) {
    Path log;
    synchronized (lock) {
      checkOpen();
      Dom d = require("consoleOutput", name);
      log = d.spec.serialLog();
      if (log == null) {
        return d.console.toString();
      }
    }
    try {
      return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new BackendException("consoleOutput", name, -1, "cannot read " + log + ": " + e, e);
    }
  }

  @Override
  public Subscription subscribe(Consumer<HypervisorEvent> listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      domains.values().forEach(Dom::stopDisplay); // no emulator runs beyond the fake: its displays end with it
    }
    listeners.clear();
  }

  /** Names of the defined domains, in order (for tests). */
  public Set<String> domainNames() {
    synchronized (lock) {
      return new HashSet<>(domains.keySet());
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("hypervisor is closed");
    }
  }

  private Dom require(String op, String name) {
    Dom d = domains.get(name);
    if (d == null) {
      throw new BackendException(op, name, NO_DOMAIN, "no domain with matching name '" + name + "'", null);
    }
    return d;
  }

  private void injected(String op, String name) {
    Integer n = failures.get(op);
    if (n != null) {
      if (n == 1) {
        failures.remove(op);
      } else {
        failures.put(op, n - 1);
      }
      throw new BackendException(op, name, INJECTED, "injected failure", null);
    }
  }

  private static void requireFile(String op, String name, Path p, String what) {
    if (!Files.isRegularFile(p)) {
      throw new BackendException(op, name, NO_KERNEL, what + " '" + p + "' does not exist", null);
    }
  }

  private DomainInfo snapshot(String name, Dom d) {
    return new DomainInfo(name, d.state, d.spec);
  }

  private HypervisorEvent event(HypervisorEvent.Type t, String name, String detail) {
    return new HypervisorEvent(t, name, clock.instant(), detail);
  }

  private void publish(List<HypervisorEvent> events) {
    synchronized (lock) {
      if (disconnected) {
        return;
      }
    }
    for (HypervisorEvent e : events) {
      for (Consumer<HypervisorEvent> l : listeners) {
        try {
          l.accept(e);
        } catch (RuntimeException ex) {
          LOG.warn("hypervisor event listener failed on {}", e, ex);
        }
      }
    }
  }
}
