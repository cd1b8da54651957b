package dev.pods.examples;

import static dev.pods.examples.HostTools.run;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.ExecResult;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.KvmDiskStore;
import dev.pods.spec.Journal;
import dev.pods.spec.JournalInput;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import dev.pods.spi.DiskStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark of persistent disks and journals with the real parts (a main, not a test; never asserts times). Needs
 * root, libvirtd, dnsmasq, nft and QEMU; everything carries the per-run prefix {@code pg????} and is removed at the
 * end.
 *
 * <p><b>D: a new 10 GiB disk, runtime vs by hand.</b> Per round, on tiny guests: <i>plain</i>, deploy to ready of
 * a unit without disk; <i>disk</i>, the same with a disk mount of a disk that does not exist yet (the runtime
 * creates the qcow2 and attaches it to the domain it defines; the agent formats it ext4 and mounts it before the
 * block); <i>hand</i>, on the running plain guest, {@code qemu-img create -f qcow2 F 10G}, {@code virsh attach-disk
 * --live} and, through exec, {@code mkfs.ext4} and {@code mount} of the new device. Deploy times on a shared,
 * loaded host vary by more than the disk costs, so the runtime's cost is measured in its parts: the volume's
 * creation on the host ({@code DiskStore.create} of a 10 GiB volume, what the deploy runs) plus, in the guest, the
 * time from the agent's start to the block's start (guest uptime) with the disk minus without it (fetching the
 * spec and reporting are in both).
 *
 * <p><b>J: journal line latency.</b> A tiny guest with a {@code file} journal input; per sample the host execs
 * {@code echo LINE >> FILE} in the guest and waits for the {@link PodEvent.JournalLine}: from the exec call to the
 * event (an upper bound of guest write to host event), with the exec round trip alone as the baseline.
 */
public final class StorageBenchmark {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-storage-bench");
  private static final String OWNER_PREFIX = "podssb-owner-";

  private StorageBenchmark() {}

  /** {@code [rounds [samples]]}: rounds of D (default 3), samples of J (default 100). */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int samples = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    String missing = HostTools.missingVmHost();
    if (missing != null) {
      System.err.println("storage benchmark: cannot run here: " + missing);
      System.exit(2);
    }
    HostTools.reapDeadRuns(RUN_ROOT, "pg", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    DiskStore store = KvmDiskStore.on(DiskImages.at(RuntimeRig.DISK_ROOT));
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "pg", OWNER_PREFIX,
        image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")), (p, b) -> b.disks(store));
    List<String> disks = new ArrayList<>();
    List<String> domains = new ArrayList<>();
    try {
      System.out.printf(Locale.ROOT, "storage benchmark: %d cores, %s, run prefix %s%n",
          Runtime.getRuntime().availableProcessors(), rig.hv.autoAcceleration(), rig.prefix);
      disks(rig, store, rounds, disks, domains);
      journal(rig, samples, domains);
    } finally {
      for (String d : disks) {
        store.delete(d);
      }
      Files.deleteIfExists(RuntimeRig.DISK_ROOT.resolve("data").resolve(rig.prefix + "-hand.qcow2"));
      rig.close();
    }
    List<String> left = rig.leftovers(domains);
    System.out.println(left.isEmpty() ? "nothing left behind" : "LEFT BEHIND: " + left);
  }

  private static Pod pod(String name, String disk) {
    Unit.Builder u = Unit.builder().name("db").image("tiny").memoryMib(192)
        .script(Script.shell(Phase.INITIAL, "echo \"block-uptime $(cut -d' ' -f1 /proc/uptime)\"\n"));
    if (disk != null) {
      u.mount(new Mount("data", Mount.Type.DISK, "/srv/data", null, List.of(Reference.of("disk", disk))));
    }
    return Pod.builder().name(name).unit(u.build()).build();
  }

  private static long deployReady(RuntimeRig rig, Pod pod, List<String> domains) {
    long t0 = System.nanoTime();
    Deployment d = rig.runtime.deploy(pod);
    domains.add(d.instance("db", 0).domainName());
    d.awaitReady(Duration.ofMinutes(5));
    return System.nanoTime() - t0;
  }

  /** Guest time (ns) from the agent's start (console marker) to the block's start (its output). */
  private static long agentToBlock(Instance i) {
    java.util.regex.Matcher a = java.util.regex.Pattern.compile("PODS-AGENT-START uptime=([0-9.]+)")
        .matcher(i.consoleOutput());
    String b = i.recentOutput().stream().filter(l -> l.startsWith("block-uptime ")).findFirst().orElseThrow();
    if (!a.find()) {
      throw new IllegalStateException("no agent start on the console of " + i.name());
    }
    double secs = Double.parseDouble(b.substring("block-uptime ".length())) - Double.parseDouble(a.group(1));
    return (long) (secs * 1e9);
  }

