package dev.pods.examples;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.SeedIso;
import dev.pods.spi.Acceleration;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Benchmark of the runtime with the real parts (a main, not a test; never asserts times). Needs root, libvirtd,
 * dnsmasq, nft and {@code qemu-system-x86_64}; everything it creates carries the per-run prefix {@code pb????}
 * and is removed at the end (leftovers of a crashed run are reaped at the next start).
 *
 * <p><b>P1: deploy of one tiny guest, runtime vs raw QEMU</b>, alternating, after one unmeasured round of each:
 * <ul>
 *   <li><i>runtime</i>: {@code PodRuntime.deploy(pod)} of one unit (the tiny guest, {@code memoryMib} MiB, 1 vCPU)
 *       whose only block is {@code echo ready}, until the {@code PhaseFinished} event of its first boot arrives:
 *       instance network (namespaces, nft, dnsmasq), seed ISO, libvirt define and start, IMDS, guest boot, DHCP,
 *       the agent fetching its spec, running the block and reporting it.
 *   <li><i>raw</i>: {@code qemu-system-x86_64} started directly with the same kernel, initrd, command line,
 *       memory, vCPU count, machine ({@code pc}), accelerator (TCG translation cache 64 MiB, as libvirt gets it)
 *       and devices (the seed as IDE cdrom, a virtio NIC on QEMU's user network with {@code restrict=on}, whose
 *       built-in DHCP answers the guest's udhcpc and nothing leaves QEMU), whose seed's agent program only prints
 *       a marker line the moment the agent would start; until that line arrives on the serial console (stdout).
 *       The seed is written before the clock starts. The raw QEMU runs in a CPU cgroup next to the ones libvirt
 *       gives its domains (see {@link #rawCgroup}), so both compete for a loaded host's CPU alike.
 * </ul>
 * So the guest does the same work up to the agent's start in both; the ratio runtime / raw is what the runtime
 * costs on top of booting the guest (host set-up, libvirt, and the agent's first phase round trip). A second
 * ratio stops the runtime's clock at the same console marker as the raw boot's (the agent's start, polled every
 * 50 ms), so it holds the host-side overhead only. Both print the guest's uptime at its boot stages, to show
 * that the guest itself boots alike.
 *
 * <p><b>P10: {@code pods} tiny pods deployed at once</b> (one instance each): the time until all are ready, and
 * host memory per pod beyond QEMU: growth of the JVM's memory outside the heap plus its heap in use (see
 * {@code Memory.printDelta}), of the PSS of this run's dnsmasq processes, of the
 * PSS of libvirtd and virtlogd, and of the kernel's slab (namespaces, links, nft, sockets; it includes what the
 * QEMU processes cause in slab, so an upper bound), divided by the number of pods. QEMU's own RSS is printed for
 * reference and excluded.
 *
 * <p>Run: {@code pods-examples/src/main/sh/benchmark.sh [rounds] [pods] [memoryMib]} (defaults 5, 10, 128), see
 * pods-examples/README.md. Not thread-safe; one run at a time per host is advisable (2 cores are easily
 * saturated).
 */
public final class RuntimeBenchmark {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-runtime-bench");
  private static final String LETTERS = "pb";
  private static final String OWNER_PREFIX = "podsbench-owner-";
  private static final String RAW_MARK = "PODS-BENCH-AGENT";
  private static final Pattern UPTIME = Pattern.compile("uptime=([0-9.]+)");
  private static final long MINUTE_MS = 60_000;
  private static final List<String> STAGES = List.of("PODS-INIT", "PODS-NET bound", "PODS-READY");
  /** The guest's boot stages of the last runtime and raw round (for the round's line). */
  private static final String[] LAST_STAGES = {"", ""};
  /** The runtime events of the last runtime round, with their time since deploy(). */
  private static final String[] LAST_STEPS = {""};
  /** The CPU cgroup folder holding the last runtime round's domain group. */
  private static final Path[] LAST_QEMU_CGROUP = {null};

  private RuntimeBenchmark() {}

  /**
   * Prints the figures.
   *
   * @param args {@code [rounds [pods [memoryMib]]]}: P1 rounds (>= 1, default 5), P10 pods (>= 1, default 10),
   *     guest memory (64..1024 MiB, default 128)
   */
  public static void main(String[] args) throws Exception {
    int rounds = arg(args, 0, 5, 1, 100, "rounds");
    int pods = arg(args, 1, 10, 1, 50, "pods");
    int mem = arg(args, 2, 128, 64, 1024, "memoryMib");
    String missing = HostTools.missingVmHost();
    if (missing == null && !HostTools.onPath("qemu-system-x86_64")) {
      missing = "qemu-system-x86_64 is not installed";
    }
    if (missing != null) {
      System.err.println("runtime benchmark: cannot run here: " + missing);
      System.exit(2);
    }
    HostTools.reapDeadRuns(RUN_ROOT, LETTERS, OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    String cmdline = tiny.cmdline("");
    List<String> domains = new CopyOnWriteArrayList<>();
    System.out.printf(Locale.ROOT, "runtime benchmark: %d cores, load average %s, tiny guest %s, %d MiB%n",
        Runtime.getRuntime().availableProcessors(), loadAverage(), tiny.kernelVersion(), mem);
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, LETTERS, OWNER_PREFIX,
        image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), cmdline));
    try {
      Acceleration acc = rig.hv.autoAcceleration();
      System.out.println("acceleration: " + acc + "; run prefix " + rig.prefix);
      p1(rig, tiny, cmdline, acc, rounds, mem, domains);
      System.out.println("load average after P1: " + loadAverage());
      p10(rig, pods, mem, domains);
      System.out.println("load average after P10: " + loadAverage());
    } finally {
      rig.close();
    }
    List<String> left = rig.leftovers(domains);
    if (!left.isEmpty()) {
      System.out.println("LEFT BEHIND: " + left);
      System.exit(1);
    }
    System.out.println("nothing left behind");
  }

  // ------------------------------------------------------------------------------------------------------ P1

  private static void p1(RuntimeRig rig, GuestImages.Tiny tiny, String cmdline, Acceleration acc, int rounds,
      int mem, List<String> domains) throws Exception {
    Path seed = SeedIso.builder(rig.prefix + "-raw").hostname("raw-0")
        .agent(("#!/bin/sh\nread u _ </proc/uptime\necho \"" + RAW_MARK + " uptime=$u\" >/dev/console\n")
            .getBytes(StandardCharsets.UTF_8), "")
        .build().writeTo(rig.dir.resolve("raw-seed.iso"));
    List<String> qemu = List.of("qemu-system-x86_64", "-name", rig.prefix + "-raw", "-nodefaults",
        "-no-user-config", "-machine", "pc", "-accel", acc == Acceleration.KVM ? "kvm" : "tcg,tb-size=64",
        "-m", Integer.toString(mem), "-smp", "1", "-kernel", tiny.kernel().toString(), "-initrd",
        tiny.initrd().toString(), "-append", cmdline, "-display", "none", "-vga", "none", "-monitor", "none",
        "-serial", "stdio", "-no-reboot",
        "-drive", "file=" + seed + ",media=cdrom,if=ide,index=2,readonly=on,format=raw",
        "-nic", "user,model=virtio-net-pci,restrict=on,mac=52:54:00:62:ff:01");
    Path cgroup = null;
    long[] runtime = new long[rounds];
    long[] runtimeAgent = new long[rounds];
    long[] raw = new long[rounds];
    double[] runtimeUp = new double[rounds];
    double[] rawUp = new double[rounds];
    try {
      for (int i = -1; i < rounds; i++) {
        // the warm-up starts with the runtime: its QEMU shows where libvirt puts domains' CPU groups
        boolean runtimeFirst = i < 0 || i % 2 == 0;
        long[] r = new long[2];
        long agent = -1;
        double[] up = new double[2];
        for (int k = 0; k < 2; k++) {
          if ((k == 0) == runtimeFirst) {
            long[] t = runtimeRound(rig, "r" + (i + 1), mem, domains);
            r[0] = t[0];
            up[0] = t[1] / 1000.0;
            agent = t[2];
          } else {
            if (i < 0) {
              cgroup = rawCgroup(rig.prefix);
            }
            long[] t = rawRound(cgroup == null ? qemu : inCgroup(cgroup, qemu));
            r[1] = t[0];
            up[1] = t[1] / 1000.0;
          }
        }
        System.out.printf(Locale.ROOT, "P1 round %s: runtime %d ms (agent started after %d ms, at uptime %.2f s), "
            + "raw %d ms (uptime %.2f s)%s%n", i < 0 ? "warm-up" : Integer.toString(i + 1), ms(r[0]), ms(agent),
            up[0], ms(r[1]), up[1], runtimeFirst ? ", runtime first" : ", raw first");
        System.out.println("    guest uptime at init / DHCP lease / ready / agent: runtime " + LAST_STAGES[0] + "; raw "
            + LAST_STAGES[1]);
        System.out.println("    runtime events after deploy(): " + LAST_STEPS[0]);
        if (i >= 0) {
          runtimeAgent[i] = agent;
          runtime[i] = r[0];
          raw[i] = r[1];
          runtimeUp[i] = up[0];
          rawUp[i] = up[1];
        }
      }
    } finally {
      if (cgroup != null) {
        Files.deleteIfExists(cgroup);
      }
    }
    double mr = median(runtime) / 1e6;
    double mq = median(raw) / 1e6;
    System.out.printf(Locale.ROOT, "P1 runtime deploy -> initial phase done: median %.0f ms (min %.0f, max %.0f, n=%d);"
        + " guest uptime at agent start median %.2f s%n", mr, min(runtime) / 1e6, max(runtime) / 1e6, rounds,
        median(runtimeUp));
    System.out.printf(Locale.ROOT, "P1 raw qemu start -> agent marker: median %.0f ms (min %.0f, max %.0f, n=%d);"
        + " guest uptime at agent start median %.2f s%n", mq, min(raw) / 1e6, max(raw) / 1e6, rounds, median(rawUp));
    System.out.printf(Locale.ROOT, "P1 ratio runtime / raw: %.2f (target <= 1.10)%n", mr / mq);
    double ma = median(runtimeAgent) / 1e6;
    System.out.printf(Locale.ROOT, "P1 at the same console marker (agent start): runtime deploy -> marker median %.0f ms,"
        + " ratio to raw %.2f; the rest (%.0f ms) is the agent's first phase round trip%n", ma, ma / mq, mr - ma);
  }

  /**
   * A CPU cgroup for the raw QEMU next to the groups libvirt gives its domains ({@code <prefix>-raw}, created),
   * so that both compete for the CPU alike; {@code null} (raw QEMU stays in our group, said on the output) when
   * the layout is not understood. On cgroup v1, libvirt's domains share the weight of the {@code machine} group:
   * a QEMU outside it would get far more CPU on a loaded host than a libvirt domain.
   */
  private static Path rawCgroup(String prefix) throws IOException {
    if (LAST_QEMU_CGROUP[0] == null) {
      System.out.println("P1 note: cannot tell the libvirt domain's cgroup; the raw QEMU runs in ours");
      return null;
    }
    // groups of crashed runs: empty once their QEMU is gone (a live run's group is not empty: delete fails)
    try (Stream<Path> s = Files.list(LAST_QEMU_CGROUP[0])) {
      for (Path g : s.filter(x -> x.getFileName().toString().matches(LETTERS + "[0-9a-z]{4}-raw")).toList()) {
        try {
          Files.delete(g);
        } catch (IOException e) {
          // in use by a live run
        }
      }
    }
    Path dir = LAST_QEMU_CGROUP[0].resolve(prefix + "-raw");
    Files.createDirectories(dir);
    System.out.println("P1 note: the raw QEMU runs in the CPU cgroup " + dir + ", next to libvirt's domains");
    return dir;
  }

  private static List<String> inCgroup(Path cgroup, List<String> cmd) {
    List<String> out = new ArrayList<>(List.of("sh", "-c", "echo $$ >\"$1/cgroup.procs\" && shift && exec \"$@\"",
        "sh", cgroup.toString()));
    out.addAll(cmd);
    return out;
  }

  /**
   * The folder of the CPU cgroup that holds the cgroup of the QEMU running {@code domain} (libvirt's
   * {@code machine} group), or {@code null}.
   */
  private static Path machineCpuGroup(String domain) throws IOException {
    try (Stream<Path> s = Files.list(Path.of("/proc"))) {
      for (Path d : s.filter(x -> x.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        String cmd;
        try {
          cmd = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8);
          if (!cmd.contains("guest=" + domain + ",")) {
            continue;
          }
          for (String l : Files.readAllLines(d.resolve("cgroup"))) {
            String[] f = l.split(":", 3);
            boolean v1 = Arrays.asList(f[1].split(",")).contains("cpu");
            if ((v1 || f[1].isEmpty()) && f[2].contains(domain)) {
              String path = f[2].substring(0, f[2].indexOf(domain));
              path = path.substring(0, path.lastIndexOf('/'));
              Path root = v1 ? Path.of("/sys/fs/cgroup", f[1]) : Path.of("/sys/fs/cgroup");
              Path group = Path.of(root + path);
              if (Files.isDirectory(group)) {
                return group;
              }
            }
          }
        } catch (IOException e) {
          // the process ended while we looked
        }
      }
    }
    return null;
  }

  /** One deploy of a one-block pod: {nanoseconds to the first boot's PhaseFinished, guest uptime (ms) then}. */
  private static long[] runtimeRound(RuntimeRig rig, String name, int mem, List<String> domains) throws Exception {
    Pod pod = Pod.builder().name(name)
        .unit(Unit.builder().name("u").image("tiny").memoryMib(mem)
            .script(Script.shell(Phase.INITIAL, "echo ready\n")).build())
        .build();
    CompletableFuture<PodEvent.PhaseFinished> done = new CompletableFuture<>();
    long t0 = System.nanoTime();
    Deployment d = rig.runtime.deploy(pod);
    try {
      List<String> steps = new CopyOnWriteArrayList<>();
      d.events().subscribe(e -> {
        String at = ms(System.nanoTime() - t0) + " ms";
        if (e instanceof PodEvent.StateChanged c) {
          steps.add(c.to() + " " + at);
        } else if (e instanceof PodEvent.PhaseStarted) {
          steps.add("phase started " + at);
        } else if (e instanceof PodEvent.PhaseFinished f && f.trigger() == Trigger.FIRST_BOOT) {
          steps.add("phase finished " + at);
          done.complete(f);
        }
      });
      d.instances().forEach(i -> domains.add(i.domainName()));
      Instance i = d.instance("u", 0);
      // when the agent-start line shows on the console (polled every 50 ms: the same marker as the raw boot's)
      long[] agentAt = {-1};
      Thread poll = new Thread(() -> {
        try {
          while (!done.isDone() && !i.consoleOutput().contains("PODS-AGENT-START")) {
            Thread.sleep(50);
          }
          agentAt[0] = System.nanoTime() - t0;
        } catch (InterruptedException | RuntimeException e) {
          // no figure for this round
        }
      }, "console-poll");
      poll.setDaemon(true);
      poll.start();
      PodEvent.PhaseFinished f = done.get(10, TimeUnit.MINUTES);
      long t = System.nanoTime() - t0;
      poll.join(10_000);
      if (!f.ok()) {
        throw new IllegalStateException("the block failed in " + i.name() + ": " + f + "\n" + i.consoleOutput());
      }
      LAST_STAGES[0] = stages(i.consoleOutput(), "PODS-AGENT-START");
      LAST_STEPS[0] = String.join(", ", steps);
      LAST_QEMU_CGROUP[0] = machineCpuGroup(i.domainName());
      return new long[] {t, uptimeMs(i.consoleOutput(), "PODS-AGENT-START"), agentAt[0]};
    } finally {
      d.destroy();
    }
  }

  /** One raw boot: {nanoseconds from process start to the marker line, guest uptime (ms) then}. */
  private static long[] rawRound(List<String> qemu) throws Exception {
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(qemu).redirectErrorStream(true).start();
    CompletableFuture<String> mark = new CompletableFuture<>();
    StringBuilder console = new StringBuilder();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          synchronized (console) {
            console.append(l).append('\n');
          }
          if (l.contains(RAW_MARK)) {
            mark.complete(l);
          }
        }
        mark.completeExceptionally(new IOException("qemu ended without the marker"));
      } catch (IOException e) {
        mark.completeExceptionally(e);
      }
    }, "raw-qemu-console");
    reader.setDaemon(true);
    reader.start();
    try {
      String line = mark.get(10, TimeUnit.MINUTES);
      long t = System.nanoTime() - t0;
      synchronized (console) {
        LAST_STAGES[1] = stages(console.toString(), RAW_MARK);
      }
      return new long[] {t, uptimeMs(line, RAW_MARK)};
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      synchronized (console) {
        throw new IllegalStateException("raw boot failed: " + e + "\n" + console, e);
      }
    } finally {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  // ----------------------------------------------------------------------------------------------------- P10

  private static void p10(RuntimeRig rig, int pods, int mem, List<String> domains) throws Exception {
    Memory before = Memory.sample(rig.prefix);
    List<Deployment> ds = new ArrayList<>();
    long t0 = System.nanoTime();
    long[] readyAt = new long[pods];
    try {
      for (int i = 0; i < pods; i++) {
        Deployment d = rig.runtime.deploy(Pod.builder().name("m" + i)
            .unit(Unit.builder().name("u").image("tiny").memoryMib(mem)
                .script(Script.shell(Phase.INITIAL, "echo ready\n")).build())
            .build());
        ds.add(d);
        d.instances().forEach(x -> domains.add(x.domainName()));
      }
      long deployed = System.nanoTime() - t0;
      for (int i = 0; i < pods; i++) {
        long left = 15 * MINUTE_MS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        ds.get(i).awaitReady(java.time.Duration.ofMillis(Math.max(1, left)));
        readyAt[i] = System.nanoTime() - t0;
      }
      long all = System.nanoTime() - t0;
      Memory after = Memory.sample(rig.prefix);
      System.out.printf(Locale.ROOT, "P10 %d pods deployed (deploy() calls) in %d ms; all ready after %.1f s "
          + "(%.1f s per pod; readiness observed in order, last %d ms)%n", pods, ms(deployed), all / 1e9,
          all / 1e9 / pods, ms(Arrays.stream(readyAt).max().orElse(0)));
      after.printDelta(before, pods);
    } finally {
      for (Deployment d : ds) {
        d.destroy();
      }
    }
  }

  /** Host memory figures, KiB. */
  private record Memory(long jvmRss, long jvmHeapUsed, long jvmHeapCommitted, int threads, long dnsmasqPss, int dnsmasqCount, long libvirtPss,
      long slab, long qemuRss, int qemuCount) {
    static Memory sample(String prefix) throws IOException {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      java.lang.management.MemoryUsage h = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
      long heap = h.getUsed() / 1024;
      long committed = h.getCommitted() / 1024;
      int threads = ManagementFactory.getThreadMXBean().getThreadCount();
      long rss = status(ProcessHandle.current().pid(), "VmRSS:");
      long dns = 0;
      long lv = 0;
      long qemu = 0;
      int nd = 0;
      int nq = 0;
      try (Stream<Path> s = Files.list(Path.of("/proc"))) {
        for (Path d : s.filter(x -> x.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
          try {
            long pid = Long.parseLong(d.getFileName().toString());
            String comm = Files.readString(d.resolve("comm")).strip();
            String cmd = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8);
            if (comm.equals("dnsmasq") && cmd.contains(prefix)) {
              dns += smaps(pid, "Pss:");
              nd++;
            } else if (comm.equals("libvirtd") || comm.equals("virtlogd")) {
              lv += smaps(pid, "Pss:");
            } else if (comm.startsWith("qemu-system") && cmd.contains(prefix)) {
              qemu += status(pid, "VmRSS:");
              nq++;
            }
          } catch (IOException | NumberFormatException e) {
            // the process ended while we looked
          }
        }
      }
      return new Memory(rss, heap, committed, threads, dns, nd, lv, meminfo("Slab:"), qemu, nq);
    }

    /**
     * Prints the growth since {@code b}. The JVM's part is its RSS growth outside the heap (RSS growth minus heap
     * committed growth; with a fixed, pre-touched heap as the script runs it, that is all of the RSS growth) plus
     * the growth of the heap in use after GC: heap the JVM committed but does not use is not the pods' cost.
     */
    void printDelta(Memory b, int pods) {
      long rssGrowth = jvmRss - b.jvmRss;
      long committedGrowth = jvmHeapCommitted - b.jvmHeapCommitted;
      long heapGrowth = jvmHeapUsed - b.jvmHeapUsed;
      long jvm = rssGrowth - committedGrowth + heapGrowth;
      long dns = dnsmasqPss - b.dnsmasqPss;
      long lv = libvirtPss - b.libvirtPss;
      long sl = slab - b.slab;
      double per = (jvm + dns + lv + sl) / 1024.0 / pods;
      System.out.printf(Locale.ROOT, "P10 host memory per pod beyond QEMU: %.2f MiB (target <= 3 MiB)%n", per);
      System.out.printf(Locale.ROOT, "  JVM          %+8.1f MiB total, %+6.2f MiB per pod (RSS %+.1f MiB, of it heap committed "
          + "%+.1f MiB; heap in use after GC %+.1f MiB; threads %+d)%n", jvm / 1024.0, jvm / 1024.0 / pods,
          rssGrowth / 1024.0, committedGrowth / 1024.0, heapGrowth / 1024.0, threads - b.threads);
      System.out.printf(Locale.ROOT, "  dnsmasq PSS  %+8.1f MiB total, %+6.2f MiB per pod (%d processes)%n",
          dns / 1024.0, dns / 1024.0 / pods, dnsmasqCount);
      System.out.printf(Locale.ROOT, "  libvirtd+virtlogd PSS %+8.1f MiB total, %+6.2f MiB per pod%n", lv / 1024.0,
          lv / 1024.0 / pods);
      System.out.printf(Locale.ROOT, "  kernel slab  %+8.1f MiB total, %+6.2f MiB per pod (upper bound: includes "
          + "QEMU's)%n", sl / 1024.0, sl / 1024.0 / pods);
      System.out.printf(Locale.ROOT, "  (excluded) QEMU RSS %.1f MiB total, %.1f MiB per guest (%d processes)%n",
          qemuRss / 1024.0, qemuRss / 1024.0 / Math.max(1, qemuCount), qemuCount);
    }
  }

  // --------------------------------------------------------------------------------------------------- helpers

  private static int arg(String[] args, int i, int dflt, int min, int max, String what) {
    if (args.length <= i) {
      return dflt;
    }
    int v;
    try {
      v = Integer.parseInt(args[i]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " must be a number, was '" + args[i] + "'", e);
    }
    if (v < min || v > max) {
      throw new IllegalArgumentException(what + " must be in " + min + ".." + max + ", was " + v);
    }
    return v;
  }

  /** The guest uptime (ms) on the first line containing {@code marker}, or -1. */
  private static long uptimeMs(String console, String marker) {
    for (String l : console.lines().toList()) {
      if (l.contains(marker)) {
        Matcher m = UPTIME.matcher(l);
        if (m.find()) {
          return Math.round(Double.parseDouble(m.group(1)) * 1000);
        }
      }
    }
    return -1;
  }

  /** The guest uptimes (s) at its init's start, DHCP lease, ready line and {@code agentMark}. */
  private static String stages(String console, String agentMark) {
    List<String> out = new ArrayList<>();
    for (String m : Stream.concat(STAGES.stream(), Stream.of(agentMark)).toList()) {
      long u = uptimeMs(console, m);
      out.add(u < 0 ? "-" : String.format(Locale.ROOT, "%.2f", u / 1000.0));
    }
    return String.join(" / ", out);
  }

  private static String loadAverage() throws IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).split("\\s+");
    return f[0] + " " + f[1] + " " + f[2];
  }

  private static long status(long pid, String key) throws IOException {
    return field(Path.of("/proc/" + pid + "/status"), key);
  }

  private static long smaps(long pid, String key) throws IOException {
    return field(Path.of("/proc/" + pid + "/smaps_rollup"), key);
  }

  private static long meminfo(String key) throws IOException {
    return field(Path.of("/proc/meminfo"), key);
  }

  /** The KiB figure of line {@code key} in a /proc file. */
  private static long field(Path file, String key) throws IOException {
    for (String l : Files.readAllLines(file)) {
      if (l.startsWith(key)) {
        return Long.parseLong(l.substring(key.length()).trim().split("\\s+")[0]);
      }
    }
    throw new IOException(key + " not in " + file);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static double median(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
  }

  private static long min(long[] v) {
    return Arrays.stream(v).min().orElse(0);
  }

  private static long max(long[] v) {
    return Arrays.stream(v).max().orElse(0);
  }
}
