package dev.pods.examples;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.RestartPolicy;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.kvm.GuestImages;
import dev.pods.spi.HypervisorEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Detection and recovery figures on real tiny guests (run by {@code pods-examples/src/main/sh/health-benchmark.sh}):
 *
 * <ul>
 *   <li>stop: the domain of {@code web-0} is destroyed behind the runtime's back (through libvirt, as
 *       {@code virsh destroy} does), N times: from libvirt's STOPPED event to the instance leaving READY, and to
 *       the start of the peer {@code lb-0}'s reload run whose output drops it (its agent's report; 0 when that run
 *       was already under way at the stop), p50 and max; then {@code start()} and the time back to READY, against
 *       the baseline of a fresh deploy of the same unit in the same run;
 *   <li>crash: QEMU of {@code web-0} is killed with SIGKILL a few times: from the signal to STOPPED, and to READY
 *       again ({@code start()} as soon as it is STOPPED), against the same fresh deploy;
 *   <li>frozen: QEMU of {@code web-0} is stopped with SIGSTOP a few times: from the signal to UNHEALTHY, against
 *       its liveness timeout; SIGCONT to READY.
 * </ul>
 *
 * The web unit's restart policy is {@code never}, so each trial's recovery is the start itself (no back-off in
 * the figures: the restart policy's start is the same call after its wait). Every name starts with the per-run
 * prefix {@code hb????}; everything is removed at the end.
 */
public final class HealthBenchmark {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-health-bench");
  private static final String OWNER_PREFIX = "podshb-owner-";
  private static final Duration BOOT = Duration.ofMinutes(4);
  private static final Duration LIVENESS = Duration.ofSeconds(6);

  private HealthBenchmark() {}

  private static Unit web() {
    return Unit.builder().name("web").image("tiny").memoryMib(160).restart(RestartPolicy.NEVER)
        .livenessTimeout(LIVENESS)
        .script(Script.shell(Phase.INITIAL, "echo web up\n")).build();
  }

  /**
   * Runs the trials.
   *
   * @param args {@code [stops [freezes [crashes]]]}, defaults 20, 3 and 5
   */
  public static void main(String[] args) throws Exception {
    int stops = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int freezes = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int crashes = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    String missing = HostTools.missingVmHost();
    if (missing != null) {
      System.err.println("health benchmark: cannot run here: " + missing);
      System.exit(2);
    }
    HostTools.reapDeadRuns(RUN_ROOT, "hb", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    List<String> domains = new ArrayList<>();
    System.out.printf(Locale.ROOT, "health benchmark: %d cores, load average %s%n",
        Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).strip());
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "hb", OWNER_PREFIX,
        image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")));
    try {
      // baseline: a fresh deploy of the web unit alone
      Pod fresh = Pod.builder().name("hf").unit(web()).build();
      long f0 = System.nanoTime();
      Deployment f = rig.runtime.deploy(fresh);
      f.instances().forEach(i -> domains.add(i.domainName()));
      f.awaitReady(BOOT);
      long freshBoot = System.nanoTime() - f0;
      f.destroy();
      System.out.printf(Locale.ROOT, "baseline: fresh deploy of web -> READY %d ms%n", ms(freshBoot));

      Pod pod = Pod.builder().name("hb").unit(web())
          .unit(Unit.builder().name("lb").image("tiny").memoryMib(160)
              .script(Script.shell(Phase.RELOAD, "echo \"web: $(pods get +/unit/web/private_ips)\"\n")).build())
          .build();
      Deployment d = rig.runtime.deploy(pod);
      d.instances().forEach(i -> domains.add(i.domainName()));
      List<PodEvent> events = new CopyOnWriteArrayList<>();
      Object signal = new Object();
      d.events().subscribe(e -> {
        events.add(e);
        synchronized (signal) {
          signal.notifyAll();
        }
      });
      List<HypervisorEvent> hvEvents = new CopyOnWriteArrayList<>();
      rig.hv.subscribe(hvEvents::add);
      d.awaitReady(BOOT);
      Instance web = d.instance("web", 0);
      String webIp = web.privateAddress().getHostAddress();
      List<Long> leave = new ArrayList<>();
      List<Long> reload = new ArrayList<>();
      List<Long> back = new ArrayList<>();
      int underWay = 0;
      for (int t = 0; t < stops; t++) {
        int mark = events.size();
        int hvMark = hvEvents.size();
        rig.hv.destroy(web.domainName());
        PodEvent stopped = await(events, signal, mark, e -> e instanceof PodEvent.StateChanged s
            && s.instance().equals("web-0") && s.to() == InstanceState.STOPPED);
        Instant hvAt = hvEvents.subList(hvMark, hvEvents.size()).stream()
            .filter(e -> web.domainName().equals(e.domain()) && e.type() == HypervisorEvent.Type.STOPPED)
            .map(HypervisorEvent::at).findFirst().orElseThrow();
        // the peer's reload run whose output drops web-0; one already under way when the stop came (it started
        // before) counts as starting at the stop: the peer waited for nothing
        PodEvent.OutputLine dropped = (PodEvent.OutputLine) await(events, signal, mark,
            e -> e instanceof PodEvent.OutputLine l && l.instance().equals("lb-0") && l.line().startsWith("web: ")
                && !listed(l.line(), webIp));
        PodEvent reloaded = await(events, signal, mark, e -> e instanceof PodEvent.PhaseStarted s
            && s.instance().equals("lb-0") && s.trigger() == Trigger.CLUSTER_CHANGE && s.run().equals(dropped.run()));
        if (reloaded.at().isBefore(hvAt)) {
          underWay++;
        }
        leave.add(Duration.between(hvAt, stopped.at()).toMillis());
        reload.add(Math.max(0, Duration.between(hvAt, reloaded.at()).toMillis()));
        long s0 = System.nanoTime();
        int mark2 = events.size();
        web.start();
        await(events, signal, mark2, e -> e instanceof PodEvent.StateChanged s && s.instance().equals("web-0")
            && s.to() == InstanceState.READY);
        back.add(ms(System.nanoTime() - s0));
        // the peer's reload that lists web-0 again ends before the next trial (else the next one would see it)
        await(events, signal, mark2, e -> e instanceof PodEvent.OutputLine l && l.instance().equals("lb-0")
            && l.line().startsWith("web: ") && listed(l.line(), webIp));
      }
      report("domain destroyed -> instance leaves READY", leave);
      report("domain destroyed -> peer's reload starts", reload);
      System.out.printf(Locale.ROOT, "  (%d of %d trials: the reload that dropped web-0 was already under way, counted"
          + " as 0 ms)%n", underWay, stops);
      report("start() of the stopped instance -> READY", back);
      System.out.printf(Locale.ROOT, "stopped -> READY again vs fresh boot: p50 %.2fx, max %.2fx%n",
          (double) p50(back) / ms(freshBoot), (double) Collections.max(back) / ms(freshBoot));

      List<Long> crashSeen = new ArrayList<>();
      List<Long> crashBack = new ArrayList<>();
      for (int t = 0; t < crashes; t++) {
        String pid = Files.readString(Path.of("/run/libvirt/qemu/" + web.domainName() + ".pid")).strip();
        int mark = events.size();
        long k0 = System.nanoTime();
        HostTools.check(HostTools.run("kill", "-9", pid));
        await(events, signal, mark, e -> e instanceof PodEvent.StateChanged s && s.instance().equals("web-0")
            && s.to() == InstanceState.STOPPED);
        crashSeen.add(ms(System.nanoTime() - k0));
        int mark2 = events.size();
        web.start();
        await(events, signal, mark2, e -> e instanceof PodEvent.StateChanged s && s.instance().equals("web-0")
            && s.to() == InstanceState.READY);
        crashBack.add(ms(System.nanoTime() - k0));
      }
      report("kill -9 of QEMU -> STOPPED", crashSeen);
      report("kill -9 of QEMU -> READY again (start() once STOPPED)", crashBack);
      System.out.printf(Locale.ROOT, "crash -> READY again vs fresh boot: p50 %.2fx, max %.2fx%n",
          (double) p50(crashBack) / ms(freshBoot), (double) Collections.max(crashBack) / ms(freshBoot));

      List<Long> frozen = new ArrayList<>();
      List<Long> thawed = new ArrayList<>();
      for (int t = 0; t < freezes; t++) {
        String pid = Files.readString(Path.of("/run/libvirt/qemu/" + web.domainName() + ".pid")).strip();
        int mark = events.size();
        long z0 = System.nanoTime();
        HostTools.check(HostTools.run("kill", "-STOP", pid));
        try {
          await(events, signal, mark, e -> e instanceof PodEvent.StateChanged s && s.instance().equals("web-0")
              && s.to() == InstanceState.UNHEALTHY);
          frozen.add(ms(System.nanoTime() - z0));
        } finally {
          HostTools.check(HostTools.run("kill", "-CONT", pid));
        }
        long c0 = System.nanoTime();
        await(events, signal, mark, e -> e instanceof PodEvent.StateChanged s && s.instance().equals("web-0")
            && s.to() == InstanceState.READY);
        thawed.add(ms(System.nanoTime() - c0));
      }
      report("SIGSTOP -> UNHEALTHY (liveness timeout " + LIVENESS.toSeconds() + " s)", frozen);
      report("SIGCONT -> READY", thawed);
      d.destroy();
    } finally {
      rig.close();
    }
    List<String> left = rig.leftovers(domains);
    if (!left.isEmpty()) {
      System.err.println("left behind: " + left);
      System.exit(1);
    }
  }

  private static PodEvent await(List<PodEvent> events, Object signal, int mark, Predicate<PodEvent> p)
      throws InterruptedException {
    long deadline = System.nanoTime() + BOOT.toNanos();
    synchronized (signal) {
      while (true) {
        for (int i = mark; i < events.size(); i++) {
          if (p.test(events.get(i))) {
            return events.get(i);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException("no such event within " + BOOT + "; events: " + events.subList(mark,
              events.size()));
        }
        signal.wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  /** Whether a peer's {@code web: ADDRESSES} line lists {@code ip}. */
  private static boolean listed(String line, String ip) {
    return List.of(line.substring("web: ".length()).split("[ ,]+")).contains(ip);
  }

  private static void report(String what, List<Long> ms) {
    System.out.printf(Locale.ROOT, "%s: p50 %d ms, max %d ms over %d trials %s%n", what, p50(ms),
        Collections.max(ms), ms.size(), ms);
  }

  private static long p50(List<Long> values) {
    List<Long> s = new ArrayList<>(values);
    Collections.sort(s);
    return s.get((s.size() - 1) / 2);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
