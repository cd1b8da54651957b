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

import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.imds.ExecResult;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.kvm.Reaper;
import dev.pods.net.LinuxNetworkDriver;
import dev.pods.spi.Cidr;
import dev.pods.spi.DomainInfo;
import dev.pods.spi.DomainState;
import dev.pods.spi.IpPoolSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Restart safety with the real parts: a child JVM ({@link CrashDeployMain}) deploys a pod of one tiny guest and is
 * killed with {@code kill -9} at one of the runtime's fault points (after the addresses, the network, the domain's
 * definition, its start); then a new runtime with the same owner, state folder and network driver state adopts what
 * the child left. It must converge (the instance gets ready, exec works) with exactly one domain, one instance
 * namespace, one address allocation and one instance folder (nothing duplicated or leaked), and destroy must leave
 * nothing. A fifth point kills it while the guest runs its initial phase: the agent reports how it ended to the
 * new runtime's metadata service. After the "start" case, the domain is removed behind the runtime's back and must
 * be recreated (self-heal). One guest boot per crash point, one more for the self-heal.
 *
 * <p>Names: every namespace, link, domain and folder starts with the per-run prefix {@code pc????}; leftovers of runs
 * whose JVM died are reaped first. The test sends no traffic itself (exec goes through the instance's IMDS).
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class RuntimeCrashIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-crash-it");
  private static final Path DISK_ROOT = Path.of(System.getProperty("pods.test.dir", "/var/lib/pods/test"));
  private static final String OWNER_PREFIX = "podscrash-owner-";
  private static final Duration READY = Duration.ofMinutes(5);
  private static final Cidr RANGE = Cidr.parse("10.98.0.0/16");

  @ParameterizedTest(name = "killed after {0}")
  @ValueSource(strings = {"addresses", "network", "define", "start", "initializing"})
  void aDeployKilledAtAFaultPointConvergesUnderANewRuntime(String point) throws Exception {
    assumeVmHost();
    reapDeadRuns(RUN_ROOT, "pc", OWNER_PREFIX, "crash-it");
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String p = "pc" + "0000".substring(rnd.length()) + rnd;
    Path dir = Files.createDirectories(RUN_ROOT.resolve(p));
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    String hostNs = p + "x-host";
    String owner = Reaper.ownerLabel(OWNER_PREFIX, p);
    DiskImages disks = DiskImages.at(DISK_ROOT);
    String domain = p + "-crash-web-0";

    LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    LinuxNetworkDriver driver = null;
    PodRuntime runtime = null;
    Deployment d = null;
    Process child = null;
    try {
      Reaper.reap(hv, disks, Reaper.deadProcess(OWNER_PREFIX));
      Reaper.reapFolders(hv, disks, n -> n.matches("pc[0-9a-z]{4}-.*"), Duration.ofMinutes(10));
      check(run("ip", "netns", "add", hostNs));
      check(run("ip", "-n", hostNs, "link", "set", "lo", "up"));

      long t0 = System.nanoTime();
      child = startChild(dir, p, owner, point);
      awaitMarker(child, point, dir);
      check(run("kill", "-9", Long.toString(child.pid())));
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("child killed").isTrue();
      System.out.printf("crash-it[%s]: child killed at its fault point after %d ms%n", point,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));

      driver = CrashDeployMain.driver(dir, p);
      // what the child left: the crash point is where we meant it to be
      DomainState left = hv.state(domain);
      switch (point) {
        case "addresses" -> {
          assertThat(left).isEqualTo(DomainState.MISSING);
          assertThat(driver.list(owner)).isEmpty();
        }
        case "network" -> {
          assertThat(left).isEqualTo(DomainState.MISSING);
          assertThat(driver.list(owner)).hasSize(1);
        }
        case "define" -> assertThat(left).isEqualTo(DomainState.SHUT_OFF);
        default -> assertThat(left).isEqualTo(DomainState.RUNNING); // start, initializing

      }
      assertThat(allocations(driver)).containsOnlyKeys("crash-web-0");

      long t1 = System.nanoTime();
      runtime = CrashDeployMain.runtime(hv, driver, dir, p, owner, DISK_ROOT);
      d = runtime.deployment("crash").orElseThrow();
      assertThat(runtime.deployments()).containsExactly(d);
      InstanceState adopted = d.instance("web", 0).state();
      System.out.printf("crash-it[%s]: adopted in state %s%n", point, adopted);
      if (point.equals("initializing")) {
        // its domain runs: it is adopted as it is (not rebuilt), and its agent tells the new metadata service how
        // the phase that ran meanwhile ended
        assertThat(adopted).isIn(InstanceState.BOOTING, InstanceState.INITIALIZING, InstanceState.READY);
      }
      try {
        d.awaitReady(READY);
      } catch (RuntimeException e) {
        for (Instance i : d.instances()) {
          System.out.println("==== " + i.name() + " " + i.state() + " console ====\n" + i.consoleOutput());
        }
        throw e;
      }
      System.out.printf("crash-it[%s]: new runtime -> ready %d ms%n", point,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1));

      Instance web = d.instance("web", 0);
      assertThat(web.state()).isEqualTo(InstanceState.READY);
      assertThat(hv.list(owner)).extracting(DomainInfo::name).containsExactly(domain);
      assertThat(hv.state(domain)).isEqualTo(DomainState.RUNNING);
      assertThat(driver.list(owner)).extracting(n -> n.spec().instanceId()).containsExactly("crash-web-0");
      assertThat(namespaces(p + "-")).as("instance namespaces").hasSize(1);
      assertThat(allocations(driver)).containsOnlyKeys("crash-web-0");
      assertThat(allocations(driver).get("crash-web-0").address(2)).isEqualTo(web.privateAddress());
      try (Stream<Path> s = Files.list(DISK_ROOT.resolve("instances"))) {
        assertThat(s.map(x -> x.getFileName().toString()).filter(n -> n.startsWith(p)).toList())
            .containsExactly(domain);
      }
      ExecResult r = web.exec("sh", "-c", "hostname; ip addr show dev eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p'");
      assertThat(r.exitCode()).as("exec: %s", r).isZero();
      assertThat(r.stdoutText().lines().map(String::strip).toList())
          .containsExactly("web-0", web.privateAddress().getHostAddress());

      if (point.equals("start")) {
        selfHeal(hv, d, r.stdoutText());
      }

      d.destroy();
      d = null;
      assertThat(runtime.deployments()).isEmpty();
      assertThat(allocations(driver)).isEmpty();
      try (Stream<Path> s = Files.list(dir.resolve("state/deployments"))) {
        assertThat(s.toList()).as("state records").isEmpty();
      }
    } finally {
      teardown(hv, driver, dir, p, owner, hostNs, child, d, runtime);
    }
    assertNothingLeft(p, dir, domain);
  }

  /**
   * A runtime killed (kill -9 of its JVM) in the middle of a recovery: the child's pod is READY, its domain is
   * destroyed behind the runtime's back, and the child is killed either while the instance waits out its restart
   * back-off ({@code back-off}: STOPPED, domain shut off) or right after the restart policy started its domain again
   * ({@code restarting}: the guest boots). A new runtime on the same folders must bring it READY exactly once (one
   * READY, the domain started at most once more: by the new runtime after the back-off, not at all while it boots),
   * with one domain, one instance namespace and one address allocation, the same address; destroy leaves nothing.
   */
  @ParameterizedTest(name = "killed while {0}")
  @ValueSource(strings = {"back-off", "restarting"})
  void aRuntimeKilledMidRecoveryConvergesUnderANewRuntime(String point) throws Exception {
    assumeVmHost();
    reapDeadRuns(RUN_ROOT, "pc", OWNER_PREFIX, "crash-it");
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String p = "pc" + "0000".substring(rnd.length()) + rnd;
    Path dir = Files.createDirectories(RUN_ROOT.resolve(p));
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    String hostNs = p + "x-host";
    String owner = Reaper.ownerLabel(OWNER_PREFIX, p);
    String domain = p + "-crash-web-0";

    LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    List<dev.pods.spi.HypervisorEvent> hvEvents = new CopyOnWriteArrayList<>();
    hv.subscribe(hvEvents::add);
    LinuxNetworkDriver driver = null;
    PodRuntime runtime = null;
    Deployment d = null;
    Process child = null;
    try {
      check(run("ip", "netns", "add", hostNs));
      check(run("ip", "-n", hostNs, "link", "set", "lo", "up"));
      child = startChild(dir, p, owner, "none", point);
      String line = awaitLine(child, "pods-recovery " + point, dir);
      check(run("kill", "-9", Long.toString(child.pid())));
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("child killed").isTrue();
      System.out.printf("crash-it[%s]: child killed: %s%n", point, line);
      assertThat(hv.state(domain)).isEqualTo(point.equals("back-off") ? DomainState.SHUT_OFF : DomainState.RUNNING);
      assertThat(line).contains(point.equals("back-off") ? "STOPPED its domain was destroyed at "
          : "BOOTING restart 1 by its restart policy (always) after: its domain was destroyed at ");

      driver = CrashDeployMain.driver(dir, p);
      String address = allocations(driver).get("crash-web-0").address(2).getHostAddress();
      int hvMark = hvEvents.size();
      long t1 = System.nanoTime();
      runtime = CrashDeployMain.runtime(hv, driver, dir, p, owner, DISK_ROOT);
      d = runtime.deployment("crash").orElseThrow();
      List<PodEvent> events = new CopyOnWriteArrayList<>();
      d.events().subscribe(events::add);
      Instance web = d.instance("web", 0);
      try {
        d.awaitReady(READY);
      } catch (RuntimeException e) {
        System.out.println("==== " + web.name() + " " + web.status() + " console ====\n" + web.consoleOutput());
        throw e;
      }
      System.out.printf("crash-it[%s]: adopted, new runtime -> ready %d ms%n", point,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1));
      assertThat(web.state()).isEqualTo(InstanceState.READY);
      assertThat(web.privateAddress().getHostAddress()).isEqualTo(address);
      assertThat(web.exec("hostname").stdoutText()).isEqualTo("web-0\n");
      long readies = events.stream().filter(e -> e instanceof PodEvent.StateChanged c
          && c.to() == InstanceState.READY).count();
      assertThat(readies).as("READY once").isEqualTo(1);
      long starts = hvEvents.subList(hvMark, hvEvents.size()).stream().filter(e -> domain.equals(e.domain())
          && e.type() == dev.pods.spi.HypervisorEvent.Type.STARTED).count();
      assertThat(starts).as("domain starts by the new runtime").isEqualTo(point.equals("back-off") ? 1 : 0);
      assertThat(hv.list(owner)).extracting(DomainInfo::name).containsExactly(domain);
      assertThat(driver.list(owner)).extracting(n -> n.spec().instanceId()).containsExactly("crash-web-0");
      assertThat(namespaces(p + "-")).as("instance namespaces").hasSize(1);
      assertThat(allocations(driver)).containsOnlyKeys("crash-web-0");

      d.destroy();
      d = null;
      assertThat(allocations(driver)).isEmpty();
    } finally {
      teardown(hv, driver, dir, p, owner, hostNs, child, d, runtime);
    }
    assertNothingLeft(p, dir, domain);
  }

  /**
   * Kills the child if it lives, destroys the deployment, closes the runtime, reaps the owner's networks and
   * domains, removes the host namespace and (when all went well) the run folder; throws what failed.
   */
  private static void teardown(LibvirtHypervisor hv, LinuxNetworkDriver driver, Path dir, String p, String owner,
      String hostNs, Process child, Deployment d, PodRuntime runtime) {
    List<Throwable> errors = new ArrayList<>();
    if (child != null && child.isAlive()) {
      Process c = child;
      step(errors, () -> c.destroyForcibly().waitFor(30, TimeUnit.SECONDS));
    }
    if (d != null) {
      step(errors, d::destroy);
    }
    if (runtime != null) {
      step(errors, runtime::close);
    }
    LinuxNetworkDriver dr = driver != null ? driver : CrashDeployMain.driver(dir, p);
    step(errors, () -> dr.reap(owner));
    step(errors, dr::close);
    DiskImages disks = DiskImages.at(DISK_ROOT);
    step(errors, () -> {
      for (DomainInfo i : hv.list(owner)) {
        hv.undefine(i.name());
        disks.deleteInstance(i.name());
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

  /** Nothing of run {@code p} is left: domains, instance files, namespaces, links, nft tables, processes, folder. */
  private static void assertNothingLeft(String p, Path dir, String domain) throws Exception {
    try (LibvirtHypervisor h = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      assertThat(h.listAll()).as("domains").noneMatch(i -> i.name().startsWith(p));
    }
    assertThat(Files.exists(DISK_ROOT.resolve("instances").resolve(domain))).as("instance files").isFalse();
    assertThat(namespaces(p)).as("namespaces").isEmpty();
    assertThat(rootLinks(p)).as("links in the root namespace").isEmpty();
    assertThat(run("nft", "list", "tables").out()).as("nft tables").doesNotContain(p);
    assertThat(processesMentioning(p)).as("processes").isEmpty();
    assertThat(Files.exists(dir)).as("run directory").isFalse();
  }

  /**
   * Self-heal with the real parts: the domain is removed behind the runtime's back; the runtime recreates it (same
   * name, address and token, fresh disk: the initial phase runs again) and exec works again.
   */
  private static void selfHeal(LibvirtHypervisor hv, Deployment d, String before) throws Exception {
    Instance web = d.instance("web", 0);
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    d.events().subscribe(events::add);
    long t0 = System.nanoTime();
    try (LibvirtHypervisor other = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      other.undefine(web.domainName());
    }
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (events.stream().noneMatch(e -> e instanceof PodEvent.StateChanged c && c.to() == InstanceState.CREATING)
        && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    assertThat(events).as("recreation announced").anyMatch(
        e -> e instanceof PodEvent.StateChanged c && c.to() == InstanceState.CREATING);
    d.awaitReady(READY);
    System.out.printf("crash-it[start]: vanished domain recreated and ready in %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    assertThat(hv.state(web.domainName())).isEqualTo(DomainState.RUNNING);
    // events reach subscribers on the feed's own threads: the output line may come just after READY was seen
    long lineBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (events.stream().noneMatch(e -> e instanceof PodEvent.OutputLine l && l.line().equals("web up as web-0"))
        && System.nanoTime() < lineBy) {
      Thread.sleep(50);
    }
    assertThat(events).as("the initial phase ran again on the fresh disk").anyMatch(
        e -> e instanceof PodEvent.OutputLine l && l.line().equals("web up as web-0"));
    ExecResult again = web.exec("sh", "-c", "hostname; ip addr show dev eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p'");
    assertThat(again.stdoutText()).isEqualTo(before);
  }

  private static Map<String, Cidr> allocations(LinuxNetworkDriver driver) {
    return driver.pool(IpPoolSpec.subnets("priv-10-98-0-0-16", RANGE, 30)).allocations();
  }

  /** The child JVM: this test's class path, the fault point, the pods.* properties of this JVM. */
  private static Process startChild(Path dir, String p, String owner, String point, String... more)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    cmd.add("-Ddev.pods.runtime.pauseAt=" + point);
    System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("pods."))
        .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
    cmd.add(CrashDeployMain.class.getName());
    cmd.add(dir.toString());
    cmd.add(p);
    cmd.add(owner);
    cmd.add(DISK_ROOT.toString());
    cmd.addAll(List.of(more));
    return new ProcessBuilder(cmd)
        .redirectError(dir.resolve("child.err").toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
  }

  /** Reads the child's output until the fault point's marker (at most 3 minutes). */
  private static void awaitMarker(Process child, String point, Path dir) throws Exception {
    awaitLine(child, "pods-fault-point " + point, dir);
  }

  /** Reads the child's output until a line starting with {@code marker} (at most 3 minutes); returns that line. */
  private static String awaitLine(Process child, String marker, Path dir) throws Exception {
    CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith(marker)) {
            return line;
          }
        }
      } catch (IOException e) {
        return "";
      }
      return "";
    });
    String line;
    try {
      line = seen.get(3, TimeUnit.MINUTES);
    } catch (java.util.concurrent.TimeoutException e) {
      line = "";
    }
    if (line.isEmpty()) {
      String err = Files.exists(dir.resolve("child.err")) ? Files.readString(dir.resolve("child.err")) : "";
      throw new AssertionError("the child never printed " + marker + "; its stderr:\n" + err);
    }
    return line;
  }

  // ------------------------------------------------------------------------------------------ host helpers
}
