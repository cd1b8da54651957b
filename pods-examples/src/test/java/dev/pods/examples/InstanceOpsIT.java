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
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.KvmInstanceFiles;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.kvm.Reaper;
import dev.pods.net.LinuxNetworkDriver;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
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
 * Waits, {@link Instance#endpoint(int)} and {@link Instance#restart()} on one real tiny guest (libvirt, TCG here,
 * the Linux network driver, the IMDS in the instance's namespace): the guest's reboot block starts busybox httpd
 * on port 80; the test waits for the port, fetches pages through the endpoint on 127.0.0.1 (the forwarder opens
 * its connections inside the instance's namespace, so the test itself sends traffic to loopback only), restarts
 * the instance, sees the reboot block run again with a new boot id, fetches again, and checks that destroy leaves
 * nothing, the endpoint's listener included.
 *
 * <p>Every name starts with the per-run prefix {@code op????}; leftovers of runs whose JVM died are reaped first.
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class InstanceOpsIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-ops-it");
  private static final Path DISK_ROOT = Path.of(System.getProperty("pods.test.dir", "/var/lib/pods/test"));
  private static final String OWNER_PREFIX = "podsops-owner-";
  private static final Duration BOOT = Duration.ofMinutes(5);

  private static Pod pod() {
    return Pod.builder().name("ops")
        .unit(Unit.builder().name("web").image("tiny").memoryMib(192)
            .script(Script.shell(Phase.INITIAL,
                "mkdir -p /srv\necho \"hello from $(hostname)\" >/srv/index.html\necho page written\n"))
            .script(Script.shell(Phase.REBOOT, """
                mkdir -p /srv
                cat /proc/sys/kernel/random/boot_id >/srv/boot.txt
                busybox httpd -p 80 -h /srv </dev/null >/dev/null 2>&1
                echo "httpd up, boot $(cat /srv/boot.txt)"
                """))
            .build())
        .build();
  }

  @Test
  void waitsForwardsAPortAndRestartsATinyGuest() throws Exception {
    assumeVmHost();
    reapDeadRuns(RUN_ROOT, "op", OWNER_PREFIX, "ops-it");
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String p = "op" + "0000".substring(rnd.length()) + rnd;
    Path dir = Files.createDirectories(RUN_ROOT.resolve(p));
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    String hostNs = p + "x-host";
    String owner = Reaper.ownerLabel(OWNER_PREFIX, p);
    DiskImages disks = DiskImages.at(DISK_ROOT);
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    List<PodEvent> events = new CopyOnWriteArrayList<>();

    LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    LinuxNetworkDriver driver = null;
    PodRuntime runtime = null;
    Deployment d = null;
    String domain = null;
    InetSocketAddress endpoint = null;
    try {
      Reaper.reap(hv, disks, Reaper.deadProcess(OWNER_PREFIX));
      Reaper.reapFolders(hv, disks, n -> n.matches("op[0-9a-z]{4}-.*"), Duration.ofMinutes(10));
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

      long t0 = System.nanoTime();
      d = runtime.deploy(pod());
      d.events().subscribe(events::add);
      Instance web = d.instance("web", 0);
      domain = web.domainName();
      try {
        d.await(Wait.forPhase(Phase.INITIAL), BOOT);
        long ready = System.nanoTime();
        web.await(Wait.allOf(Wait.forOutput("^page written$"), Wait.forPort(80)), Duration.ofMinutes(1));
        long portUp = System.nanoTime();
        endpoint = web.endpoint(80);
        assertThat(endpoint.getAddress().isLoopbackAddress()).isTrue();
        assertThat(web.endpoint(80)).isEqualTo(endpoint);
        assertThat(jvmListensOn(endpoint.getPort())).isTrue();
        assertThat(get(endpoint, "/")).isEqualTo("hello from web-0\n");
        long[] gets = new long[20];
        for (int k = 0; k < gets.length; k++) {
          long g0 = System.nanoTime();
          assertThat(get(endpoint, "/")).isEqualTo("hello from web-0\n");
          gets[k] = System.nanoTime() - g0;
        }
        java.util.Arrays.sort(gets);
        System.out.printf("ops-it: GET / through the endpoint (new connection each): p50 %.1f ms, max %.1f ms%n",
            gets[gets.length / 2] / 1e6, gets[gets.length - 1] / 1e6);
        String boot1 = get(endpoint, "/boot.txt").strip();
        assertThat(boot1).matches("[0-9a-f-]{36}");
        web.await(Wait.forOutput("^httpd up, boot " + boot1 + "$"), Duration.ofSeconds(10));
        System.out.printf("ops-it: deploy -> initial done %d ms, -> port 80 open %d ms (tiny guest, TCG)%n",
            TimeUnit.NANOSECONDS.toMillis(ready - t0), TimeUnit.NANOSECONDS.toMillis(portUp - t0));

        java.time.Instant restartedAt = java.time.Instant.now();
        long r0 = System.nanoTime();
        web.restart();
        long r1 = System.nanoTime();
        assertThat(web.state()).isIn(InstanceState.BOOTING, InstanceState.READY);
        web.await(Wait.allOf(Wait.forPhase(Phase.REBOOT), Wait.forOutput("^httpd up, boot ", 2), Wait.forPort(80)),
            BOOT);
        long r2 = System.nanoTime();
        System.out.printf("ops-it: restart() returned after %d ms; reboot phase done and port 80 open after %d ms%n",
            TimeUnit.NANOSECONDS.toMillis(r1 - r0), TimeUnit.NANOSECONDS.toMillis(r2 - r0));
        PodEvent.PhaseStarted rebootRun = events.stream()
            .filter(e -> e instanceof PodEvent.PhaseStarted ps && ps.trigger() == Trigger.REBOOT)
            .map(PodEvent.PhaseStarted.class::cast).findFirst().orElseThrow();
        System.out.printf("ops-it: restart -> the agent starts the reboot run %d ms (guest boot, DHCP, agent start)%n",
            Duration.between(restartedAt, rebootRun.at()).toMillis());
        assertThat(web.state()).isEqualTo(InstanceState.READY);
        String boot2 = get(endpoint, "/boot.txt").strip();
        assertThat(boot2).matches("[0-9a-f-]{36}").isNotEqualTo(boot1);
        assertThat(web.recentOutput()).contains("httpd up, boot " + boot1, "httpd up, boot " + boot2);
        // a guest reboot keeps the emulator, and so its console log: both boots are in it
        assertThat(web.consoleOutput().split("PODS-INIT", -1)).hasSize(3);

        // no grace: powered off and on at once; the log starts anew, the reboot block runs a third time
        long c0 = System.nanoTime();
        web.restart(Duration.ZERO);
        long c1 = System.nanoTime();
        web.await(Wait.allOf(Wait.forPhase(Phase.REBOOT), Wait.forOutput("^httpd up, boot ", 3), Wait.forPort(80)),
            BOOT);
        System.out.printf("ops-it: restart(ZERO) (power cycle) returned after %d ms; reboot phase done after %d ms%n",
            TimeUnit.NANOSECONDS.toMillis(c1 - c0), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - c0));
        String boot3 = get(endpoint, "/boot.txt").strip();
        assertThat(boot3).matches("[0-9a-f-]{36}").isNotIn(boot1, boot2);
        assertThat(web.consoleOutput()).containsOnlyOnce("PODS-INIT");
        assertThat(web.state()).isEqualTo(InstanceState.READY);
        for (PodEvent e : events) {
          if (e instanceof PodEvent.PhaseFinished f) {
            System.out.printf("ops-it: %s run took %d ms (agent's measure)%n", f.trigger(), f.duration().toMillis());
          }
        }
        assertThat(events).filteredOn(PodEvent.StateChanged.class::isInstance)
            .extracting(e -> ((PodEvent.StateChanged) e).from() + "->" + ((PodEvent.StateChanged) e).to())
            .containsSubsequence("INITIALIZING->READY", "READY->BOOTING", "BOOTING->READY");
        assertThat(events).filteredOn(PodEvent.PhaseFinished.class::isInstance)
            .extracting(e -> ((PodEvent.PhaseFinished) e).trigger() + " " + ((PodEvent.PhaseFinished) e).ok())
            .containsSubsequence(Trigger.FIRST_BOOT + " true", Trigger.REBOOT + " true");
      } catch (Throwable t) {
        System.out.println("==== " + web.name() + " " + web.state() + " console ====\n" + web.consoleOutput());
        System.out.println("==== events ====\n" + String.join("\n", events.stream().map(Object::toString).toList()));
        throw t;
      }

      d.destroy();
      d = null;
      // the freed port may be bound by any process on the host: ask whether this JVM still listens on it
      assertThat(jvmListensOn(endpoint.getPort())).as("this JVM listens on the endpoint's port").isFalse();
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

    try (LibvirtHypervisor h = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      assertThat(h.listAll()).as("domains").noneMatch(i -> i.name().startsWith(p));
    }
    assertThat(Files.exists(DISK_ROOT.resolve("instances").resolve(domain))).as("files of %s", domain).isFalse();
    assertThat(namespaces(p)).as("namespaces").isEmpty();
    assertThat(rootLinks(p)).as("links in the root namespace").isEmpty();
    assertThat(run("nft", "list", "tables").out()).as("nft tables").doesNotContain(p);
    assertThat(processesMentioning(p)).as("processes").isEmpty();
    assertThat(Files.exists(dir)).as("run directory").isFalse();
  }

  /** Whether this JVM has a listening TCP socket on {@code port} in the root namespace (by {@code ss}). */
  private static boolean jvmListensOn(int port) throws Exception {
    return run("ss", "-Hltnp", "sport = :" + port).out().contains("pid=" + ProcessHandle.current().pid() + ",");
  }

  /** GET through the endpoint on 127.0.0.1 (no proxy): the body, when the status is 200. */
  private static String get(InetSocketAddress endpoint, String path) throws IOException {
    URL url = URI.create("http://127.0.0.1:" + endpoint.getPort() + path).toURL();
    HttpURLConnection c = (HttpURLConnection) url.openConnection(Proxy.NO_PROXY);
    c.setConnectTimeout(10_000);
    c.setReadTimeout(30_000);
    try {
      assertThat(c.getResponseCode()).as("GET %s", path).isEqualTo(200);
      try (InputStream in = c.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } finally {
      c.disconnect();
    }
  }

  // ------------------------------------------------------------------------------------------ host helpers
}
