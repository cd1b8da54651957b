package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BackendException;
import dev.pods.ImagePolicy;
import dev.pods.kvm.internal.Libvirt;
import dev.pods.spi.Acceleration;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.HypervisorEvent;
import dev.pods.spi.HypervisorStats;
import dev.pods.spi.StopOutcome;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real guests under libvirt: the tiny guest reads its seed and runs its hook, the full guest runs cloud-init,
 * stop/reboot/destroy work, bad input fails clearly, leftovers are reaped, and nothing of a test remains.
 */
@Tag("system")
class KvmSystemTest {
  private static final String PREFIX = "podst-" + UUID.randomUUID().toString().substring(0, 8) + "-";
  private static final String OWNER = Reaper.ownerLabel(SystemTests.OWNER_PREFIX, PREFIX);
  private static GuestImages images;
  private static GuestImages.Tiny tiny;
  private static DiskImages disks;
  private LibvirtHypervisor hv;

  @BeforeAll
  static void host() {
    LibvirtAvailability.assumeSystem();
    images = GuestImages.configured();
    tiny = images.tiny();
    disks = SystemTests.disks();
  }

  @BeforeEach
  void open() {
    hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    // leftovers of earlier test runs whose JVM died: their owner label names a dead pid
    Reaper.reap(hv, disks, Reaper.deadProcess(SystemTests.OWNER_PREFIX));
    // folders of test domains that never got defined (a run died in between); 10 min > any test's set-up
    Reaper.reapFolders(hv, disks, n -> n.startsWith("podst-"), Duration.ofMinutes(10));
  }

  @AfterEach
  void cleanUp() throws Exception {
    try {
      for (var i : hv.list(OWNER)) {
        hv.undefine(i.name());
        disks.deleteInstance(i.name());
      }
      assertThat(hv.list(OWNER)).isEmpty();
      SystemTests.deleteInstances(disks, PREFIX);
    } finally {
      hv.close();
    }
  }

  @AfterAll
  static void nothingLeft() throws Exception {
    if (disks == null) {
      return;
    }
    try (LibvirtHypervisor h = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      assertThat(h.listAll()).noneMatch(i -> i.name().startsWith(PREFIX));
    }
    assertThat(SystemTests.instancesLeft(disks, PREFIX)).isZero();
  }

