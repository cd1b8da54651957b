package dev.pods.examples;

import static dev.pods.examples.HostTools.assumeVmHost;
import static dev.pods.examples.HostTools.check;
import static dev.pods.examples.HostTools.deleteTree;
import static dev.pods.examples.HostTools.namespaces;
import static dev.pods.examples.HostTools.processesMentioning;
import static dev.pods.examples.HostTools.reapDeadRuns;
import static dev.pods.examples.HostTools.removeNamespace;
import static dev.pods.examples.HostTools.rootLinks;
import static dev.pods.examples.HostTools.run;
import static dev.pods.examples.HostTools.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.ConflictException;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.ExecResult;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.kvm.Reaper;
import dev.pods.net.LinuxNetworkDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pod of two units (one tiny guest each) deployed through {@link PodRuntime} with the real parts: libvirt (TCG
 * here), the Linux network driver, qcow2/ISO instance files and the IMDS in each instance's namespace.
 *
 * <p>Where things are: the VPC bridge lives in this run's host namespace {@code <p>x-host}; the instance namespaces
 * are the driver's ({@code <p>-...}); the units have no public address, so nothing leaves those namespaces. The test
 * sends no traffic itself: {@code exec} goes from the JVM's listener inside each instance namespace to its VM.
 * Every name starts with the per-run prefix {@code pr????}; leftovers of runs whose JVM died are reaped first.
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class PodRuntimeIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-runtime-it");
  private static final Path DISK_ROOT = Path.of(System.getProperty("pods.test.dir", "/var/lib/pods/test"));
  private static final String OWNER_PREFIX = "podsrt-owner-";
  private static final Duration READY = Duration.ofMinutes(5);

  private static Pod pod() {
    return Pod.builder().name("rt")
        .unit(Unit.builder().name("db").image("tiny").memoryMib(192)
            .script(Script.shell(Phase.INITIAL, "echo \"db up as $(hostname)\"\n")).build())
        .unit(Unit.builder().name("web").image("tiny").memoryMib(192)
            .script(Script.shell(Phase.INITIAL, "echo \"web up as $(hostname)\"\n"))
            .script(Script.shell(Phase.RELOAD, "echo \"db at: $(pods get +/unit/db/private_ips)\"\n")).build())
        .build();
  }

  @Test
  void deploysTwoUnitsExecsInBothAndDestroyLeavesNothing() throws Exception {
    assumeVmHost();
    reapDeadRuns(RUN_ROOT, "pr", OWNER_PREFIX, "runtime-it");
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String p = "pr" + "0000".substring(rnd.length()) + rnd;
    Path dir = Files.createDirectories(RUN_ROOT.resolve(p));
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    String hostNs = p + "x-host";
    String owner = Reaper.ownerLabel(OWNER_PREFIX, p);
    DiskImages disks = DiskImages.at(DISK_ROOT);
    GuestImages.configured().tiny(); // built (or found in the cache) before the clock starts; "tiny" is in the catalogue
    List<PodEvent> events = new CopyOnWriteArrayList<>();

    LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    PodRuntime runtime = null;
    Deployment d = null;
    List<String> domains = new ArrayList<>();
    try {
      Reaper.reap(hv, disks, Reaper.deadProcess(OWNER_PREFIX));
      Reaper.reapFolders(hv, disks, n -> n.matches("pr[0-9a-z]{4}-.*"), Duration.ofMinutes(10));
      check(run("ip", "netns", "add", hostNs));
      check(run("ip", "-n", hostNs, "link", "set", "lo", "up"));
      // the local runtime discovers libvirt, the Linux driver and the guest catalogue itself, and owns them; its data
      // folder is this run's
      runtime = PodRuntime.localBuilder()
          .dataDir(dir)
          .hostNamespace(hostNs)
          .owner(owner)
          .namePrefix(p + "-")
          .build();
      assertThatThrownBy(() -> PodRuntime.localBuilder().dataDir(dir).namePrefix(p + "-").build())
          .as("a second runtime on the same data folder")
          .isInstanceOf(ConflictException.class)
          .hasMessageContaining("another runtime (in this process, " + ProcessHandle.current().pid() + ")");

      long t0 = System.nanoTime();
      d = runtime.deploy(pod());
      d.events().subscribe(events::add);
      d.instances().forEach(i -> domains.add(i.domainName()));
      try {
        d.awaitReady(READY);
        System.out.printf("runtime-it: deploy -> ready %d ms (2 tiny guests, TCG)%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        Instance db = d.instance("db", 0);
        Instance web = d.instance("web", 0);
        assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.READY);

        for (Instance i : List.of(db, web)) {
          ExecResult r = i.exec("sh", "-c", "hostname; ip addr show dev eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p'");
          assertThat(r.exitCode()).as("exec in %s: %s", i.name(), r).isZero();
          assertThat(r.stdoutText().lines().map(String::strip).toList())
              .containsExactly(i.name(), i.privateAddress().getHostAddress());
        }
        String dbIp = db.privateAddress().getHostAddress();
        assertThat(web.recentOutput()).contains("web up as web-0", "db at: " + dbIp);
        assertThat(db.recentOutput()).containsExactly("db up as db-0");
        assertThat(events).filteredOn(PodEvent.OutputLine.class::isInstance)
            .extracting(e -> e.instance() + ": " + ((PodEvent.OutputLine) e).line())
            .contains("web-0: db at: " + dbIp, "db-0: db up as db-0");
      } catch (Throwable t) {
        for (Instance i : d.instances()) {
          System.out.println("==== " + i.name() + " " + i.state() + " console ====\n" + i.consoleOutput());
        }
        System.out.println("==== events ====\n" + String.join("\n", events.stream().map(Object::toString).toList()));
        throw t;
      }

      d.destroy();
      d = null;
    } finally {
      List<Throwable> errors = new ArrayList<>();
      if (d != null) {
        step(errors, d::destroy);
      }
      if (runtime != null) {
        step(errors, runtime::close);
      }
      step(errors, () -> {
        try (LinuxNetworkDriver dr = LinuxNetworkDriver.builder().stateDir(dir.resolve("net")).prefix(p).build()) {
          dr.reap(owner);
        }
      });
      step(errors, () -> removeNamespace(hostNs));
      if (errors.isEmpty()) {
        step(errors, () -> deleteTree(dir));
      }
      step(errors, hv::close);
      if (!errors.isEmpty()) {
        AssertionError e = new AssertionError("teardown failed: " + errors);
        errors.forEach(e::addSuppressed);
        throw e;
      }
    }

    try (LibvirtHypervisor h = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      assertThat(h.listAll()).as("domains").noneMatch(i -> i.name().startsWith(p));
    }
    for (String domain : domains) {
      assertThat(Files.exists(dir.resolve("instances").resolve(domain))).as("files of %s", domain).isFalse();
    }
    assertThat(namespaces(p)).as("namespaces").isEmpty();
    assertThat(rootLinks(p)).as("links in the root namespace").isEmpty();
    assertThat(run("nft", "list", "tables").out()).as("nft tables").doesNotContain(p);
    assertThat(processesMentioning(p)).as("processes").isEmpty();
    assertThat(Files.exists(dir)).as("run directory").isFalse();
  }
}
