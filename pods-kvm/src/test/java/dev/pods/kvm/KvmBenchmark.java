package dev.pods.kvm;

import dev.pods.kvm.internal.Exec;
import dev.pods.spi.Acceleration;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Figures for the KVM backend, printed on stdout (a main program, not a test: timings are not asserted).
 *
 * <ol>
 *   <li>Tiny guest, define -> start -> marker on the console, through libvirt, against the same kernel, initrd,
 *       seed and TCG cache size booted by a raw {@code qemu-system-x86_64} command, alternating, in one run.
 *   <li>Overlay creation ({@link DiskImages#overlay}, one qemu-img call) on a 10 GiB base fully written with
 *       data, against a 64 MiB base.
 *   <li>RSS of the qemu process for 128 and 256 MiB tiny guests, a few seconds after the marker.
 * </ol>
 *
 * <p>Run as root with libvirtd up: {@code java -cp pods-kvm/target/test-classes:pods-kvm/target/classes:<deps>
 * dev.pods.kvm.KvmBenchmark [rounds]}. Everything it creates is named {@code podsb-<random>-} and removed.
 */
public final class KvmBenchmark {
  private static final String PREFIX = "podsb-" + UUID.randomUUID().toString().substring(0, 8) + "-";
  private static final String MARK = "PODS-MARKER bench";

  private KvmBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    DiskImages disks = DiskImages.at(Path.of(System.getProperty("pods.test.dir", "/var/lib/pods/test")));
    Path work = disks.instanceDir(PREFIX + "work");
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      Acceleration acc = hv.autoAcceleration();
      Path seed = SeedIso.builder(PREFIX + "seed").file("pods-marker", "bench").build()
          .writeTo(work.resolve("seed.iso"));
      out("acceleration: %s, tb-cache 64 MiB, 1 vCPU, 128 MiB, kernel %s", acc, tiny.kernelVersion());
      bootComparison(hv, tiny, seed, work, acc, rounds);
      overlays(disks, work);
      rss(hv, tiny, seed, work, acc);
    } finally {
      DiskImages.deleteTree(work);
      disks.deleteInstance(PREFIX + "work");
    }
  }

  private static void out(String fmt, Object... args) {
    System.out.println(String.format(Locale.ROOT, fmt, args));
  }

  private static DomainSpec spec(String name, GuestImages.Tiny tiny, Path seed, Path log, long mib,
      Acceleration acc) {
    return DomainSpec.builder(name)
        .metadata(new DomainMetadata("podsb-" + ProcessHandle.current().pid() + "-bench", "bench", "tiny", 0, "b"))
        .memoryMib(mib)
        .boot(DomainBoot.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")))
        .seedIso(seed)
        .serialLog(log)
        .acceleration(acc)
        .build();
  }

  private static boolean logHas(Path log, String mark) throws IOException {
    return Files.exists(log) && new String(Files.readAllBytes(log), StandardCharsets.ISO_8859_1).contains(mark);
  }

  private static long libvirtBoot(LibvirtHypervisor hv, DomainSpec s, Path log) throws Exception {
    Files.deleteIfExists(log);
    long t0 = System.nanoTime();
    hv.define(s);
    hv.start(s.name());
    while (!logHas(log, MARK)) {
      Thread.sleep(10);
      if (System.nanoTime() - t0 > 120_000_000_000L) {
        throw new IllegalStateException("no marker from " + s.name());
      }
    }
    long ns = System.nanoTime() - t0;
    hv.undefine(s.name());
    return ns;
  }

  private static long rawBoot(GuestImages.Tiny tiny, Path seed, Path log, Acceleration acc) throws Exception {
    Files.deleteIfExists(log);
    List<String> cmd = List.of("qemu-system-x86_64",
        "-machine", "pc",
        "-accel", acc == Acceleration.KVM ? "kvm" : "tcg,tb-size=64",
        "-m", "128", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
        "-kernel", tiny.kernel().toString(), "-initrd", tiny.initrd().toString(),
        "-append", tiny.cmdline(""),
        "-drive", "file=" + seed + ",if=ide,index=2,media=cdrom,readonly=on,format=raw",
        "-serial", "file:" + log, "-no-reboot");
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    try {
      while (!logHas(log, MARK)) {
        Thread.sleep(10);
        if (!p.isAlive()) {
          throw new IllegalStateException("qemu exited with " + p.exitValue());
        }
        if (System.nanoTime() - t0 > 120_000_000_000L) {
          throw new IllegalStateException("no marker from raw qemu");
        }
      }
      return System.nanoTime() - t0;
    } finally {
      p.destroyForcibly();
      p.waitFor();
    }
  }

  private static void bootComparison(LibvirtHypervisor hv, GuestImages.Tiny tiny, Path seed, Path work,
      Acceleration acc, int rounds) throws Exception {
    List<Long> lv = new ArrayList<>();
    List<Long> raw = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      String name = PREFIX + "boot" + i;
      lv.add(libvirtBoot(hv, spec(name, tiny, seed, work.resolve(name + ".log"), 128, acc),
          work.resolve(name + ".log")));
      raw.add(rawBoot(tiny, seed, work.resolve("raw" + i + ".log"), acc));
    }
    double l = median(lv) / 1e6;
    double r = median(raw) / 1e6;
    out("tiny guest define->start->marker via libvirt: median %.0f ms (runs %s)", l, ms(lv));
    out("tiny guest raw qemu-system-x86_64 -> marker:  median %.0f ms (runs %s)", r, ms(raw));
    out("ratio libvirt/raw: %.3f (target <= 1.10)", l / r);
  }

  private static void overlays(DiskImages disks, Path work) throws Exception {
    Path big = work.resolve("base-10g.qcow2");
    Path small = work.resolve("base-64m.qcow2");
    long t0 = System.nanoTime();
    Exec.run("bench", List.of("qemu-img", "create", "-q", "-f", "qcow2", big.toString(), "10G"), null,
        Duration.ofMinutes(1));
    List<String> write = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (int g = 0; g < 10; g++) {
      write.add("-c");
      write.add("write -P 0xa5 " + g + "G 1G");
    }
    write.add(big.toString());
    Exec.run("bench", write, null, Duration.ofMinutes(30));
    out("10 GiB base written in %.1f s, %d MiB allocated", (System.nanoTime() - t0) / 1e9,
        Files.size(big) >> 20);
    Exec.run("bench", List.of("qemu-img", "create", "-q", "-f", "qcow2", small.toString(), "64M"), null,
        Duration.ofMinutes(1));
    for (Path base : List.of(small, big)) {
      List<Long> times = new ArrayList<>();
      for (int i = 0; i < 21; i++) {
        Path o = work.resolve("ov" + i + ".qcow2");
        long s = System.nanoTime();
        disks.overlay(base, o, 0);
        times.add(System.nanoTime() - s);
        if (i == 0) {
          out("overlay file size on %s: %d KiB", base.getFileName(), Files.size(o) >> 10);
        }
        Files.delete(o);
      }
      times.remove(0); // the first call also starts the JVM's process machinery
      out("overlay creation on %s: median %.1f ms, max %.1f ms (20 runs; target <= 50 ms)",
          base.getFileName(), median(times) / 1e6, Collections.max(times) / 1e6);
    }
    Files.delete(big);
    Files.delete(small);
  }

  private static void rss(LibvirtHypervisor hv, GuestImages.Tiny tiny, Path seed, Path work, Acceleration acc)
      throws Exception {
    for (long mib : List.of(128L, 256L)) {
      String name = PREFIX + "rss" + mib;
      Path log = work.resolve(name + ".log");
      DomainSpec s = spec(name, tiny, seed, log, mib, acc);
      hv.define(s);
      hv.start(s.name());
      try {
        while (!logHas(log, MARK)) {
          Thread.sleep(50);
        }
        Thread.sleep(5000);
        String pid = Files.readString(Path.of("/run/libvirt/qemu/" + name + ".pid")).trim();
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        String rss = status.lines().filter(x -> x.startsWith("VmRSS")).findFirst().orElse("VmRSS: ?");
        out("qemu RSS, %d MiB tiny guest (5 s after marker): %s", mib, rss.replaceAll("\\s+", " "));
      } finally {
        hv.undefine(s.name());
      }
    }
  }

  private static double median(List<Long> xs) {
    List<Long> s = new ArrayList<>(xs);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2.0;
  }

  private static List<String> ms(List<Long> xs) {
    List<String> out = new ArrayList<>();
    for (long x : xs) {
      out.add(String.format(Locale.ROOT, "%.0f", x / 1e6));
    }
    return out;
  }
}
