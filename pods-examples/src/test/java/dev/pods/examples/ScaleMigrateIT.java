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

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.MigrationPlan.Action;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.ExecResult;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.KvmInstanceFiles;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.kvm.Reaper;
import dev.pods.net.LinuxNetworkDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scale and migrate a running pod of tiny guests with the real parts (libvirt under TCG here, the Linux network
 * driver, qcow2/ISO instance files, the IMDS in each instance's namespace, the agent in the guest): {@code lb}
 * lists {@code web}'s addresses in its reload block; web is scaled 1 -> 2, lb's reload script changes (live: same
 * domain, same boot), web's memory changes (recreated one at a time: new domain, initial phase again).
 *
 * <p>Where things are: as in {@link PodRuntimeIT}, the VPC bridge lives in this run's host namespace
 * {@code <p>x-host}, the instance namespaces are the driver's; no unit has a public address and the test sends no
 * traffic itself. Every name starts with the per-run prefix {@code sm????}; leftovers of runs whose JVM died are
 * reaped first. At most three tiny guests run at once.
 */
@Tag("system")
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class ScaleMigrateIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-scale-it");
  private static final Path DISK_ROOT = Path.of(System.getProperty("pods.test.dir", "/var/lib/pods/test"));
  private static final String OWNER_PREFIX = "podssm-owner-";
  private static final Duration READY = Duration.ofMinutes(5);
  private static final Duration RELOAD = Duration.ofMinutes(2);

  private static Unit lb(String reload) {
    return Unit.builder().name("lb").image("tiny").memoryMib(192)
        .script(Script.shell(Phase.INITIAL, "echo \"lb up as $(hostname)\"\n"))
        .script(Script.shell(Phase.RELOAD, reload)).build();
  }

  private static Unit web(int count, int memoryMib) {
    return Unit.builder().name("web").image("tiny").count(count).memoryMib(memoryMib)
        .script(Script.shell(Phase.INITIAL,
            "echo \"web up as $(hostname) with $(sed -n 's/^MemTotal: *\\([0-9]*\\).*/\\1/p' /proc/meminfo) kB\"\n"))
        .build();
  }

  private static final String RELOAD_V1 = "echo \"lb sees web: $(pods get +/unit/web/private_ips)\"\n";
  private static final String RELOAD_V2 = "echo \"lb v2 sees web: $(pods get +/unit/web/private_ips)\"\n";

  @Test
  void scalesWebUpMigratesAScriptLiveAndMemoryByRecreateAndDestroyLeavesNothing() throws Exception {
    assumeVmHost();
    reapDeadRuns(RUN_ROOT, "sm", OWNER_PREFIX, "scale-it");
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String p = "sm" + "0000".substring(rnd.length()) + rnd;
    Path dir = Files.createDirectories(RUN_ROOT.resolve(p));
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    String hostNs = p + "x-host";
    String owner = Reaper.ownerLabel(OWNER_PREFIX, p);
    DiskImages disks = DiskImages.at(DISK_ROOT);
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    String uri = LibvirtHypervisor.configuredUri();
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    Set<String> domains = new HashSet<>();

    LibvirtHypervisor hv = LibvirtHypervisor.connect(uri);
    LinuxNetworkDriver driver = null;
    PodRuntime runtime = null;
    Deployment d = null;
    try {
      Reaper.reap(hv, disks, Reaper.deadProcess(OWNER_PREFIX));
      Reaper.reapFolders(hv, disks, n -> n.matches("sm[0-9a-z]{4}-.*"), Duration.ofMinutes(10));
      check(run("ip", "netns", "add", hostNs));
      check(run("ip", "-n", hostNs, "link", "set", "lo", "up"));
      driver = LinuxNetworkDriver.builder().stateDir(dir.resolve("net")).prefix(p).build();
      runtime = PodRuntime.builder()
          .hypervisor(hv)
          .networkDriver(driver)
          .instanceFiles(KvmInstanceFiles.on(disks))
          .images(image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")))
          .stateDir(dir.resolve("state"))
          .hostNamespace(hostNs)
          .owner(owner)
          .namePrefix(p + "-")
          .build();

      Pod v1 = Pod.builder().name("sm").unit(lb(RELOAD_V1)).unit(web(1, 192)).build();
      long t0 = System.nanoTime();
      d = runtime.deploy(v1);
      d.events().subscribe(events::add);
      d.instances().forEach(i -> domains.add(i.domainName()));
      try {
        d.awaitReady(READY);
        System.out.printf("scale-it: deploy -> ready %d ms (2 tiny guests, TCG)%n", millisSince(t0));
        Instance lb = d.instance("lb", 0);
        Instance web0 = d.instance("web", 0);
        for (Instance i : List.of(lb, web0)) {
          ExecResult r = i.exec("hostname");
          assertThat(r.exitCode()).as("exec in %s: %s", i.name(), r).isZero();
          assertThat(r.stdoutText().strip()).isEqualTo(i.name());
        }
        String ip0 = web0.privateAddress().getHostAddress();
        assertThat(lb.recentOutput()).contains("lb up as lb-0", "lb sees web: " + ip0);
        assertThat(web0.recentOutput()).singleElement().asString().startsWith("web up as web-0 with ");
        String lbUuid = uuid(uri, lb.domainName());
        String lbBoot = bootId(lb);
        String web0Uuid = uuid(uri, web0.domainName());
        String web0Boot = bootId(web0);

        // scale web 1 -> 2: lb's reload lists both addresses
        t0 = System.nanoTime();
        d.scale("web", 2);
        assertThat(d.pod().unit("web").orElseThrow().count()).isEqualTo(2);
        Instance web1 = d.instance("web", 1);
        domains.add(web1.domainName());
        String ip1 = web1.privateAddress().getHostAddress();
        awaitLine(events, "lb-0", l -> l.startsWith("lb sees web: ")
            && ips(l).equals(Set.of(ip0, ip1)), RELOAD);
        System.out.printf("scale-it: scale 1 -> 2: lb reloaded with both after %d ms%n", millisSince(t0));
        d.awaitReady(READY);
        System.out.printf("scale-it: scale 1 -> 2: web-1 ready after %d ms%n", millisSince(t0));
        assertThat(web1.exec("hostname").stdoutText().strip()).isEqualTo("web-1");

        // live: lb's reload script changes; same domain, same boot
        Pod v2 = d.pod().withUnit(lb(RELOAD_V2));
        MigrationPlan live = d.plan(v2);
        System.out.print("scale-it: live plan\n" + live.toText());
        assertThat(actions(live)).isEqualTo(Map.of("lb-0", Action.LIVE, "web-0", Action.KEEP, "web-1", Action.KEEP));
        t0 = System.nanoTime();
        live.apply();
        awaitLine(events, "lb-0", l -> l.startsWith("lb v2 sees web: ") && ips(l).equals(Set.of(ip0, ip1)), RELOAD);
        System.out.printf("scale-it: live script change: new reload output after %d ms%n", millisSince(t0));
        assertThat(uuid(uri, lb.domainName())).isEqualTo(lbUuid);
        assertThat(bootId(lb)).isEqualTo(lbBoot);
        assertThat(lb.state()).isEqualTo(InstanceState.READY);

        // recreate: web's memory changes; one at a time, initial again, new domains, same addresses
        Pod v3 = v2.withUnit(web(2, 256));
        MigrationPlan recreate = d.plan(v3);
        System.out.print("scale-it: recreate plan\n" + recreate.toText());
        assertThat(actions(recreate))
            .isEqualTo(Map.of("lb-0", Action.KEEP, "web-0", Action.RECREATE, "web-1", Action.RECREATE));
        assertThat(recreate.toText()).contains("web-0  recreate  (memory 192 -> 256 MiB)");
        t0 = System.nanoTime();
        recreate.apply(READY);
        System.out.printf("scale-it: memory change: 2 instances recreated one at a time in %d ms%n",
            millisSince(t0));
        for (Instance w : List.of(web0, web1)) {
          assertThat(w.state()).isEqualTo(InstanceState.READY);
          assertThat(hv.find(w.domainName()).orElseThrow().spec().memoryMib()).isEqualTo(256);
          assertThat(check(run("virsh", "-c", uri, "dominfo", w.domainName())).out())
              .containsPattern("Max memory:\\s+262144 KiB");
          assertThat(w.recentOutput()).as("initial ran again in %s", w.name()).singleElement().asString()
              .startsWith("web up as " + w.name() + " with ");
        }
        assertThat(web0.privateAddress().getHostAddress()).isEqualTo(ip0);
        assertThat(uuid(uri, web0.domainName())).isNotEqualTo(web0Uuid);
        assertThat(bootId(web0)).isNotEqualTo(web0Boot);
        long kb = Long.parseLong(web0.recentOutput().get(0).replaceAll(".* with ([0-9]+) kB", "$1"));
        assertThat(kb).as("MemTotal of web-0").isBetween(192L * 1024, 256L * 1024);
        assertThat(uuid(uri, lb.domainName())).isEqualTo(lbUuid);
        assertThat(d.plan(v3).isEmpty()).isTrue();
        assertThat(d.pod()).isEqualTo(v3);
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
      if (driver != null) {
        LinuxNetworkDriver dr = driver;
        step(errors, () -> dr.reap(owner));
        step(errors, dr::close);
      }
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

    try (LibvirtHypervisor h = LibvirtHypervisor.connect(uri)) {
      assertThat(h.listAll()).as("domains").noneMatch(i -> i.name().startsWith(p));
    }
    for (String domain : domains) {
      assertThat(Files.exists(DISK_ROOT.resolve("instances").resolve(domain))).as("files of %s", domain).isFalse();
    }
    assertThat(namespaces(p)).as("namespaces").isEmpty();
    assertThat(rootLinks(p)).as("links in the root namespace").isEmpty();
    assertThat(run("nft", "list", "tables").out()).as("nft tables").doesNotContain(p);
    assertThat(processesMentioning(p)).as("processes").isEmpty();
    assertThat(Files.exists(dir)).as("run directory").isFalse();
  }

  private static long millisSince(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  private static Map<String, Action> actions(MigrationPlan p) {
    return p.steps().stream().collect(Collectors.toMap(MigrationPlan.Step::instance, MigrationPlan.Step::action));
  }

  /** The addresses after the colon of a {@code ... sees web: a,b} line. */
  private static Set<String> ips(String line) {
    String list = line.substring(line.indexOf(": ") + 2).strip();
    return list.isEmpty() ? Set.of() : new HashSet<>(Arrays.asList(list.split(",")));
  }

  /** Waits for an output line of {@code instance} that matches; fails with the instance's lines so far. */
  private static void awaitLine(List<PodEvent> events, String instance, java.util.function.Predicate<String> match,
      Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (lines(events, instance).stream().anyMatch(match)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no matching output line of " + instance + " within " + timeout + "; lines: "
        + lines(events, instance));
  }

  private static List<String> lines(List<PodEvent> events, String instance) {
    return events.stream()
        .filter(e -> e instanceof PodEvent.OutputLine o && o.instance().equals(instance))
        .map(e -> ((PodEvent.OutputLine) e).line())
        .toList();
  }

  private static String uuid(String uri, String domain) throws Exception {
    return check(run("virsh", "-c", uri, "domuuid", domain)).out().strip();
  }

  private static String bootId(Instance i) {
    ExecResult r = i.exec("cat", "/proc/sys/kernel/random/boot_id");
    assertThat(r.exitCode()).as("boot id of %s: %s", i.name(), r).isZero();
    return r.stdoutText().strip();
  }

  // ------------------------------------------------------------------------------------------ host helpers
}
