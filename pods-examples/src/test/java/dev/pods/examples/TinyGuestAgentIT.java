package dev.pods.examples;

import static dev.pods.examples.HostTools.check;
import static dev.pods.examples.HostTools.deleteTree;
import static dev.pods.examples.HostTools.namespaces;
import static dev.pods.examples.HostTools.processesMentioning;
import static dev.pods.examples.HostTools.rootLinks;
import static dev.pods.examples.HostTools.run;
import static dev.pods.examples.HostTools.step;
import static dev.pods.examples.HostTools.onPath;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.NetworkException;
import dev.pods.Phase;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.agent.AgentConfig;
import dev.pods.agent.AgentScript;
import dev.pods.imds.AgentEvent;
import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import dev.pods.imds.ImdsBinding;
import dev.pods.imds.ImdsProtocol;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.InstanceView;
import dev.pods.imds.NamespaceRunner;
import dev.pods.OutputStream;
import dev.pods.imds.PeerInstance;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.kvm.Reaper;
import dev.pods.kvm.SeedIso;
import dev.pods.net.LinuxNetworkDriver;
import dev.pods.spi.Cidr;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainNic;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Stream;
import dev.pods.examples.HostTools.Result;
import dev.pods.examples.HostTools.Step;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent's phase test in a real tiny guest: one VM under libvirt (TCG here) on a real instance network, its
 * agent talking to the real IMDS bound at 169.254.169.254:80 inside the instance's namespace.
 *
 * <p>Where things are: the uplink bridge (the instances' public gateway, 10.99.0.1/16) lives in this run's host
 * namespace {@code <p>x-host}, the "outside world" (10.99.0.9) in {@code <p>x-out}; the driver's instance
 * namespaces are {@code <p>-web-0} and {@code <p>-spy}. Libvirt opens taps in its own (the root) namespace, so,
 * as pods-net is designed, the VM side of each instance (an address-less bridge with IPv6 off, the persistent tap
 * QEMU attaches to, and the veth into the instance namespace) is in the root namespace; the test sends nothing
 * through the root namespace's routes (every packet it causes goes between namespaces it created, across those
 * bridges at layer 2). The stand-in VM of the second instance is a namespace {@code <p>x-spy} whose veth sits on
 * that instance's VM bridge.
 *
 * <p>Every name starts with the per-run prefix {@code pe????}; leftovers of runs whose JVM died are reaped first.
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class TinyGuestAgentIT {
  private static final Path NET_ROOT = Path.of("/tmp/pods-e2e-it");
  private static final Path DISK_ROOT = Path.of(System.getProperty("pods.test.dir", "/var/lib/pods/test"));
  private static final String OWNER_PREFIX = "podse2e-owner-";
  private static final String NET_OWNER_PREFIX = "dev.pods/e2e=";
  private static final String BUSYBOX = "/bin/busybox";
  /** TCG boots take 5-15 s under load; generous, but finite. */
  private static final Duration BOOT = Duration.ofSeconds(240);
  private static final Duration STEP = Duration.ofSeconds(60);
  private static final String OUTSIDE = "10.99.0.9";

  private final List<AgentEvent> events = new CopyOnWriteArrayList<>();
  private final List<Process> processes = new ArrayList<>();

  private static Unit unit() {
    return Unit.builder()
        .name("web")
        .image("tiny")
        .script(Script.shell("export GREETING='hello \"pods\" it'\\''s me'\necho \"shell: $GREETING\"\n"))
        .script(Script.python(Phase.INITIAL,
            "import os\nprint('python saw: ' + os.environ['GREETING'])\nexport('ANSWER', str(6 * 7) + ' from python')\n"))
        .script(Script.shell(Phase.REBOOT, "echo \"reboot: ANSWER=${ANSWER-unset}\"\n"))
        .script(Script.shell(Phase.RELOAD,
            "echo \"reload: ANSWER=${ANSWER-unset}\"\necho \"peers: $(pods get +/unit/db/private_ips)\"\n"))
        .build();
  }

  private static InstanceView view(List<String> dbPeers) {
    List<PeerInstance> db = new ArrayList<>();
    for (int i = 0; i < dbPeers.size(); i++) {
      db.add(PeerInstance.healthy("db-" + i, i, dbPeers.get(i)));
    }
    return InstanceView.builder()
        .pod("e2e")
        .unit("web")
        .index(0)
        .hostname("web-0")
        .spec(unit(), "1")
        .privateIps(List.of("10.98.1.2"))
        .publicIps(List.of("10.99.1.1"))
        .unitInstances("web", List.of(PeerInstance.healthy("web-0", 0, "10.98.1.2")))
        .unitInstances("db", db)
        .build();
  }

  @Test
  void phasesRunInARealTinyGuestOnARealNetwork() throws Exception {
    assumeCapable();
    reapEarlierRuns();
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String p = "pe" + "0000".substring(rnd.length()) + rnd;
    Path dir = Files.createDirectories(NET_ROOT.resolve(p));
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    String hostNs = p + "x-host";
    String outNs = p + "x-out";
    String spyNs = p + "x-spy";
    String netOwner = NET_OWNER_PREFIX + p;
    String domain = p + "-web-0";
    DiskImages disks = DiskImages.at(DISK_ROOT);
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    Path instDir = disks.instanceDir(domain);

    LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    LinuxNetworkDriver driver = null;
    ImdsServer imds = null;
    boolean passed = false;
    try {
      Reaper.reap(hv, disks, Reaper.deadProcess(OWNER_PREFIX));
      Reaper.reapFolders(hv, disks, n -> n.matches("pe[0-9a-z]{4}-.*"), Duration.ofMinutes(10));

      // the outside world and the uplink, in this run's namespaces
      for (String ns : List.of(hostNs, outNs)) {
        run("ip", "netns", "add", ns);
      }
      ip(hostNs, "link set lo up\nlink add " + p + "UP type bridge\naddr add 10.99.0.1/16 dev " + p + "UP\n"
          + "link set " + p + "UP up\nlink add " + p + "O type veth peer name eth0 netns " + outNs + "\n"
          + "link set " + p + "O master " + p + "UP\nlink set " + p + "O up\n");
      ip(outNs, "link set lo up\naddr add " + OUTSIDE + "/16 dev eth0\nlink set eth0 up\n");
      Path www = Files.createDirectories(dir.resolve("www"));
      Files.writeString(www.resolve("index.html"), "hello from outside\n");
      processes.add(new ProcessBuilder("ip", "netns", "exec", outNs, BUSYBOX, "httpd", "-f", "-p", OUTSIDE + ":8080",
          "-h", www.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("httpd.log").toFile()).start());

      // two instance networks: web-0 gets the VM, spy gets a stand-in
      driver = LinuxNetworkDriver.builder().stateDir(dir.resolve("net")).prefix(p).build();
      NetworkInstance web = driver.create(netSpec(p, netOwner, "web-0", 1, hostNs));
      NetworkInstance spy = driver.create(netSpec(p, netOwner, "spy", 2, hostNs));

      String token = ImdsServer.newToken();
      imds = ImdsServer.builder()
          .binding(ImdsBinding.inNamespace(NamespaceRunner.of(driver, "web-0"), ImdsProtocol.METADATA_ADDRESS))
          .view(view(List.of("10.98.7.1", "10.98.7.2")))
          .token(token)
          .listener(events::add)
          .start();

      Path seed = SeedIso.builder(domain).hostname("web-0")
          .agent(AgentScript.bytes(), AgentConfig.forGuest(token).render())
          .build().writeTo(instDir.resolve("seed.iso"));
      DomainSpec spec = DomainSpec.builder(domain)
          .metadata(new DomainMetadata(Reaper.ownerLabel(OWNER_PREFIX, p), "e2e", "web", 0, "e2e"))
          .memoryMib(192)
          .boot(DomainBoot.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")))
          .seedIso(seed)
          .serialLog(instDir.resolve("console.log"))
          .nic(DomainNic.tap(web.tap(), web.spec().mac()))
          .build();
      hv.define(spec);
      long t0 = System.nanoTime();
      hv.start(domain);
      final LibvirtHypervisor h = hv;
      try {
        // first boot: every block in document order, the environment handed from shell to python and on
        AgentEvent.RunFinished first = awaitRun(Trigger.FIRST_BOOT, 1, BOOT);
        long bootToInitial = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(first.ok()).as("first boot ok: %s", first).isTrue();
        assertThat(started(first.run()).blocks()).containsExactly(0, 1, 2, 3);
        assertThat(events(AgentEvent.BlockStarted.class, b -> b.run().equals(first.run())))
            .extracting(AgentEvent.BlockStarted::block).containsExactly(0, 1, 2, 3);
        assertThat(stdout(first.run(), 0)).containsExactly("shell: hello \"pods\" it's me");
        assertThat(stdout(first.run(), 1)).containsExactly("python saw: hello \"pods\" it's me");
        assertThat(stdout(first.run(), 2)).containsExactly("reboot: ANSWER=42 from python");
        assertThat(stdout(first.run(), 3))
            .containsExactly("reload: ANSWER=42 from python", "peers: 10.98.7.1,10.98.7.2");
        String console = h.consoleOutput(domain);
        System.out.printf("e2e: start -> initial phase done %d ms (%s); the phase itself %d ms, python block %d ms%n",
            bootToInitial, h.autoAcceleration(), first.duration().toMillis(),
            events(AgentEvent.BlockFinished.class, b -> b.run().equals(first.run()) && b.block() == 1).get(0)
                .duration().toMillis());
        printGuestTimes(console);

        // exec: the guest got its address, route and DNS by DHCP, and reaches the outside through its SNAT
        ExecResult ex = imds.exec(ExecRequest.of("sh", "-c",
                "hostname; ip addr show dev eth0 | sed -n 's/.*inet \\([0-9./]*\\).*/\\1/p'; ip route | grep ^default; "
                    + "grep nameserver /etc/resolv.conf; timeout 10 wget -q -O - http://" + OUTSIDE + ":8080/")
                .withTimeout(Duration.ofSeconds(30)))
            .get(STEP.toSeconds(), TimeUnit.SECONDS);
        assertThat(ex.exitCode()).as("exec: %s", ex).isZero();
        assertThat(ex.stdoutText().lines().map(String::strip).toList()).containsExactly(
            "web-0", "10.98.1.2/30", "default via 10.98.1.1 dev eth0", "nameserver 10.99.0.53",
            "hello from outside");

        // a changed peer list: the reload block alone (the environment carried since boot), and pods get sees
        // the new peers
        assertThat(imds.update(view(List.of("10.98.7.1", "10.98.7.2", "10.98.7.3")))).isTrue();
        AgentEvent.RunFinished reload = awaitRun(Trigger.CLUSTER_CHANGE, 1, STEP);
        assertThat(reload.ok()).isTrue();
        assertThat(started(reload.run()).blocks()).containsExactly(3);
        assertThat(stdout(reload.run(), 3))
            .containsExactly("reload: ANSWER=42 from python", "peers: 10.98.7.1,10.98.7.2,10.98.7.3");

        // the agent killed in the guest: the init starts it again, it resumes (no phase runs again, its status is
        // reported again), serves exec requests, and its next reload still has what the initial phase exported
        ExecResult pid = imds.exec(ExecRequest.of("cat", "/run/pods-agent/lock/pid")).get(STEP.toSeconds(), TimeUnit.SECONDS);
        String oldPid = pid.stdoutText().strip();
        int statuses = events(AgentEvent.StatusReported.class, r -> true).size();
        long tKill = System.nanoTime();
        ExecResult kill = imds.exec(ExecRequest.of("sh", "-c", "kill -9 " + oldPid)).get(STEP.toSeconds(), TimeUnit.SECONDS);
        assertThat(kill.exitCode()).as("kill: %s", kill).isZero();
        assertThat(await(STEP, () -> events(AgentEvent.StatusReported.class, r -> true).size() > statuses))
            .as("the agent came back and reported its status").isTrue();
        System.out.printf("e2e: agent killed -> back and reporting in %d ms%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - tKill));
        assertThat(imds.lastStatus()).hasValue(dev.pods.imds.AgentStatus.RUNNING);
        // the new agent takes over the dead one's lock (and writes its pid there) while it already serves: read
        // until the file names it
        String[] newPid = {""};
        String killedPid = oldPid;
        var server = imds;
        await(STEP, () -> {
          try {
            newPid[0] = server.exec(ExecRequest.of("cat", "/run/pods-agent/lock/pid")).get(STEP.toSeconds(),
                TimeUnit.SECONDS).stdoutText().strip();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return !newPid[0].isEmpty() && !newPid[0].equals(killedPid);
        });
        assertThat(newPid[0]).isNotEmpty().isNotEqualTo(oldPid);
        assertThat(h.consoleOutput(domain)).contains("PODS-AGENT-EXIT");
        assertThat(imds.update(view(List.of("10.98.7.4")))).isTrue();
        AgentEvent.RunFinished afterKill = awaitRun(Trigger.CLUSTER_CHANGE, 2, STEP);
        assertThat(afterKill.ok()).isTrue();
        assertThat(stdout(afterKill.run(), 3)).containsExactly("reload: ANSWER=42 from python", "peers: 10.98.7.4");
        assertThat(events(AgentEvent.RunStarted.class, r -> r.trigger() != Trigger.CLUSTER_CHANGE)).hasSize(1);

        // a guest reboot: reboot and reload blocks only (the tmpfs guest learns from the IMDS it was initialized)
        h.reboot(domain);
        AgentEvent.RunFinished later = awaitRun(Trigger.REBOOT, 1, BOOT);
        assertThat(later.ok()).isTrue();
        assertThat(started(later.run()).blocks()).containsExactly(2, 3);
        assertThat(stdout(later.run(), 2)).containsExactly("reboot: ANSWER=unset");
        assertThat(stdout(later.run(), 3))
            .containsExactly("reload: ANSWER=unset", "peers: 10.98.7.4");
        assertThat(events(AgentEvent.RunFinished.class, r -> r.trigger() == Trigger.FIRST_BOOT)).hasSize(1);
        assertThat(h.state(domain)).isEqualTo(DomainState.RUNNING);

        // another instance's namespace does not reach this IMDS: neither its stand-in VM nor the namespace itself
        run("ip", "netns", "add", spyNs);
        check(run("ip", "netns", "exec", spyNs, BUSYBOX, "sysctl", "-w", "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1"));
        check(run("ip", "link", "add", p + "s", "type", "veth", "peer", "name", "eth0", "netns", spyNs));
        // the root-side end only bridges: no IPv6 (no link-local address, no solicitations from the root namespace)
        Files.writeString(Path.of("/proc/sys/net/ipv6/conf", p + "s", "disable_ipv6"), "1");
        check(run("ip", "link", "set", p + "s", "master", spy.vmBridge(), "up"));
        ip(spyNs, "link set lo up\nlink set eth0 address " + spy.spec().mac() + "\n");
        Path script = dir.resolve("udhcpc.script");
        Files.writeString(script, "#!/bin/sh\ncase \"$1\" in\n  deconfig) ip link set \"$interface\" up ;;\n"
            + "  bound) ip addr add \"$ip/$mask\" dev \"$interface\"; ip route replace default via \"$router\" ;;\n"
            + "esac\n");
        script.toFile().setExecutable(true);
        check(run("ip", "netns", "exec", spyNs, BUSYBOX, "udhcpc", "-i", "eth0", "-s", script.toString(), "-t", "10",
            "-T", "1", "-n", "-q", "-f"));
        assertThat(run("ip", "netns", "exec", spyNs, BUSYBOX, "ping", "-c", "1", "-W", "3", "10.98.2.1").ok())
            .as("the stand-in reaches its own gateway").isTrue();
        Result steal = run("ip", "netns", "exec", spyNs, BUSYBOX, "wget", "-q", "-T", "3", "-O", "-", "--header",
            ImdsProtocol.TOKEN_HEADER + ": " + token, "http://169.254.169.254/v1/spec");
        assertThat(steal.ok()).as("IMDS of web-0 from spy's stand-in: %s", steal).isFalse();
        assertThat(steal.out()).doesNotContain("pods-spec");
        final LinuxNetworkDriver d = driver;
        assertThatThrownBy(() -> d.connectInNamespace("spy", ImdsProtocol.METADATA_ADDRESS, Duration.ofSeconds(2)))
            .isInstanceOf(NetworkException.class);
        // while web-0's own namespace does
        d.connectInNamespace("web-0", ImdsProtocol.METADATA_ADDRESS, Duration.ofSeconds(2)).close();
        passed = true;
      } finally {
        if (!passed) {
          System.out.println("==== console of " + domain + " ====\n" + hv.consoleOutput(domain)
              + "\n==== events ====\n" + String.join("\n", events.stream().map(Object::toString).toList()));
        }
      }
    } finally {
      teardown(hv, disks, driver, imds, p, dir, spyNs, List.of(outNs, hostNs), domain);
    }
    assertNothingLeft(instDir, p, dir, domain);
  }

  private static NetworkSpec netSpec(String p, String owner, String id, int i, String hostNs) {
    return NetworkSpec.builder().instanceId(id).owner(owner).hostname(id)
        .mac(String.format("52:54:00:e2:%02x:%02x", Integer.parseInt(p.substring(2, 4), 36) % 256, i))
        .subnet(Cidr.parse("10.98." + i + ".0/30"))
        .dnsServer(Cidr.parseAddress("10.99.0.53"))
        .hostNamespace(hostNs)
        .uplink(new NetworkUplink(p + "UP", Cidr.parseAddress("10.99.1." + i), 16, Cidr.parseAddress("10.99.0.1")))
        .firewall(NetworkFirewall.open())
        .build();
  }

  // ------------------------------------------------------------------------------------------ teardown

  private void teardown(LibvirtHypervisor hv, DiskImages disks, LinuxNetworkDriver driver, ImdsServer imds, String p,
      Path dir, String standIn, List<String> namespaces, String domain) throws Exception {
    List<Throwable> errors = new ArrayList<>();
    step(errors, () -> {
      if (imds != null) {
        imds.close();
      }
    });
    step(errors, () -> {
      if (hv.state(domain) != DomainState.MISSING) {
        hv.undefine(domain);
      }
      disks.deleteInstance(domain);
    });
    step(errors, () -> {
      for (Process pr : processes) {
        pr.destroy();
        if (!pr.waitFor(5, TimeUnit.SECONDS)) {
          pr.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      }
    });
    // the stand-in first (its veth hangs on a VM bridge), then the networks, then the uplink they hang on
    step(errors, () -> removeNamespace(standIn));
    step(errors, () -> {
      if (driver != null) {
        driver.reap(NET_OWNER_PREFIX + p);
        driver.close();
      }
    });
    for (String ns : namespaces) {
      step(errors, () -> removeNamespace(ns));
    }
    if (errors.isEmpty()) {
      // kept otherwise: the next run reaps by it
      step(errors, () -> deleteTree(dir));
    }
    step(errors, hv::close);
    if (!errors.isEmpty()) {
      AssertionError e = new AssertionError("teardown failed: " + errors);
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  private static void assertNothingLeft(Path instDir, String p, Path dir, String domain) throws Exception {
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      assertThat(hv.listAll()).noneMatch(i -> i.name().startsWith(p));
      assertThat(hv.state(domain)).isEqualTo(DomainState.MISSING);
    }
    assertThat(namespaces(p)).as("namespaces").isEmpty();
    assertThat(rootLinks(p)).as("links in the root namespace").isEmpty();
    assertThat(run("nft", "list", "tables").out()).as("nft tables").doesNotContain(p);
    assertThat(processesMentioning(p)).as("processes").isEmpty();
    assertThat(Files.exists(dir)).as("run directory").isFalse();
    assertThat(Files.exists(instDir)).as("instance folder").isFalse();
  }

  // ------------------------------------------------------------------------------------------ events

  private AgentEvent.RunFinished awaitRun(Trigger trigger, int nth, Duration timeout) throws InterruptedException {
    Predicate<AgentEvent.RunFinished> p = r -> r.trigger() == trigger;
    boolean ok = await(timeout, () -> events(AgentEvent.RunFinished.class, p).size() >= nth);
    assertThat(ok).as("run %s #%s finished within %s", trigger, nth, timeout).isTrue();
    return events(AgentEvent.RunFinished.class, p).get(nth - 1);
  }

  private AgentEvent.RunStarted started(String run) {
    return events(AgentEvent.RunStarted.class, r -> r.run().equals(run)).get(0);
  }

  private List<String> stdout(String run, int block) {
    return events(AgentEvent.OutputLine.class, l -> l.run().equals(run) && l.block() == block
        && l.stream() == OutputStream.STDOUT).stream().map(AgentEvent.OutputLine::line).toList();
  }

  private <T extends AgentEvent> List<T> events(Class<T> type, Predicate<T> p) {
    return events.stream().filter(type::isInstance).map(type::cast).filter(p).toList();
  }

  private static boolean await(Duration timeout, BooleanSupplier p) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (p.getAsBoolean()) {
        return true;
      }
      Thread.sleep(50);
    }
    return p.getAsBoolean();
  }

  /** Prints the guest's own clock at its boot markers (kernel start = 0). */
  private static void printGuestTimes(String console) {
    console.lines().filter(l -> l.startsWith("PODS-") && l.contains("uptime=")).forEach(l ->
        System.out.println("e2e: guest " + l.strip()));
  }

  // ------------------------------------------------------------------------------------------ host helpers

  private static void ip(String ns, String batch) throws IOException, InterruptedException {
    Process pr = new ProcessBuilder("ip", "-n", ns, "-batch", "-").redirectErrorStream(true).start();
    try (var o = pr.getOutputStream()) {
      o.write(batch.getBytes(StandardCharsets.UTF_8));
    }
    String out;
    try (var in = pr.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!pr.waitFor(60, TimeUnit.SECONDS) || pr.exitValue() != 0) {
      throw new IOException("ip -n " + ns + " -batch failed: " + out + "\n" + batch);
    }
  }

  private static void assumeCapable() throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"), "needs Linux");
    assumeTrue(Files.readAllLines(Path.of("/proc/self/status")).stream()
        .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0")), "needs root");
    for (String c : List.of("ip", "nft", "dnsmasq", "genisoimage", "virsh")) {
      assumeTrue(onPath(c), c + " is not installed");
    }
    assumeTrue(Files.isExecutable(Path.of(BUSYBOX)), BUSYBOX + " is missing (busybox-static)");
    assumeTrue(run("virsh", "-c", LibvirtHypervisor.configuredUri(), "version").ok(), "libvirtd is not reachable");
  }

  /** Removes one of this test's own namespaces: the processes in it (started by this test), its links, itself. */
  private static void removeNamespace(String ns) throws Exception {
    if (!Files.exists(Path.of("/run/netns", ns))) {
      return;
    }
    for (String pid : run("ip", "netns", "pids", ns).out().split("\\s+")) {
      if (!pid.isBlank()) {
        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    StringBuilder del = new StringBuilder();
    for (String l : run("ip", "-n", ns, "-o", "link", "show").out().lines().toList()) {
      String name = l.split(":\\s*")[1].split("@")[0];
      if (!name.equals("lo")) {
        del.append("link del ").append(name).append('\n');
      }
    }
    if (del.length() > 0) {
      Process pr = new ProcessBuilder("ip", "-n", ns, "-force", "-batch", "-").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      try (var o = pr.getOutputStream()) {
        o.write(del.toString().getBytes(StandardCharsets.UTF_8));
      }
      pr.waitFor(30, TimeUnit.SECONDS);
    }
    Result r = run("ip", "netns", "del", ns);
    if (!r.ok()) {
      throw new IOException("ip netns del " + ns + ": " + r.out());
    }
  }

  /** Leftovers of runs whose JVM died: their networks (by the driver's own reaping), namespaces and files. */
  private static void reapEarlierRuns() throws Exception {
    for (HostTools.DeadRun dead : HostTools.deadRuns(NET_ROOT, "pe????")) {
      Path run = dead.dir();
      String p = dead.prefix();
      System.out.println("e2e: reaping leftovers of crashed run " + p);
      removeNamespace(p + "x-spy");
      if (Files.isDirectory(run.resolve("net"))) {
        try (LinuxNetworkDriver d = LinuxNetworkDriver.builder().stateDir(run.resolve("net")).prefix(p).build()) {
          d.reap(NET_OWNER_PREFIX + p);
        }
      }
      // what the driver could not tell was its own any more (its state half gone): all named by this run's prefix
      for (String ns : namespaces(p)) {
        removeNamespace(ns);
      }
      for (String link : rootLinks(p)) {
        run("ip", "link", "del", link);
      }
      deleteTree(run);
    }
  }

}
