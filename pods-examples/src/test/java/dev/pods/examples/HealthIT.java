package dev.pods.examples;

import static dev.pods.examples.HostTools.check;
import static dev.pods.examples.HostTools.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.RestartPolicy;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.ExecRequest;
import dev.pods.imds.ExecResult;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.spi.HypervisorEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Failures the runtime did not cause, on one deployment of three real tiny guests (libvirt, TCG here, the Linux
 * network driver): {@code virsh destroy}, {@code kill -9} of QEMU, a guest {@code poweroff -f} under
 * {@code restart: always}, a kernel panic ({@code echo c > /proc/sysrq-trigger}; the tiny kernel runs with
 * {@code panic=-1}, so it resets at once), SIGSTOP of QEMU beyond the liveness timeout then SIGCONT, and a guest
 * power-off under {@code restart: on-failure}. In each case the instance leaves READY with what happened, a peer's
 * reload block (which runs {@code pods get +/unit/web/private_ips} in the guest) drops it and lists it again, it
 * comes back READY with the same address, and the pod keeps exactly its three domains; at the end nothing is left.
 * Detection and recovery times are printed ({@code health-it:} lines), against the deploy's boot as baseline.
 *
 * <p>Three more tests, each with its own small pod: declared health checks and a guest frozen for good
 * ({@link #declaredChecksAndLongSilenceDecideListingAndRestarts}), a broken network (dnsmasq killed, namespace
 * deleted) then a simulated host reboot ({@link #aPodComesBackAfterASimulatedHostReboot}), and libvirtd restarted
 * while an instance restarts ({@link #anInstanceRestartingWhileLibvirtdRestartsComesBackOnce}, only with
 * {@code -Dpods.test.restartLibvirtd=true}).
 *
 * <p>Every name starts with the per-run prefix {@code hl????} ({@code hc????}, {@code hb????}, {@code hr????});
 * leftovers of runs whose JVM died are reaped first.
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class HealthIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-health-it");
  private static final String OWNER_PREFIX = "podshealth-owner-";
  private static final Duration BOOT = Duration.ofMinutes(4);
  /**
   * The web unit's liveness timeout (its agent then polls every 3 s); a guest silent for twice this is power-cycled,
   * so the SIGSTOP case has one timeout's time to see the peer drop it before its SIGCONT.
   */
  private static final Duration LIVENESS = Duration.ofSeconds(10);

  /**
   * A web unit with declared checks, as a template: readiness is an HTTP GET of {@code /ok} served by busybox
   * httpd, liveness an exec of {@code test ! -e /tmp/die} through the agent. Its reboot block (run at every boot)
   * starts httpd; the tiny guest's root is an initramfs, so {@code /tmp/die} is gone after a restart.
   */
  private static final String CHECKED_WEB = """
      # Web with health checks

      ```yaml
      name: web
      kind: instance
      image: tiny
      memory: 160
      livenessTimeout: 6
      readiness:
        - {http: /ok, port: 80, interval: 1, timeout: 1, failures: 2}
      liveness:
        - {exec: [test, "!", -e, /tmp/die], interval: 2, timeout: 2, failures: 2}
      ```

      ```sh {phase=reboot}
      mkdir -p /www && echo ok > /www/ok && httpd -p 80 -h /www && echo "httpd up"
      ```
      """;

  private static Pod pod() {
    return Pod.builder().name("hl")
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(160).livenessTimeout(LIVENESS)
            .script(Script.shell(Phase.INITIAL, "echo web up\n"))
            .script(Script.shell(Phase.REBOOT, "echo \"boot $(cat /proc/sys/kernel/random/boot_id)\"\n"))
            .build())
        .unit(Unit.builder().name("job").image("tiny").memoryMib(160).restart(RestartPolicy.ON_FAILURE)
            .script(Script.shell(Phase.INITIAL, "echo job up\n"))
            .script(Script.shell(Phase.RELOAD, "echo \"web peers: $(pods get +/unit/web/private_ips)\"\n"))
            .build())
        .build();
  }

  @Test
  void failuresBehindTheRuntimesBackAreSeenToldAndMended() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "hl", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    EventLog events = new EventLog();
    List<String> domains = new ArrayList<>();
    List<String> figures = new ArrayList<>();
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "hl", OWNER_PREFIX,
        image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")));
    String uri = LibvirtHypervisor.configuredUri();
    List<HypervisorEvent> hvEvents = new java.util.concurrent.CopyOnWriteArrayList<>();
    rig.hv.subscribe(hvEvents::add);
    try {
      long t0 = System.nanoTime();
      java.time.Instant deployed = java.time.Instant.now();
      Deployment d = rig.runtime.deploy(pod());
      d.events().subscribe(events::add);
      d.instances().forEach(i -> domains.add(i.domainName()));
      Instance web0 = d.instance("web", 0);
      Instance web1 = d.instance("web", 1);
      Instance job = d.instance("job", 0);
      try {
        d.awaitReady(BOOT);
        figures.add(String.format("deploy -> all 3 READY %d ms", ms(System.nanoTime() - t0)));
        java.util.Map<String, Long> freshBoot = new java.util.HashMap<>();
        for (Instance i : d.instances()) {
          PodEvent ready = events.awaitAny(0, stateChange(i, InstanceState.READY), BOOT);
          freshBoot.put(i.name(), Duration.between(deployed, ready.at()).toNanos());
          figures.add(String.format("%s: deploy -> READY %d ms (its fresh boot, the baseline)", i.name(),
              ms(freshBoot.get(i.name()))));
        }
        assertThat(tiny.cmdline("")).as("the tiny guest resets on a panic").contains("panic=-1");
        String jobAddress = job.privateAddress().getHostAddress();
        Set<String> before = domainsOf(rig);
        assertThat(before).hasSize(3);

        // 1. virsh destroy: STOPPED at once, restarted after 10 s (the same domain)
        fault("virsh destroy", web0, job, events, hvEvents, rig, before, figures, freshBoot,
            () -> check(run("virsh", "-c", uri, "destroy", web0.domainName())), "its domain was destroyed at ");

        // 2. kill -9 of the QEMU process
        fault("kill -9 qemu", web1, job, events, hvEvents, rig, before, figures, freshBoot,
            () -> check(run("kill", "-9", qemuPid(web1))), "its emulator process died at ");

        // 3. the guest powers itself off under restart: always (web-0's second restart: 20 s back-off)
        fault("guest poweroff (always)", web0, job, events, hvEvents, rig, before, figures, freshBoot,
            () -> web0.execAsync(ExecRequest.of("poweroff", "-f")), "the guest powered itself off at ");

        // 4. a kernel panic: the guest resets (panic=-1), BOOTING until its reboot run ended
        long mark = events.mark();
        long p0 = System.nanoTime();
        web1.execAsync(ExecRequest.of("sh", "-c", "echo c > /proc/sysrq-trigger"));
        PodEvent.StateChanged booting = events.await(mark, stateChange(web1, InstanceState.BOOTING), BOOT);
        long panicSeen = System.nanoTime() - p0;
        assertThat(booting.reason()).contains("the guest rebooted by itself");
        events.await(mark, stateChange(web1, InstanceState.READY), BOOT);
        figures.add(String.format("kernel panic: leaves READY %d ms, READY again %d ms", ms(panicSeen),
            ms(System.nanoTime() - p0)));
        assertThat(web1.consoleOutput()).contains("Kernel panic");
        assertThat(domainsOf(rig)).isEqualTo(before);

        // 5. SIGSTOP of QEMU beyond the liveness timeout: UNHEALTHY, peers drop it; SIGCONT: READY, listed again
        mark = events.mark();
        String pid = qemuPid(web1);
        long s0 = System.nanoTime();
        check(run("kill", "-STOP", pid));
        try {
          PodEvent.StateChanged unhealthy = events.await(mark, stateChange(web1, InstanceState.UNHEALTHY),
              LIVENESS.plusSeconds(30));
          long frozenSeen = System.nanoTime() - s0;
          assertThat(unhealthy.reason()).startsWith("no contact from its guest since ");
          assertThat(peerLine(events, mark, web1, false)).isNotNull();
          figures.add(String.format("SIGSTOP: UNHEALTHY after %d ms (liveness timeout %d s)", ms(frozenSeen),
              LIVENESS.toSeconds()));
        } finally {
          check(run("kill", "-CONT", pid));
        }
        long c0 = System.nanoTime();
        events.await(mark, stateChange(web1, InstanceState.READY), Duration.ofMinutes(1));
        assertThat(peerLine(events, mark, web1, true)).isNotNull();
        figures.add(String.format("SIGCONT: READY again %d ms", ms(System.nanoTime() - c0)));

        // 6. the guest powers itself off under restart: on-failure: stays STOPPED; start() brings it back
        mark = events.mark();
        long o0 = System.nanoTime();
        job.execAsync(ExecRequest.of("poweroff", "-f"));
        PodEvent.StateChanged off = events.await(mark, stateChange(job, InstanceState.STOPPED), BOOT);
        figures.add(String.format("guest poweroff (on-failure): STOPPED after %d ms, not restarted",
            ms(System.nanoTime() - o0)));
        assertThat(off.reason()).startsWith("the guest powered itself off at ")
            .endsWith("; not restarted (restart: on-failure)");
        assertThat(job.status().restartAt()).isNull();
        long e0 = System.nanoTime();
        try {
          job.exec("true");
          throw new AssertionError("exec in a stopped instance succeeded");
        } catch (PodsException e) {
          assertThat(e).hasMessageContaining("instance job-0 is STOPPED: the guest powered itself off at");
        }
        assertThat(System.nanoTime() - e0).isLessThan(TimeUnit.SECONDS.toNanos(2));
        job.start();
        events.await(mark, stateChange(job, InstanceState.READY), BOOT);
        assertThat(job.privateAddress().getHostAddress()).isEqualTo(jobAddress);
        assertThat(domainsOf(rig)).isEqualTo(before);
        assertThat(d.isReady()).isTrue();
      } catch (Throwable t) {
        for (Instance i : d.instances()) {
          System.out.println("==== " + i.name() + " " + i.status() + " console ====\n" + i.consoleOutput());
        }
        System.out.println("==== events ====\n" + String.join("\n", events.all().stream().map(Object::toString)
            .toList()));
        throw t;
      } finally {
        figures.forEach(f -> System.out.println("health-it: " + f));
        d.destroy();
      }
    } finally {
      rig.close();
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  /**
   * Declared checks on real tiny guests: a failing readiness check (the HTTP page removed) makes web-0 UNHEALTHY
   * and its peer's view (through {@code pods get} in the peer) drops it, and lists it again when the page is back;
   * a failing liveness check (an exec through the agent) powers its domain off and the restart policy starts the
   * same domain again, READY with the same address; a peer frozen (SIGSTOP, never continued) for twice its
   * liveness timeout is power-cycled and READY again. Figures are printed ({@code health-check-it:} lines).
   */
  @Test
  void declaredChecksAndLongSilenceDecideListingAndRestarts() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "hc", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    EventLog events = new EventLog();
    List<String> domains = new ArrayList<>();
    List<String> figures = new ArrayList<>();
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "hc", OWNER_PREFIX,
        image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")));
    try {
      Deployment d = rig.runtime.deploy(Pod.builder().name("hc")
          .unit(dev.pods.template.Templates.parse("web.md", CHECKED_WEB))
          .unit(Unit.builder().name("peer").image("tiny").memoryMib(160).livenessTimeout(Duration.ofSeconds(6))
              .script(Script.shell(Phase.INITIAL, "echo peer up\n"))
              .script(Script.shell(Phase.RELOAD, "echo \"web peers: $(pods get +/unit/web/private_ips)\"\n"))
              .build())
          .build());
      d.events().subscribe(events::add);
      d.instances().forEach(i -> domains.add(i.domainName()));
      Instance web = d.instance("web", 0);
      Instance peer = d.instance("peer", 0);
      String webIp = web.privateAddress().getHostAddress();
      try {
        d.awaitReady(BOOT);
        assertThat(web.recentOutput()).contains("httpd up");
        assertThat(peerGet(peer)).contains(webIp);
        Set<String> before = domainsOf(rig);

        // 1. readiness: the page goes, web-0 is UNHEALTHY and leaves its peer's view; the page comes back, so does it
        long mark = events.mark();
        long t0 = System.nanoTime();
        assertThat(web.exec("rm", "/www/ok").exitCode()).isZero();
        PodEvent.StateChanged unready = events.await(mark, stateChange(web, InstanceState.UNHEALTHY), BOOT);
        long unreadySeen = System.nanoTime() - t0;
        assertThat(unready.reason()).isEqualTo("its readiness check http GET /ok on port 80 failed 2 times in a row "
            + "(last: status 404)");
        assertThat(peerLine(events, mark, web, false)).isNotNull();
        assertThat(peerGet(peer)).doesNotContain(webIp);
        assertThat(rig.hv.state(web.domainName())).isEqualTo(dev.pods.spi.DomainState.RUNNING);
        long t1 = System.nanoTime();
        assertThat(web.exec("sh", "-c", "echo ok > /www/ok").exitCode()).isZero();
        PodEvent.StateChanged ready = events.await(mark, stateChange(web, InstanceState.READY), BOOT);
        long readySeen = System.nanoTime() - t1;
        assertThat(ready.reason()).startsWith("its health checks pass again at ");
        assertThat(peerLine(events, mark, web, true)).isNotNull();
        assertThat(peerGet(peer)).contains(webIp);
        figures.add(String.format("readiness check fails: UNHEALTHY %d ms after the page went; passes: READY %d ms "
            + "after it came back", ms(unreadySeen), ms(readySeen)));

        // 2. liveness: the exec check fails, the domain is powered off and the restart policy starts it again
        mark = events.mark();
        long l0 = System.nanoTime();
        assertThat(web.exec("touch", "/tmp/die").exitCode()).isZero();
        PodEvent.StateChanged killed = events.await(mark, stateChange(web, InstanceState.STOPPED), BOOT);
        long killedSeen = System.nanoTime() - l0;
        assertThat(killed.reason()).startsWith("its liveness check exec [test, !, -e, /tmp/die] failed 2 times in a "
            + "row (last: exit code 1); its domain was powered off at ");
        assertThat(peerLine(events, mark, web, false)).isNotNull();
        PodEvent.StateChanged restarting = events.await(mark, stateChange(web, InstanceState.BOOTING), BOOT);
        assertThat(restarting.reason()).startsWith("restart 1 by its restart policy (always) after: its liveness check");
        long r0 = System.nanoTime();
        events.await(mark, stateChange(web, InstanceState.READY), BOOT);
        long back = System.nanoTime() - r0;
        events.awaitAny(mark, e -> e instanceof PodEvent.OutputLine o && o.instance().equals(web.name())
            && o.line().equals("httpd up"), BOOT); // its boot after the restart served the page again
        assertThat(web.privateAddress().getHostAddress()).isEqualTo(webIp);
        assertThat(domainsOf(rig)).isEqualTo(before);
        assertThat(peerLine(events, mark, web, true)).isNotNull();
        assertThat(peerGet(peer)).contains(webIp);
        figures.add(String.format("liveness check fails: STOPPED (powered off) %d ms after the fault; restart "
            + "back-off, then READY %d ms after its start", ms(killedSeen), ms(back)));

        // 3. a guest frozen for twice its liveness timeout (6 s) is power-cycled, then READY again
        mark = events.mark();
        String peerIp = peer.privateAddress().getHostAddress();
        long f0 = System.nanoTime();
        check(run("kill", "-STOP", qemuPid(peer)));
        events.await(mark, stateChange(peer, InstanceState.UNHEALTHY), BOOT);
        long unhealthy = System.nanoTime() - f0;
        PodEvent.StateChanged cycled = events.await(mark, stateChange(peer, InstanceState.STOPPED), BOOT);
        long cycledSeen = System.nanoTime() - f0;
        assertThat(cycled.reason()).startsWith("no contact from its guest since ")
            .contains("(twice its liveness timeout of 6 s); its domain was powered off at ");
        long p0 = System.nanoTime();
        events.await(mark, stateChange(peer, InstanceState.READY), BOOT);
        figures.add(String.format("QEMU frozen for good: UNHEALTHY after %d ms, powered off after %d ms, READY "
            + "again %d ms later (10 s back-off and a boot)", ms(unhealthy), ms(cycledSeen), ms(System.nanoTime() - p0)));
        assertThat(peer.privateAddress().getHostAddress()).isEqualTo(peerIp);
        assertThat(domainsOf(rig)).isEqualTo(before);
        assertThat(peerGet(peer)).contains(webIp);
        assertThat(d.isReady()).isTrue();
      } catch (Throwable t) {
        for (Instance i : d.instances()) {
          System.out.println("==== " + i.name() + " " + i.status() + " console ====\n" + i.consoleOutput());
        }
        System.out.println("==== events ====\n" + String.join("\n", events.all().stream().map(Object::toString)
            .toList()));
        throw t;
      } finally {
        figures.forEach(f -> System.out.println("health-check-it: " + f));
        d.destroy();
      }
    } finally {
      rig.close();
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  /**
   * A network broken behind the runtime's back, then a simulated host reboot, on one pod of two tiny guests. First
   * web-0's dnsmasq is killed: a DHCP request of its guest must be answered again (udhcpc asking for its address);
   * then its namespace is deleted: it must be built again with the same name, and the guest must reach its
   * metadata service (an exec) and be READY again with its address. Then a simulated host reboot: its runtime
   * goes (closed: threads and listeners, as a JVM that dies), then every domain of the pod is destroyed, every
   * dnsmasq of its instances killed and every instance namespace deleted (the rig's host namespace stays: it stands
   * for the host itself); a new runtime with a new network driver on the same state folders adopts the pod. Every
   * instance must be restarted, not rebuilt: READY again with its addresses, on its kept root disk (what web-0's
   * {@code initial} block wrote on it is still there), its {@code reboot} block run and its {@code initial} block not
   * run again; the peer's view must list web-0 again, and the pod must hold exactly its domains and namespaces, none
   * more; at the end nothing is left. Both units boot the tiny kernel with a root overlay on a small blank base
   * image (the tiny guest's root stays its initramfs; the disk is {@code /dev/vda}). Figures
   * ({@code health-reboot-it:} lines): the repairs' times, and new runtime -> all READY against the first deploy.
   */
  @Test
  void aPodComesBackAfterASimulatedHostReboot() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "hb", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    List<String> domains = new ArrayList<>();
    Path blank = blankBase();
    dev.pods.ImageResolver images = image -> new BootImage(tiny.kernel(), tiny.initrd(), tiny.cmdline(""), blank);
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "hb", OWNER_PREFIX, images);
    String uri = LibvirtHypervisor.configuredUri();
    dev.pods.PodRuntime again = null;
    dev.pods.net.LinuxNetworkDriver driver2 = null;
    Deployment d2 = null;
    try {
      long t0 = System.nanoTime();
      Deployment d = rig.runtime.deploy(Pod.builder().name("hb")
          .unit(Unit.builder().name("web").image("tiny").memoryMib(160).diskSizeGib(1)
              // written once, on its root disk: a restart on the kept disk finds it again
              .script(Script.shell(Phase.INITIAL, "echo web up\n"
                  + "printf 'kept-%s' \"$(cut -c1-8 /proc/sys/kernel/random/boot_id)\" | dd of=/dev/vda 2>/dev/null\n"
                  + "sync\n"))
              .script(Script.shell(Phase.REBOOT, "echo \"disk says: $(head -c 13 /dev/vda)\"\n")).build())
          .unit(Unit.builder().name("peer").image("tiny").memoryMib(160).diskSizeGib(1)
              .script(Script.shell(Phase.INITIAL, "echo peer up\n")).build())
          .build());
      d.instances().forEach(i -> domains.add(i.domainName()));
      java.util.Map<String, String> addresses = new java.util.TreeMap<>();
      d.awaitReady(BOOT);
      long firstDeploy = System.nanoTime() - t0;
      d.instances().forEach(i -> addresses.put(i.name(), i.privateAddress().getHostAddress()));
      Set<String> before = domainsOf(rig);
      List<String> namespacesBefore = HostTools.namespaces(rig.prefix);
      assertThat(namespacesBefore).hasSize(3); // two instances and the rig's host namespace
      Instance web = d.instance("web", 0);
      String webIp = addresses.get("web-0");
      String marker = new String(web.exec("head", "-c", "13", "/dev/vda").stdout(),
          java.nio.charset.StandardCharsets.UTF_8);
      assertThat(marker).matches("kept-[0-9a-f]{8}");
      assertThat(web.recentOutput()).contains("web up", "disk says: " + marker);

      // web-0's dnsmasq killed: started again by the runtime's network check; a DHCP request of the guest is answered
      Path pidFile = rig.dir.resolve("net").resolve("instances").resolve(web.id()).resolve("dnsmasq.pid");
      String deadPid = Files.readString(pidFile).strip();
      long k0 = System.nanoTime();
      check(run("kill", "-9", deadPid));
      ExecResult dhcp = web.exec("udhcpc", "-n", "-q", "-f", "-i", "eth0", "-s", "/bin/true", "-r", webIp, "-t", "15",
          "-T", "2");
      long dhcpBack = System.nanoTime() - k0;
      String dhcpOut = new String(dhcp.stdout(), java.nio.charset.StandardCharsets.UTF_8)
          + new String(dhcp.stderr(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(dhcp.exitCode()).as("udhcpc: %s", dhcpOut).isZero();
      assertThat(dhcpOut).contains("lease of " + webIp + " obtained");
      assertThat(Files.readString(pidFile).strip()).isNotEqualTo(deadPid);
      assertThat(web.state()).isEqualTo(InstanceState.READY);

      // web-0's namespace deleted: built again with the same names and addresses; the guest reaches its metadata
      // service again (an exec goes through it)
      String webNs = rig.driver.find(web.id()).orElseThrow().namespace();
      long n0 = System.nanoTime();
      check(run("ip", "netns", "delete", webNs));
      long rebuilt = -1;
      long reached = -1;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (reached < 0 && System.nanoTime() < deadline) { // no event tells a repair: polled
        if (rebuilt < 0 && HostTools.namespaces(rig.prefix).contains(webNs)) {
          rebuilt = System.nanoTime() - n0;
        }
        if (rebuilt >= 0) {
          try {
            if (web.execAsync(ExecRequest.of("true").withTimeout(Duration.ofSeconds(5)))
                .get(10, TimeUnit.SECONDS).exitCode() == 0) {
              reached = System.nanoTime() - n0;
            }
          } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
              | IllegalStateException | dev.pods.PodsException e) {
            // the exec went to the metadata service being replaced, or to the domain being started again onto the
            // new tap: asked again until the deadline
          }
        } else {
          Thread.sleep(200);
        }
      }
      assertThat(reached).as("web-0 reached its metadata service again").isPositive();
      d.awaitReady(BOOT); // its domain was started again on the new tap: its reboot run ends
      long readyAgain = System.nanoTime() - n0;
      assertThat(web.status().attempt()).isZero(); // not a failure: no restart of the policy's
      assertThat(web.privateAddress().getHostAddress()).isEqualTo(webIp);
      assertThat(HostTools.namespaces(rig.prefix)).hasSameElementsAs(namespacesBefore);
      assertThat(domainsOf(rig)).isEqualTo(before);
      assertThat(peerGet(d.instance("peer", 0))).contains(webIp);
      System.out.println(String.format("health-reboot-it: dnsmasq killed -> the guest's DHCP request answered "
          + "after %d ms; namespace deleted -> rebuilt after %d ms, guest reaches its metadata service after %d ms,"
          + " READY after %d ms", ms(dhcpBack), ms(rebuilt), ms(reached), ms(readyAgain)));

      // the host goes down: the runtime's JVM, every domain, every dnsmasq, every instance namespace
      rig.runtime.close();
      for (String dom : domains) {
        check(run("virsh", "-c", uri, "destroy", dom));
      }
      try (java.util.stream.Stream<Path> pids = Files.find(rig.dir.resolve("net"), 4,
          (f, a) -> f.getFileName().toString().equals("dnsmasq.pid"))) {
        for (Path f : pids.toList()) {
          check(run("kill", "-9", Files.readString(f).strip()));
        }
      }
      for (String ns : namespacesBefore) {
        if (!ns.equals(rig.hostNs)) {
          check(run("ip", "netns", "delete", ns));
        }
      }
      assertThat(HostTools.namespaces(rig.prefix)).containsExactly(rig.hostNs);

      // the host is back: a new runtime, and a new driver, on the same state folders
      long r0 = System.nanoTime();
      driver2 = dev.pods.net.LinuxNetworkDriver.builder().stateDir(rig.dir.resolve("net")).prefix(rig.prefix).build();
      again = dev.pods.PodRuntime.builder()
          .hypervisor(rig.hv)
          .networkDriver(driver2)
          .instanceFiles(dev.pods.kvm.KvmInstanceFiles.on(rig.disks))
          .images(images)
          .stateDir(rig.dir.resolve("state"))
          .hostNamespace(rig.hostNs)
          .owner(rig.owner)
          .namePrefix(rig.prefix + "-")
          .build();
      d2 = again.deployment("hb").orElseThrow();
      EventLog runs = new EventLog();
      d2.events().subscribe(runs::add); // a run starts seconds after the adoption: when the guest has booted
      d2.awaitReady(BOOT);
      long back = System.nanoTime() - r0;
      Instance web2 = d2.instance("web", 0);
      for (String name : List.of("web-0", "peer-0")) { // the feed delivers on its own threads: may come after READY
        PodEvent.PhaseStarted boot = (PodEvent.PhaseStarted) runs.awaitAny(0, e -> e instanceof PodEvent.PhaseStarted s
            && s.instance().equals(name) && s.trigger() != Trigger.CLUSTER_CHANGE, BOOT);
        assertThat(boot.trigger()).as("%s: restarted, not rebuilt: its boot runs the reboot phase", name)
            .isEqualTo(Trigger.REBOOT);
      }
      assertThat(runs.all()).as("no initial phase").noneMatch(e -> e instanceof PodEvent.PhaseStarted s
          && s.trigger() == Trigger.FIRST_BOOT);
      assertThat(web2.recentOutput()).as("its reboot block ran, its initial block did not")
          .contains("disk says: " + marker).doesNotContain("web up");
      assertThat(new String(web2.exec("head", "-c", "13", "/dev/vda").stdout(),
          java.nio.charset.StandardCharsets.UTF_8)).as("what its initial block wrote on its disk").isEqualTo(marker);
      for (Instance i : d2.instances()) {
        assertThat(i.privateAddress().getHostAddress()).as(i.name()).isEqualTo(addresses.get(i.name()));
        assertThat(i.exec("true").exitCode()).isZero();
      }
      assertThat(peerGet(d2.instance("peer", 0))).contains(addresses.get("web-0"));
      assertThat(domainsOf(rig)).isEqualTo(before);
      assertThat(HostTools.namespaces(rig.prefix)).hasSameElementsAs(namespacesBefore);
      System.out.println(String.format("health-reboot-it: new runtime -> all READY %d ms (first deploy %d ms, "
          + "%.2fx)", ms(back), ms(firstDeploy), (double) back / firstDeploy));
    } finally {
      try {
        if (d2 != null) {
          d2.destroy();
        }
        if (again != null) {
          again.close();
        }
        if (driver2 != null) {
          driver2.close();
        }
      } finally {
        rig.close();
      }
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  /**
   * A blank 16 MiB qcow2 base image for root overlays, made once under the run root and kept (its path and time
   * stay the same, so the image cache keeps one copy of it, as of any image).
   */
  private static Path blankBase() throws Exception {
    Path blank = RUN_ROOT.resolve("blank-16m.qcow2");
    if (!Files.exists(blank)) {
      Files.createDirectories(RUN_ROOT);
      Path tmp = RUN_ROOT.resolve("blank-16m.qcow2.tmp-" + ProcessHandle.current().pid());
      check(run("qemu-img", "create", "-q", "-f", "qcow2", tmp.toString(), "16M"));
      Files.move(tmp, blank, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    return blank;
  }

  /**
   * libvirtd restarted while an instance restarts: web-0's domain is destroyed behind the runtime's back, and as soon
   * as the restart policy starts it again (its BOOTING event) libvirtd is stopped (SIGTERM by the pid in
   * {@code /run/libvirtd.pid}) and started again ({@code libvirtd -d}), as {@code LibvirtdRestartTest} does. The
   * instance must come back READY exactly once, with its address, the pod must keep exactly its two domains, and the
   * peer's reload must drop it and list it again.
   *
   * <p>Restarting the host's libvirtd disturbs everyone using it, so this runs only with
   * {@code -Dpods.test.restartLibvirtd=true} (CI machines, which run nothing else). Prefix {@code hr????}.
   */
  @Test
  void anInstanceRestartingWhileLibvirtdRestartsComesBackOnce() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("pods.test.restartLibvirtd"),
        "restarting libvirtd is disruptive: enable with -Dpods.test.restartLibvirtd=true");
    HostTools.assumeVmHost();
    Path pidFile = Path.of("/run/libvirtd.pid");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(pidFile),
        "libvirtd was not started with a pid file (libvirtd -d)");
    HostTools.reapDeadRuns(RUN_ROOT, "hr", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    EventLog events = new EventLog();
    List<String> domains = new ArrayList<>();
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "hr", OWNER_PREFIX,
        image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")));
    List<HypervisorEvent> hvEvents = new java.util.concurrent.CopyOnWriteArrayList<>();
    rig.hv.subscribe(hvEvents::add);
    try {
      Deployment d = rig.runtime.deploy(Pod.builder().name("hr")
          .unit(Unit.builder().name("web").image("tiny").memoryMib(160)
              .script(Script.shell(Phase.INITIAL, "echo web up\n")).build())
          .unit(Unit.builder().name("job").image("tiny").memoryMib(160)
              .script(Script.shell(Phase.RELOAD, "echo \"web peers: $(pods get +/unit/web/private_ips)\"\n"))
              .build())
          .build());
      d.events().subscribe(events::add);
      d.instances().forEach(i -> domains.add(i.domainName()));
      Instance web = d.instance("web", 0);
      try {
        d.awaitReady(BOOT);
        String address = web.privateAddress().getHostAddress();
        Set<String> before = domainsOf(rig);
        long mark = events.mark();
        check(run("virsh", "-c", LibvirtHypervisor.configuredUri(), "destroy", web.domainName()));
        events.await(mark, stateChange(web, InstanceState.STOPPED), BOOT);
        assertThat(peerLine(events, mark, web, false)).isNotNull();
        PodEvent.StateChanged restarting = events.await(mark, stateChange(web, InstanceState.BOOTING), BOOT);
        assertThat(restarting.reason()).startsWith("restart 1 by its restart policy (always) after: its domain was "
            + "destroyed at ");
        long l0 = System.nanoTime();
        ProcessHandle daemon = ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).orElseThrow();
        daemon.destroy();
        daemon.onExit().get(60, TimeUnit.SECONDS);
        Process start = new ProcessBuilder("libvirtd", "-d").inheritIO().start();
        assertThat(start.waitFor()).isZero();
        long restarted = System.nanoTime() - l0;
        events.await(mark, stateChange(web, InstanceState.READY), BOOT);
        long back = System.nanoTime() - l0;
        assertThat(hvEvents).as("the runtime's connection was lost and came back")
            .anyMatch(e -> e.type() == HypervisorEvent.Type.CONNECTION_LOST)
            .anyMatch(e -> e.type() == HypervisorEvent.Type.RECONNECTED);
        assertThat(peerLine(events, mark, web, true)).as("the peer's view lists web-0 again").isNotNull();
        assertThat(peerGet(d.instance("job", 0))).contains(address);
        assertThat(events.all().subList((int) mark, events.all().size())).as("READY exactly once")
            .filteredOn(stateChange(web, InstanceState.READY)).hasSize(1);
        assertThat(web.state()).isEqualTo(InstanceState.READY);
        assertThat(web.privateAddress().getHostAddress()).isEqualTo(address);
        assertThat(web.exec("true").exitCode()).isZero();
        assertThat(domainsOf(rig)).isEqualTo(before);
        assertThat(rig.hv.state(web.domainName())).isEqualTo(dev.pods.spi.DomainState.RUNNING);
        System.out.println(String.format("health-libvirtd-it: libvirtd stopped and started again in %d ms during "
            + "web-0's restart; READY %d ms after the stop (%s)", ms(restarted), ms(back), web.status().reason()));
      } catch (Throwable t) {
        for (Instance i : d.instances()) {
          System.out.println("==== " + i.name() + " " + i.status() + " console ====\n" + i.consoleOutput());
        }
        System.out.println("==== events ====\n" + String.join("\n", events.all().stream().map(Object::toString)
            .toList()));
        throw t;
      } finally {
        d.destroy();
      }
    } finally {
      rig.close();
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  /** What {@code pods get +/unit/web/private_ips} prints in {@code peer} (its metadata service's view). */
  private static String peerGet(Instance peer) {
    ExecResult r = peer.exec("pods", "get", "+/unit/web/private_ips");
    assertThat(r.exitCode()).as("pods get in %s: %s", peer.name(), new String(r.stderr(),
        java.nio.charset.StandardCharsets.UTF_8)).isZero();
    return new String(r.stdout(), java.nio.charset.StandardCharsets.UTF_8);
  }

  private interface Fault {
    void inject() throws Exception;
  }

  /**
   * Injects a fault that stops {@code victim}'s domain: it must leave READY for STOPPED with {@code reason}, the
   * peer's reload must drop its address and list it again, and it must be READY again with the same address and no
   * domain added or removed.
   */
  private static void fault(String what, Instance victim, Instance peer, EventLog events,
      List<HypervisorEvent> hvEvents, RuntimeRig rig,
      Set<String> domains, List<String> figures, java.util.Map<String, Long> freshBoot, Fault fault, String reason)
      throws Exception {
    String address = victim.privateAddress().getHostAddress();
    long mark = events.mark();
    int hvMark = hvEvents.size();
    long t0 = System.nanoTime();
    fault.inject();
    PodEvent.StateChanged stopped = events.await(mark, stateChange(victim, InstanceState.STOPPED), BOOT);
    long seen = System.nanoTime() - t0;
    java.time.Instant hvStopped = hvEvents.subList(hvMark, hvEvents.size()).stream()
        .filter(e -> victim.domainName().equals(e.domain()) && e.type() == HypervisorEvent.Type.STOPPED)
        .map(HypervisorEvent::at).findFirst().orElseThrow();
    long leaves = Duration.between(hvStopped, stopped.at()).toMillis();
    assertThat(leaves).as("%s: libvirt's STOPPED event -> STOPPED state, ms", what).isLessThan(3000);
    assertThat(stopped.from()).isEqualTo(InstanceState.READY);
    assertThat(stopped.reason()).startsWith(reason);
    PodEvent.OutputLine drop = peerLine(events, mark, victim, false);
    assertThat(drop).as("%s: the peer's view drops %s", what, victim.name()).isNotNull();
    // the reload whose output dropped it; one already under way when it stopped counts from the stop
    PodEvent reload = events.awaitAny(mark, e -> e instanceof PodEvent.PhaseStarted s
        && s.instance().equals(peer.name()) && s.trigger() == Trigger.CLUSTER_CHANGE && s.run().equals(drop.run()),
        BOOT);
    long reloadStarts = Math.max(0, reload.at().toEpochMilli() - stopped.at().toEpochMilli());
    assertThat(victim.status().restartAt()).as("%s: a restart is planned", what).isNotNull();
    PodEvent.StateChanged restarting = events.await(mark, stateChange(victim, InstanceState.BOOTING), BOOT);
    assertThat(restarting.reason()).startsWith("restart ").contains("by its restart policy (always) after: " + reason);
    long r0 = System.nanoTime();
    events.await(mark, stateChange(victim, InstanceState.READY), BOOT);
    long back = System.nanoTime() - r0;
    assertThat(peerLine(events, mark, victim, true)).as("%s: the peer's view lists %s again", what, victim.name())
        .isNotNull();
    assertThat(victim.privateAddress().getHostAddress()).isEqualTo(address);
    assertThat(domainsOf(rig)).isEqualTo(domains);
    ExecResult r = victim.exec("cat", "/proc/sys/kernel/random/boot_id");
    assertThat(r.exitCode()).isZero();
    figures.add(String.format("%s: leaves READY %d ms after libvirt's event (%d ms after the fault was injected), "
            + "peer's reload starts %d ms after; restart back-off then READY in %d ms (%.2fx its fresh boot)", what,
        leaves, ms(seen), reloadStarts, ms(back),
        (double) back / freshBoot.get(victim.name())));
  }

  /** The peer's reload output line after {@code mark} that lists (or no longer lists) {@code who}'s address. */
  private static PodEvent.OutputLine peerLine(EventLog events, long mark, Instance who, boolean listed)
      throws InterruptedException {
    String ip = who.privateAddress().getHostAddress();
    return (PodEvent.OutputLine) events.awaitAny(mark, e -> e instanceof PodEvent.OutputLine l
        && l.line().startsWith("web peers: ") && List.of(l.line().substring(11).split("[ ,\n]+")).contains(ip) == listed,
        BOOT);
  }

  private static Predicate<PodEvent> stateChange(Instance i, InstanceState to) {
    return e -> e instanceof PodEvent.StateChanged s && s.instance().equals(i.name()) && s.to() == to;
  }

  /** The pid of {@code i}'s QEMU process, from libvirt's pid file. */
  private static String qemuPid(Instance i) throws Exception {
    return Files.readString(Path.of("/run/libvirt/qemu/" + i.domainName() + ".pid")).strip();
  }

  private static Set<String> domainsOf(RuntimeRig rig) {
    Set<String> out = new TreeSet<>();
    rig.hv.list(rig.owner).forEach(x -> out.add(x.name()));
    return out;
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** The deployment's events, kept in order; waits for one after a mark. Thread-safe. */
  private static final class EventLog {
    private final List<PodEvent> events = new ArrayList<>();

    synchronized void add(PodEvent e) {
      events.add(e);
      notifyAll();
    }

    synchronized long mark() {
      return events.size();
    }

    synchronized List<PodEvent> all() {
      return List.copyOf(events);
    }

    /** The first event from index {@code mark} on that matches, waiting for it up to {@code timeout}. */
    synchronized PodEvent.StateChanged await(long mark, Predicate<PodEvent> p, Duration timeout)
        throws InterruptedException {
      return (PodEvent.StateChanged) awaitAny(mark, p, timeout);
    }

    synchronized PodEvent awaitAny(long mark, Predicate<PodEvent> p, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        for (int i = (int) mark; i < events.size(); i++) {
          if (p.test(events.get(i))) {
            return events.get(i);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("no matching event within " + timeout + " after event " + mark);
        }
        wait(Math.max(1, left / 1_000_000));
      }
    }
  }
}
