package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BackendException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Hypervisor} implementation must show. Subclasses provide a fresh hypervisor and
 * bootable specs; the suite names every domain with a per-run prefix and removes what it defined.
 *
 * <p>Published in pods-core's test-jar; the in-memory fake, libvirt's test driver and real QEMU run it.
 */
public abstract class HypervisorContract {
  /** Per-run prefix of every domain name, so leftovers are recognisable and reapable. */
  protected final String prefix = "podst-" + UUID.randomUUID().toString().substring(0, 8) + "-";
  /** The owner label of this run's domains: {@code podst-owner-<pid>-<random>}, so a reaper can tell dead runs. */
  protected final String owner =
      "podst-owner-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);

  protected Hypervisor hv;
  private final List<Hypervisor.Subscription> subscriptions = new ArrayList<>();

  /** A new hypervisor for one test; closed by the suite. */
  protected abstract Hypervisor createHypervisor() throws Exception;

  /**
   * A spec that {@link Hypervisor#start} can boot on this implementation, named {@code name}, owned by
   * {@code ownerLabel}. Its serial log must be a file under {@link #workDir()}, not yet existing.
   */
  protected abstract DomainSpec.Builder bootableSpec(String name, String ownerLabel) throws Exception;

  /** A folder for this test's files (logs); removed by the subclass. */
  protected abstract Path workDir();

  /** How long events may take to arrive. */
  protected Duration eventTimeout() {
    return Duration.ofSeconds(10);
  }

  /** Whether started domains really run a VNC display here (libvirt's test driver runs no emulator). */
  protected boolean runsDisplays() {
    return true;
  }

  /** Whether started domains really share host folders here (libvirt's test driver runs no emulator). */
  protected boolean sharesFolders() {
    return true;
  }

  /** Grace period used for graceful stops in this suite. */
  protected Duration stopGrace() {
    return Duration.ofSeconds(2);
  }

  @BeforeEach
  void openHypervisor() throws Exception {
    hv = createHypervisor();
  }

  @AfterEach
  void removeDomains() {
    subscriptions.forEach(Hypervisor.Subscription::close);
    try {
      for (DomainInfo i : hv.list(owner)) {
        hv.undefine(i.name());
      }
      for (DomainInfo i : hv.listAll()) {
        if (i.name().startsWith(prefix)) {
          hv.undefine(i.name());
        }
      }
      assertThat(hv.list(owner)).isEmpty();
    } finally {
      hv.close();
    }
  }

  protected DomainSpec spec(String suffix) throws Exception {
    return bootableSpec(prefix + suffix, owner).build();
  }

  private BlockingEvents events() {
    BlockingEvents e = new BlockingEvents();
    subscriptions.add(hv.subscribe(e));
    return e;
  }

  @Test
  void defineReturnsTheSpecWithResolvedAcceleration() throws Exception {
    DomainSpec s = spec("def");
    DomainInfo i = hv.define(s);
    assertThat(i.name()).isEqualTo(s.name());
    assertThat(i.state()).isEqualTo(DomainState.SHUT_OFF);
    assertThat(i.spec().acceleration()).isNotEqualTo(Acceleration.AUTO);
    if (s.acceleration() == Acceleration.AUTO) {
      assertThat(i.spec().acceleration()).isEqualTo(hv.info().acceleration());
    }
    assertThat(i.spec()).isEqualTo(s.withAcceleration(i.spec().acceleration()));
    assertThat(hv.find(s.name())).contains(i);
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void sharedFoldersReadBackAsDefinedReadOnlyOrNotAndOutliveTheDomain() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(sharesFolders(), "no folder sharing here");
    Path ro = Files.createDirectories(workDir().resolve("ro"));
    Path rw = Files.createDirectories(workDir().resolve("rw"));
    Files.writeString(ro.resolve("kept.txt"), "host data");
    DomainSpec s = bootableSpec(prefix + "fs", owner)
        .filesystem(new DomainFilesystem(ro, "podsfs0", true))
        .filesystem(new DomainFilesystem(rw, "podsfs1", false)).build();
    DomainInfo i = hv.define(s);
    assertThat(i.spec().filesystems()).containsExactly(new DomainFilesystem(ro, "podsfs0", true),
        new DomainFilesystem(rw, "podsfs1", false));
    assertThat(hv.define(s)).isEqualTo(i);
    hv.start(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.RUNNING);
    assertThat(hv.find(s.name()).orElseThrow().spec().filesystems()).isEqualTo(s.filesystems());
    hv.undefine(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.MISSING);
    assertThat(ro.resolve("kept.txt")).hasContent("host data");
  }