  private DomainSpec.Builder tinySpec(String suffix, Path seed, String extraCmdline) {
    String name = PREFIX + suffix;
    return DomainSpec.builder(name)
        .metadata(new DomainMetadata(OWNER, "sys", suffix, 0, "h"))
        .memoryMib(128)
        .boot(DomainBoot.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline(extraCmdline)))
        .seedIso(seed)
        .serialLog(disks.instanceDir(name).resolve("console.log"));
  }

  private Path seed(String suffix, String marker, String agent) {
    String name = PREFIX + suffix;
    SeedIso.Builder b = SeedIso.builder(name).file("pods-marker", marker);
    if (agent != null) {
      b.file(SeedIso.AGENT_FILE, agent.getBytes(StandardCharsets.UTF_8), true);
    }
    return b.build().writeTo(disks.instanceDir(name).resolve("seed.iso"));
  }

  @Test
  void tinyGuestPrintsTheMarkerFromItsSeedAndRunsItsHook() throws Exception {
    String token = UUID.randomUUID().toString();
    Path seed = seed("tiny", token, "echo HOOK-SH $(hostname)\npython3 -c 'print(\"HOOK-PY\", 6 * 7)'\n");
    DomainSpec s = tinySpec("tiny", seed, "").build();
    List<HypervisorEvent> events = new CopyOnWriteArrayList<>();
    hv.subscribe(events::add);
    long t0 = System.nanoTime();
    hv.define(s);
    hv.start(s.name());
    String log = SystemTests.awaitConsole(hv, s.name(), "PODS-MARKER " + token, Duration.ofSeconds(180));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(log).contains("PODS-SEED " + s.name());
    log = SystemTests.awaitConsole(hv, s.name(), "HOOK-PY 42", Duration.ofSeconds(60));
    assertThat(log).contains("HOOK-SH " + s.name());
    System.out.printf("tiny guest: define->marker %d ms (%s)%n", ms, hv.autoAcceleration());

    HypervisorStats st = hv.stats(s.name());
    assertThat(st.cpuTimeNanos()).isPositive();
    assertThat(st.maxMemoryKib()).isEqualTo(128 * 1024);
    assertThat(st.diskReadBytes()).isPositive();

    assertThat(hv.stop(s.name(), Duration.ofSeconds(30))).isEqualTo(StopOutcome.GRACEFUL);
    assertThat(hv.consoleOutput(s.name())).contains("PODS-POWEROFF");
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
    assertThat(events).filteredOn(e -> s.name().equals(e.domain())).extracting(HypervisorEvent::type)
        .containsSubsequence(HypervisorEvent.Type.DEFINED, HypervisorEvent.Type.STARTED,
            HypervisorEvent.Type.STOPPED);
  }

  @Test
  void rebootBootsTheGuestAgainAndDestroyPullsThePlug() throws Exception {
    DomainSpec s = tinySpec("reboot", seed("reboot", "r", null), "").build();
    hv.define(s);
    hv.start(s.name());
    SystemTests.awaitConsole(hv, s.name(), "PODS-READY", Duration.ofSeconds(180));
    hv.reboot(s.name());
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (SystemTests.count(hv.consoleOutput(s.name()), "PODS-READY") < 2) {
      assertThat(System.nanoTime()).as("second boot within 180 s").isLessThan(deadline);
      Thread.sleep(100);
    }
    assertThat(hv.state(s.name())).isEqualTo(DomainState.RUNNING);
    hv.destroy(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
    hv.undefine(s.name());
    disks.deleteInstance(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.MISSING);
    assertThat(Files.exists(disks.root().resolve("instances").resolve(DiskImages.encode(s.name())))).isFalse();
  }

  @Test
  void aGuestIgnoringAcpiIsForcedOffAfterTheGracePeriod() throws Exception {
    DomainSpec s = tinySpec("deaf", seed("deaf", "d", null), "pods.acpi=off").build();
    hv.define(s);
    hv.start(s.name());
    SystemTests.awaitConsole(hv, s.name(), "PODS-READY", Duration.ofSeconds(180));
    long t0 = System.nanoTime();
    assertThat(hv.stop(s.name(), Duration.ofSeconds(3))).isEqualTo(StopOutcome.FORCED);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void fullGuestAppliesCloudInitUserData() throws Exception {
    GuestImages.Full full = images.full();
    String name = PREFIX + "full";
    String token = UUID.randomUUID().toString();
    Path dir = disks.instanceDir(name);
    Path base = disks.base(ImageSource.file(full.disk()), p -> {});
    Path root = disks.overlay(base, dir.resolve("root.qcow2"), 4L << 30);
    String userData = "#cloud-config\n"
        + "write_files:\n"
        + "  - path: /etc/pods-test.txt\n"
        + "    content: \"" + token + "\"\n"
        + "runcmd:\n"
        + "  - [ sh, -c, 'echo \"PODS-CLOUDINIT $(cat /etc/pods-test.txt) $(hostname) "
        + "$(df -m / | tail -1 | tr -s \" \" | cut -d\" \" -f2)\" > /dev/ttyS0' ]\n"
        + "growpart: {mode: 'off'}\n"
        + "resize_rootfs: true\n";
    Path seed = SeedIso.builder(name).hostname("full-guest").userData(userData).build()
        .writeTo(dir.resolve("seed.iso"));
    DomainSpec s = DomainSpec.builder(name)
        .metadata(new DomainMetadata(OWNER, "sys", "full", 0, "h"))
        .memoryMib(256)
        .boot(DomainBoot.kernel(full.kernel(), full.initrd(), full.cmdline()))
        .disk(DomainDisk.qcow2(root))
        .seedIso(seed)
        .serialLog(dir.resolve("console.log"))
        .build();
    hv.define(s);
    hv.start(s.name());
    String log = SystemTests.awaitConsole(hv, name, "PODS-CLOUDINIT " + token, Duration.ofSeconds(300));
    assertThat(log).contains("PODS-CLOUDINIT " + token + " full-guest");
    hv.stop(name, Duration.ofSeconds(30));
    assertThat(hv.state(name)).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void aDiskImageFromAnAllowedFolderIsCachedUnreadableByOthersAndBacksAGuestsDisk(@TempDir Path allowed)
      throws Exception {
    String token = "PODS-BASE-" + UUID.randomUUID().toString().substring(0, 8);
    byte[] content = new byte[1 << 20];
    byte[] t = token.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(t, 0, content, 0, t.length);
    Path image = Files.write(allowed.resolve("base.raw"), content);
    GuestCatalog catalog = GuestCatalog.of(images,
        DiskImages.at(disks.root(), ImagePolicy.builder().allowFolder(allowed).build()));
    Path base = catalog.resolve(image.toString()).baseDisk();
    try {
      PosixFileAttributes a = Files.readAttributes(base, PosixFileAttributes.class);
      assertThat(a.permissions()).extracting(Object::toString).containsExactlyInAnyOrder("OWNER_READ", "GROUP_READ");
      assertThat(a.group().getName()).isEqualTo("kvm");
      assertThatThrownBy(() -> catalog.resolve("/etc/shadow")).hasMessageContaining("(rule: allowed host folders)");

      // QEMU (libvirt's emulator user, group kvm) reads the base through the guest's overlay
      String name = PREFIX + "base";
      Path overlay = disks.overlay(base, disks.instanceDir(name).resolve("root.qcow2"), 0);
      Path seed = seed("base", "b", "echo GOT-$(head -c " + t.length + " /dev/vda)\n");
      DomainSpec s = tinySpec("base", seed, "").disk(DomainDisk.qcow2(overlay)).build();
      hv.define(s);
      hv.start(s.name());
      SystemTests.awaitConsole(hv, s.name(), "GOT-" + token, Duration.ofSeconds(180));
    } finally {
      // the test's own base (unique content) leaves the shared cache with its index entry
      try (var refs = Files.list(base.getParent())) {
        for (Path r : refs.filter(r -> r.toString().endsWith(".ref")).toList()) {
          if (Files.readString(r).trim().equals(base.getFileName().toString())) {
            Files.delete(r);
          }
        }
      }
      Files.deleteIfExists(base);
    }
  }

  @Test
  void aMissingBaseImageFailsClearlyAndLeavesNothing() throws Exception {
    Path missing = disks.instanceDir(PREFIX + "nobase").resolve("absent-base.qcow2");
    assertThatThrownBy(() -> disks.base(ImageSource.file(missing), p -> {}))
        .isInstanceOf(BackendException.class).hasMessageContaining("absent-base.qcow2")
        .hasMessageContaining("does not exist");
    Path overlay = disks.instanceDir(PREFIX + "nobase").resolve("root.qcow2");
    assertThatThrownBy(() -> disks.overlay(missing, overlay, 0)).isInstanceOf(BackendException.class);
    assertThat(Files.exists(overlay)).isFalse();
  }

  @Test
  void aBadKernelPathFailsAtDefineAndLeavesNothing() {
    DomainSpec s = tinySpec("badkernel", null, "")
        .boot(DomainBoot.kernel(Path.of("/nonexistent/vmlinuz"), tiny.initrd(), "")).build();
    assertThatThrownBy(() -> hv.define(s))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("define domain '" + s.name() + "'")
        .hasMessageContaining("/nonexistent/vmlinuz");
    assertThat(hv.state(s.name())).isEqualTo(DomainState.MISSING);
  }

  @Test
  void aDuplicateNameOfAnotherOwnerIsRefused() {
    DomainSpec theirs = tinySpec("dup", null, "").build();
    hv.define(theirs);
    DomainSpec mine = theirs.toBuilder()
        .metadata(new DomainMetadata(OWNER + "-someone-else", "sys", "dup", 0, "h")).build();
    assertThatThrownBy(() -> hv.define(mine))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("belongs to owner")
        .satisfies(e -> assertThat(((BackendException) e).code()).isEqualTo(Libvirt.DOM_EXIST));
    assertThat(hv.find(theirs.name()).orElseThrow().metadata().owner()).isEqualTo(OWNER);
  }

  @Test
  void aDomainThatFailsToStartReportsLibvirtsErrorAndCanBeRemoved() throws Exception {
    String name = PREFIX + "nostart";
    Path dir = disks.instanceDir(name);
    DomainSpec s = tinySpec("nostart", null, "")
        .disk(DomainDisk.qcow2(dir.resolve("missing-overlay.qcow2"))).build();
    hv.define(s);
    assertThatThrownBy(() -> hv.start(name))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("start domain '" + name + "' failed")
        .hasMessageContaining("missing-overlay.qcow2")
        .satisfies(e -> assertThat(((BackendException) e).code()).isPositive());
    assertThat(hv.state(name)).isEqualTo(DomainState.SHUT_OFF);
    assertThat(Path.of("/run/libvirt/qemu/" + name + ".pid")).doesNotExist();
    hv.undefine(name);
    disks.deleteInstance(name);
    assertThat(hv.state(name)).isEqualTo(DomainState.MISSING);
    assertThat(dir).doesNotExist();
  }

  @Test
  void leftoversOfACrashedRunAreReaped() throws Exception {
    // a run that died: its owner label carries the pid of a process that has exited
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    String deadOwner = SystemTests.OWNER_PREFIX + p.pid() + "-crashed";
    String name = PREFIX + "orphan";
    Path seed = seed("orphan", "o", null);
    DomainSpec s = tinySpec("orphan", seed, "")
        .metadata(new DomainMetadata(deadOwner, "sys", "orphan", 0, "h")).build();
    hv.define(s);
    hv.start(s.name());
    DomainSpec alive = tinySpec("alive", null, "").build();
    hv.define(alive);
    List<String> reaped = Reaper.reap(hv, disks, Reaper.deadProcess(SystemTests.OWNER_PREFIX));
    assertThat(reaped).contains(name).doesNotContain(alive.name());
    assertThat(hv.state(name)).isEqualTo(DomainState.MISSING);
    assertThat(disks.root().resolve("instances").resolve(DiskImages.encode(name))).doesNotExist();
    assertThat(hv.state(alive.name())).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void aKvmProbeDomainLeftRunningByADeadJvmIsReaped() throws Exception {
    // what a JVM that died mid-probe leaves: a transient probe domain that keeps running (here under TCG)
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    String tag = PREFIX.substring("podst-".length());
    String dead = Reaper.PROBE_OWNER_PREFIX + p.pid() + "-" + tag + "dead";
    String live = Reaper.PROBE_OWNER_PREFIX + ProcessHandle.current().pid() + "-" + tag + "live";
    Path deadLog = Files.createTempFile(disks.root(), ".probe-", ".log");
    Path liveLog = Files.createTempFile(disks.root(), ".probe-", ".log");
    org.libvirt.Connect c = new org.libvirt.Connect(LibvirtHypervisor.configuredUri());
    try {
      c.domainCreateXML(dev.pods.kvm.internal.KvmProbe.xml(dead, "qemu", tiny.kernel(), deadLog), 0);
      c.domainCreateXML(dev.pods.kvm.internal.KvmProbe.xml(live, "qemu", tiny.kernel(), liveLog), 0);
      assertThat(hv.state(dead)).isEqualTo(DomainState.RUNNING);

      List<String> reaped = Reaper.reapProbes(hv);

      assertThat(reaped).contains(dead).doesNotContain(live);
      assertThat(hv.state(dead)).isEqualTo(DomainState.MISSING);
      assertThat(hv.state(live)).isEqualTo(DomainState.RUNNING);
      // the probe's own sweep before it boots leaves a live JVM's probe alone as well
      assertThat(dev.pods.kvm.internal.KvmProbe.reapOrphans(c)).doesNotContain(live);
    } finally {
      hv.destroy(live);
      hv.destroy(dead);
      c.close();
      Files.deleteIfExists(deadLog);
      Files.deleteIfExists(liveLog);
    }
    assertThat(hv.state(live)).isEqualTo(DomainState.MISSING);
  }

  @Test
  void foldersOfMissingDomainsAreReapedOnceOld() throws Exception {
    Path stale = disks.instanceDir(PREFIX + "stale");
    Files.writeString(stale.resolve("console.log"), "x");
    Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.fromMillis(
        System.currentTimeMillis() - Duration.ofHours(2).toMillis()));
    Path fresh = disks.instanceDir(PREFIX + "fresh");
    DomainSpec used = tinySpec("used", null, "").build();
    hv.define(used);
    Path usedDir = disks.instanceDir(used.name());
    Files.setLastModifiedTime(usedDir, java.nio.file.attribute.FileTime.fromMillis(
        System.currentTimeMillis() - Duration.ofHours(2).toMillis()));
    List<String> reaped = Reaper.reapFolders(hv, disks, n -> n.startsWith(PREFIX), Duration.ofHours(1));
    assertThat(reaped).containsExactly(PREFIX + "stale");
    assertThat(stale).doesNotExist();
    assertThat(fresh).exists();
    assertThat(usedDir).exists();
  }

  @Test
  void theChosenAccelerationBootsAGuest() throws Exception {
    Path cache = Files.createTempDirectory(disks.root(), ".probe-");
    org.libvirt.Connect c = new org.libvirt.Connect(LibvirtHypervisor.configuredUri());
    try {
      Acceleration probed = dev.pods.kvm.internal.KvmProbe.probe(c, tiny.kernel(), cache, Duration.ofSeconds(8));
      System.out.println("KVM probe on this host: " + probed);
      // the probe ran to a verdict here (KVM boots the kernel, or TCG does and KVM does not): cached under this
      // host's kernel release and QEMU version
      String key = dev.pods.kvm.internal.KvmProbe.cacheKey(Long.toString(c.getVersion()),
          Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim(), tiny.kernel(), Files.size(tiny.kernel()));
      assertThat(dev.pods.kvm.internal.KvmProbe.cached(cache, key)).isEqualTo(probed);
      DomainSpec s = tinySpec("accel", seed("accel", "a", null), "").acceleration(probed).build();
      assertThat(hv.define(s).spec().acceleration()).isEqualTo(probed);
      hv.start(s.name());
      SystemTests.awaitConsole(hv, s.name(), "PODS-READY", Duration.ofSeconds(180));
    } finally {
      c.close();
      DiskImages.deleteTree(cache);
    }
  }

  @Test
  void aDataDiskSurvivesTheRecreationOfItsInstance() throws Exception {
    String disk = PREFIX + "data";
    Path data = disks.dataDisk(disk, 64L << 20);
    String agent = "if [ \"$(head -c 5 /dev/vda)\" = PODS1 ]; then echo DATA-FOUND; "
        + "else printf PODS1 > /dev/vda; sync; echo DATA-WRITTEN; fi\n";
    try {
      for (String expected : List.of("DATA-WRITTEN", "DATA-FOUND")) {
        // each round is a fresh instance (new definition, folder and seed) with the same data disk, its only
        // disk, so the guest sees it as /dev/vda
        Path seed = seed("data", "d", agent);
        DomainSpec s = tinySpec("data", seed, "").disk(DomainDisk.qcow2(data)).build();
        hv.define(s);
        hv.start(s.name());
        SystemTests.awaitConsole(hv, s.name(), expected, Duration.ofSeconds(180));
        hv.undefine(s.name());
        disks.deleteInstance(s.name());
      }
      assertThat(data).exists();
    } finally {
      disks.deleteDataDisk(disk);
    }
    assertThat(data).doesNotExist();
  }

  @Test
  void vncListensOnTheGivenLoopbackAddress() throws Exception {
    DomainSpec s = tinySpec("vnc", null, "").vncListen("127.0.0.1").build();
    hv.define(s);
    hv.start(s.name());
    org.libvirt.Connect c = new org.libvirt.Connect(LibvirtHypervisor.configuredUri());
    String xml;
    try {
      xml = c.domainLookupByName(s.name()).getXMLDesc(0);
    } finally {
      c.close();
    }
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("<graphics type='vnc' port='(\\d+)'[^>]*listen='127.0.0.1'").matcher(xml);
    assertThat(m.find()).as("live graphics element in %s", xml).isTrue();
    int port = Integer.parseInt(m.group(1));
    try (java.net.Socket sock = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      sock.setSoTimeout(10_000);
      byte[] banner = sock.getInputStream().readNBytes(12);
      assertThat(new String(banner, StandardCharsets.US_ASCII)).startsWith("RFB 003.");
    }
  }
}