  private static void disks(RuntimeRig rig, DiskStore store, int rounds, List<String> disks, List<String> domains)
      throws Exception {
    long[] plain = new long[rounds];
    long[] disk = new long[rounds];
    long[] hand = new long[rounds];
    long[] create = new long[rounds];
    long[] guest = new long[rounds];
    Path handFile = RuntimeRig.DISK_ROOT.resolve("data").resolve(rig.prefix + "-hand.qcow2");
    for (int r = -1; r < rounds; r++) { // round -1 warms up, unmeasured
      String tag = "r" + (r + 1);
      long p = deployReady(rig, pod("p" + tag, null), domains);
      String diskName = rig.prefix + "-" + tag;
      disks.add(diskName);
      long d = deployReady(rig, pod("d" + tag, diskName), domains);
      long g = agentToBlock(rig.runtime.deployment("d" + tag).orElseThrow().instance("db", 0))
          - agentToBlock(rig.runtime.deployment("p" + tag).orElseThrow().instance("db", 0));
      rig.runtime.deployment("d" + tag).orElseThrow().destroy();
      String probe = rig.prefix + "-c" + tag;
      disks.add(probe);
      long c0 = System.nanoTime();
      store.create(probe, DiskStore.DEFAULT_SIZE_BYTES);
      long c = System.nanoTime() - c0;
      store.delete(probe);

      // by hand, on the running guest without disk
      Instance i = rig.runtime.deployment("p" + tag).orElseThrow().instance("db", 0);
      Files.deleteIfExists(handFile);
      long t0 = System.nanoTime();
      HostTools.check(run("qemu-img", "create", "-q", "-f", "qcow2", handFile.toString(), "10G"));
      HostTools.check(run("virsh", "-c", "qemu:///system", "attach-disk", i.domainName(), handFile.toString(), "vdb",
          "--driver", "qemu", "--subdriver", "qcow2", "--targetbus", "virtio", "--live"));
      ExecResult x = i.exec("sh", "-c", "n=0; until [ -b /dev/vda ] || [ $n -gt 600 ]; do sleep 0.05; n=$((n+1)); done;"
          + " mkfs.ext4 -q -F /dev/vda && mkdir -p /mnt/hand && mount -t ext4 /dev/vda /mnt/hand"
          + " && grep -c ' /mnt/hand ext4 ' /proc/mounts");
      long h = System.nanoTime() - t0;
      if (x.exitCode() != 0) {
        throw new IllegalStateException("the hand attach failed: " + x);
      }
      rig.runtime.deployment("p" + tag).orElseThrow().destroy();
      Files.deleteIfExists(handFile);
      if (r >= 0) {
        plain[r] = p;
        disk[r] = d;
        hand[r] = h;
        create[r] = c;
        guest[r] = g;
      }
      System.out.printf(Locale.ROOT, "D %s: deploy to ready plain %d ms, with new disk %d ms; runtime's disk cost:"
          + " create %d ms + in guest (format, mount) %d ms = %d ms; by hand %d ms%n",
          r < 0 ? "warm-up" : tag, ms(p), ms(d), ms(c), ms(g), ms(c + g), ms(h));
    }
    long[] cost = new long[rounds];
    for (int r = 0; r < rounds; r++) {
      cost[r] = create[r] + guest[r];
    }
    System.out.printf(Locale.ROOT, "D median over %d rounds: runtime's disk cost %d ms (create %d, in guest %d), by"
        + " hand %d ms: ratio runtime/hand %.2f (deploy to ready: plain %d ms, with disk %d ms)%n", rounds,
        ms(median(cost)), ms(median(create)), ms(median(guest)), ms(median(hand)),
        (double) median(cost) / median(hand), ms(median(plain)), ms(median(disk)));
  }

  private static void journal(RuntimeRig rig, int samples, List<String> domains) throws Exception {
    Pod pod = Pod.builder().name("jb").unit(Unit.builder().name("db").image("tiny").memoryMib(192)
        .journal(new Journal("logs", List.of(new JournalInput("app", JournalInput.Type.FILE, null, "/tmp/app.log"))))
        .script(Script.shell(Phase.INITIAL, "echo ready\n")).build()).build();
    deployReady(rig, pod, domains);
    Deployment d = rig.runtime.deployment("jb").orElseThrow();
    Instance i = d.instance("db", 0);
    Map<String, Long> arrived = new ConcurrentHashMap<>();
    d.events().subscribe(e -> {
      if (e instanceof PodEvent.JournalLine j) {
        arrived.put(j.line(), System.nanoTime());
      }
    });
    long[] latency = new long[samples];
    long[] exec = new long[samples];
    for (int s = -5; s < samples; s++) { // 5 unmeasured
      String line = "sample-" + (s + 5);
      long t0 = System.nanoTime();
      ExecResult x = i.exec("sh", "-c", "echo " + line + " >> /tmp/app.log");
      long t1 = System.nanoTime();
      if (x.exitCode() != 0) {
        throw new IllegalStateException("exec failed: " + x);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!arrived.containsKey(line) && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      Long at = arrived.get(line);
      if (at == null) {
        throw new IllegalStateException("line " + line + " did not arrive in 30 s");
      }
      if (s >= 0) {
        latency[s] = at - t0;
        exec[s] = t1 - t0;
      }
    }
    d.destroy();
    System.out.printf(Locale.ROOT, "J %d samples: exec call -> journal event p50 %d ms, p99 %d ms; exec round trip"
        + " (baseline) p50 %d ms, p99 %d ms; ratio p50 %.2f%n", samples, ms(pct(latency, 50)), ms(pct(latency, 99)),
        ms(pct(exec, 50)), ms(pct(exec, 99)), (double) pct(latency, 50) / pct(exec, 50));
  }

  private static long median(long[] v) {
    return pct(v, 50);
  }

  private static long pct(long[] v, int p) {
    long[] s = v.clone();
    Arrays.sort(s);
    int idx = (int) Math.ceil(p / 100.0 * s.length) - 1;
    return s[Math.max(0, Math.min(s.length - 1, idx))];
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