  @Test
  void explicitAccelerationWins() throws Exception {
    DomainSpec s = bootableSpec(prefix + "tcg", owner).acceleration(Acceleration.TCG).build();
    assertThat(hv.define(s).spec().acceleration()).isEqualTo(Acceleration.TCG);
  }

  @Test
  void definingTheSameSpecTwiceYieldsTheSameDomain() throws Exception {
    DomainSpec s = spec("twice");
    DomainInfo first = hv.define(s);
    DomainInfo second = hv.define(s);
    assertThat(second).isEqualTo(first);
    assertThat(hv.list(owner)).extracting(DomainInfo::name).containsExactly(s.name());
  }

  @Test
  void concurrentDefinesOfTheSameSpecYieldOneDomain() throws Exception {
    DomainSpec s = spec("race");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<DomainInfo>> fs = new ArrayList<>();
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      for (int i = 0; i < 4; i++) {
        fs.add(pool.submit(() -> {
          go.await();
          return hv.define(s);
        }));
      }
      go.countDown();
      for (java.util.concurrent.Future<DomainInfo> f : fs) {
        assertThat(f.get().spec()).isEqualTo(s.withAcceleration(f.get().spec().acceleration()));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(hv.list(owner)).extracting(DomainInfo::name).containsExactly(s.name());
  }

  @Test
  void redefiningWithAChangedSpecUpdatesTheDomain() throws Exception {
    DomainSpec s = spec("upd");
    hv.define(s);
    DomainSpec bigger = s.toBuilder().memoryMib(s.memoryMib() + 64).vcpus(2).build();
    hv.define(bigger);
    DomainInfo i = hv.find(s.name()).orElseThrow();
    assertThat(i.spec().memoryMib()).isEqualTo(s.memoryMib() + 64);
    assertThat(i.spec().vcpus()).isEqualTo(2);
    assertThat(hv.list(owner)).hasSize(1);
  }

  @Test
  void defineRefusesADomainOfAnotherOwner() throws Exception {
    DomainSpec mine = spec("taken");
    String other = owner + "-other";
    DomainSpec theirs = bootableSpec(mine.name(), other).build();
    hv.define(theirs);
    try {
      assertThatThrownBy(() -> hv.define(mine))
          .isInstanceOf(BackendException.class)
          .satisfies(e -> {
            BackendException b = (BackendException) e;
            assertThat(b.operation()).isEqualTo("define");
            assertThat(b.domain()).isEqualTo(mine.name());
            assertThat(b.getMessage()).contains(mine.name());
          });
      assertThat(hv.find(mine.name()).orElseThrow().metadata().owner()).isEqualTo(other);
    } finally {
      hv.undefine(mine.name());
    }
  }

  @Test
  void defineRefusesAMissingKernelAndLeavesNothing() throws Exception {
    DomainSpec s = bootableSpec(prefix + "nokernel", owner)
        .boot(DomainBoot.kernel(workDir().resolve("no-such-vmlinuz"), null, "console=ttyS0"))
        .build();
    assertThatThrownBy(() -> hv.define(s))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("no-such-vmlinuz");
    assertThat(hv.state(s.name())).isEqualTo(DomainState.MISSING);
  }

  @Test
  void startRunsTheDomainAndIsIdempotent() throws Exception {
    DomainSpec s = spec("start");
    hv.define(s);
    hv.start(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.RUNNING);
    hv.start(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.RUNNING);
    assertThat(hv.find(s.name()).orElseThrow().state()).isEqualTo(DomainState.RUNNING);
  }

  @Test
  void stopEndsWithTheDomainShutOffAndIsIdempotent() throws Exception {
    DomainSpec s = spec("stop");
    hv.define(s);
    hv.start(s.name());
    StopOutcome o = hv.stop(s.name(), stopGrace());
    assertThat(o).isIn(StopOutcome.GRACEFUL, StopOutcome.FORCED);
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
    assertThat(hv.stop(s.name(), stopGrace())).isEqualTo(StopOutcome.ALREADY_STOPPED);
    assertThat(hv.stop(prefix + "never-defined", stopGrace())).isEqualTo(StopOutcome.ALREADY_STOPPED);
  }

  @Test
  void stopWithoutGraceIsForced() throws Exception {
    DomainSpec s = spec("force");
    hv.define(s);
    hv.start(s.name());
    assertThat(hv.stop(s.name(), Duration.ZERO)).isEqualTo(StopOutcome.FORCED);
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void rebootKeepsTheDomainRunning() throws Exception {
    DomainSpec s = spec("reboot");
    hv.define(s);
    assertThatThrownBy(() -> hv.reboot(s.name()))
        .isInstanceOf(BackendException.class)
        .satisfies(e -> assertThat(((BackendException) e).operation()).isEqualTo("reboot"));
    hv.start(s.name());
    hv.reboot(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.RUNNING);
  }

  @Test
  void destroyPowersOffAndIsANoOpWhenStoppedOrGone() throws Exception {
    DomainSpec s = spec("destroy");
    hv.define(s);
    hv.start(s.name());
    hv.destroy(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
    hv.destroy(s.name());
    hv.destroy(prefix + "never-defined");
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void undefineRemovesEvenARunningDomainAndIsANoOpWhenGone() throws Exception {
    DomainSpec s = spec("undef");
    hv.define(s);
    hv.start(s.name());
    hv.undefine(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.MISSING);
    assertThat(hv.find(s.name())).isEmpty();
    hv.undefine(s.name());
    assertThat(hv.list(owner)).isEmpty();
  }

  @Test
  void operationsOnAMissingDomainFailClearly() {
    String name = prefix + "missing";
    assertThat(hv.state(name)).isEqualTo(DomainState.MISSING);
    assertThat(hv.find(name)).isEmpty();
    assertThatThrownBy(() -> hv.start(name))
        .isInstanceOf(BackendException.class)
        .satisfies(e -> {
          BackendException b = (BackendException) e;
          assertThat(b.operation()).isEqualTo("start");
          assertThat(b.domain()).isEqualTo(name);
          assertThat(b.code()).isGreaterThanOrEqualTo(0);
        });
    assertThatThrownBy(() -> hv.stats(name)).isInstanceOf(BackendException.class);
    assertThatThrownBy(() -> hv.consoleOutput(name)).isInstanceOf(BackendException.class);
  }

  @Test
  void listReturnsOnlyTheOwnersDomainsInNameOrder() throws Exception {
    String other = owner + "-other";
    hv.define(spec("b"));
    hv.define(spec("a"));
    DomainSpec theirs = bootableSpec(prefix + "c", other).build();
    hv.define(theirs);
    try {
      assertThat(hv.list(owner)).extracting(DomainInfo::name).containsExactly(prefix + "a", prefix + "b");
      assertThat(hv.list(other)).extracting(DomainInfo::name).containsExactly(prefix + "c");
      assertThat(hv.listAll()).extracting(DomainInfo::name).contains(prefix + "a", prefix + "b", prefix + "c");
      assertThat(hv.list(owner + "-nobody")).isEmpty();
    } finally {
      hv.undefine(theirs.name());
    }
  }

  @Test
  void metadataSurvivesHostileCharacters() throws Exception {
    String name = prefix + "x'><y&\"z";
    DomainMetadata m = new DomainMetadata(owner, "p\"&<pod>", "a'><x", 7, "sha256:'\"<>&");
    DomainSpec s = bootableSpec(name, owner).metadata(m).build();
    DomainInfo i = hv.define(s);
    assertThat(i.metadata()).isEqualTo(m);
    assertThat(hv.find(name).orElseThrow().spec()).isEqualTo(s.withAcceleration(i.spec().acceleration()));
    assertThat(hv.list(owner)).extracting(DomainInfo::name).containsExactly(name);
  }

  @Test
  void lifecycleEventsArriveInOrder() throws Exception {
    BlockingEvents ev = events();
    DomainSpec s = spec("events");
    hv.define(s);
    hv.start(s.name());
    hv.destroy(s.name());
    hv.undefine(s.name());
    List<HypervisorEvent.Type> types = ev.awaitTypes(s.name(),
        List.of(HypervisorEvent.Type.DEFINED, HypervisorEvent.Type.STARTED, HypervisorEvent.Type.STOPPED,
            HypervisorEvent.Type.UNDEFINED), eventTimeout());
    assertThat(types).containsSubsequence(HypervisorEvent.Type.DEFINED, HypervisorEvent.Type.STARTED,
        HypervisorEvent.Type.STOPPED, HypervisorEvent.Type.UNDEFINED);
  }

  /**
   * A forced power-off tells its cause: the STOPPED event's detail is {@code DESTROYED} (libvirt's stop detail),
   * which the runtime reports as "its domain was destroyed"; the domain is then shut off, not gone.
   */
  @Test
  void destroyIsReportedAsStoppedWithDetailDestroyed() throws Exception {
    BlockingEvents ev = events();
    DomainSpec s = spec("destroyed");
    hv.define(s);
    hv.start(s.name());
    hv.destroy(s.name());
    ev.awaitTypes(s.name(), List.of(HypervisorEvent.Type.STARTED, HypervisorEvent.Type.STOPPED), eventTimeout());
    assertThat(ev.all()).filteredOn(e -> s.name().equals(e.domain()) && e.type() == HypervisorEvent.Type.STOPPED)
        .extracting(HypervisorEvent::detail).containsExactly("DESTROYED");
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void closedSubscriptionsReceiveNothing() throws Exception {
    BlockingEvents ev = events();
    BlockingEvents later = new BlockingEvents();
    Hypervisor.Subscription sub = hv.subscribe(later);
    sub.close();
    sub.close();
    DomainSpec s = spec("unsub");
    hv.define(s);
    ev.awaitTypes(s.name(), List.of(HypervisorEvent.Type.DEFINED), eventTimeout());
    assertThat(later.all()).isEmpty();
  }

  @Test
  void consoleOutputIsTheSerialLog() throws Exception {
    DomainSpec s = spec("console");
    hv.define(s);
    Path log = s.serialLog();
    assertThat(log).isNotNull();
    assertThat(hv.consoleOutput(s.name())).isEmpty();
    Files.writeString(log, "guest says \u00e9 hello\n", StandardCharsets.UTF_8);
    assertThat(hv.consoleOutput(s.name())).isEqualTo("guest says \u00e9 hello\n");
  }

  @Test
  void statsDescribeARunningDomain() throws Exception {
    DomainSpec s = spec("stats");
    hv.define(s);
    assertThatThrownBy(() -> hv.stats(s.name())).isInstanceOf(BackendException.class);
    hv.start(s.name());
    HypervisorStats st = hv.stats(s.name());
    assertThat(st.domain()).isEqualTo(s.name());
    assertThat(st.vcpus()).isEqualTo(s.vcpus());
    assertThat(st.maxMemoryKib()).isEqualTo(s.memoryMib() * 1024);
    assertThat(st.cpuTimeNanos()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void closeIsIdempotent() throws Exception {
    Hypervisor second = createHypervisor();
    second.close();
    second.close();
    assertThat(hv.info().acceleration()).isNotEqualTo(Acceleration.AUTO);
  }

  /** Collects events and waits for them. */
  protected static final class BlockingEvents implements java.util.function.Consumer<HypervisorEvent> {
    private final List<HypervisorEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void accept(HypervisorEvent e) {
      synchronized (this) {
        events.add(e);
        notifyAll();
      }
    }

    public List<HypervisorEvent> all() {
      return List.copyOf(events);
    }

    /** Waits until the domain's events contain {@code expected} as a subsequence; returns its event types. */
    public List<HypervisorEvent.Type> awaitTypes(
        String domain, List<HypervisorEvent.Type> expected, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (this) {
        while (true) {
          List<HypervisorEvent.Type> types = typesOf(e -> domain.equals(e.domain()));
          if (isSubsequence(expected, types)) {
            return types;
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new AssertionError("events of " + domain + " were " + types + ", expected " + expected);
          }
          wait(Math.max(1, left / 1_000_000));
        }
      }
    }

    private List<HypervisorEvent.Type> typesOf(Predicate<HypervisorEvent> p) {
      List<HypervisorEvent.Type> out = new ArrayList<>();
      for (HypervisorEvent e : events) {
        if (p.test(e)) {
          out.add(e.type());
        }
      }
      return out;
    }

    private static boolean isSubsequence(List<HypervisorEvent.Type> want, List<HypervisorEvent.Type> have) {
      int i = 0;
      for (HypervisorEvent.Type t : have) {
        if (i < want.size() && want.get(i) == t) {
          i++;
        }
      }
      return i == want.size();
    }
  }

  /** Creates an empty file (a stand-in kernel or disk for backends that do not boot it). */
  protected static Path touch(Path p) throws IOException {
    Files.createDirectories(p.getParent());
    if (!Files.exists(p)) {
      Files.createFile(p);
    }
    return p;
  }

  @Test
  void aRunningDomainsDisplayGreetsInRfbAndTakesOnlyItsPassword() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(runsDisplays(), "this hypervisor runs no displays");
    DomainSpec s = bootableSpec(prefix + "vnc", owner).vncListen("127.0.0.1").vncPassword("s3cr3t").build();
    DomainInfo defined = hv.define(s);
    assertThat(defined.spec().vncPassword()).isEqualTo("s3cr3t");
    assertThat(hv.find(s.name()).orElseThrow().spec().vncPassword()).isEqualTo("s3cr3t");
    assertThat(hv.vncDisplay(s.name())).isEmpty();
    hv.start(s.name());
    java.net.InetSocketAddress display = hv.vncDisplay(s.name()).orElseThrow();
    assertThat(display.getAddress().isLoopbackAddress()).isTrue();
    dev.pods.testing.VncClient.Handshake h =
        dev.pods.testing.VncClient.handshake(display, "s3cr3t", Duration.ofSeconds(10));
    assertThat(h.greeting()).matches("RFB 003\\.00[3-8]");
    assertThat(h.securityTypes()).containsExactly(dev.pods.testing.VncClient.VNC_AUTH);
    assertThat(h.authenticated()).isTrue();
    assertThat(dev.pods.testing.VncClient.handshake(display, "wrong", Duration.ofSeconds(10)).authenticated())
        .isFalse();
    hv.stop(s.name(), Duration.ZERO);
    assertThat(hv.vncDisplay(s.name())).isEmpty();
  }

  @Test
  void aDomainWithoutDisplayHasNone() throws Exception {
    DomainSpec s = spec("novnc");
    hv.define(s);
    hv.start(s.name());
    assertThat(hv.vncDisplay(s.name())).isEmpty();
    assertThatThrownBy(() -> hv.vncDisplay(prefix + "missing")).isInstanceOf(dev.pods.BackendException.class);
  }
}
