package dev.pods.runtime;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.MigrationPlan;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Benchmark (a main, not a test): the runtime's own cost of changing a deployment, with the in-memory hypervisor
 * and network driver and a real metadata service per instance on loopback (so no VM time is in these figures).
 * For each size N (default 10 50 100): deploy N web instances and one lb; plan and apply a live script change of
 * web (every web instance gets a new view; the plan itself is timed apart); scale web N -> 2N (builds included:
 * creations run on the applying thread here); scale 2N -> N (removals).
 *
 * <pre>
 * java -cp pods-core/target/test-classes:pods-core/target/classes:$(deps) dev.pods.runtime.MigrationBenchmark [N...]
 * </pre>
 */
public final class MigrationBenchmark {
  private MigrationBenchmark() {}

  public static void main(String[] args) throws Exception {
    int[] sizes = args.length == 0 ? new int[] {10, 50, 100}
        : Stream.of(args).mapToInt(Integer::parseInt).toArray();
    for (int n : sizes) {
      run(n);
    }
  }

  private static Unit web(int count, String reload) {
    return Unit.builder().name("web").image("tiny").count(count).memoryMib(128)
        .script(Script.shell(Phase.RELOAD, reload)).build();
  }

  private static void run(int n) throws Exception {
    Path tmp = Files.createTempDirectory("pods-migration-bench-");
    try (InMemoryHypervisor hv = InMemoryHypervisor.create();
        InMemoryNetworkDriver net = new InMemoryNetworkDriver()) {
      BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
          Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
      try (PodRuntime runtime = PodRuntime.builder()
          .hypervisor(hv).networkDriver(net).instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances")))
          .images(name -> image).stateDir(tmp.resolve("state")).namePrefix("b-")
          .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
          .executor(Runnable::run)
          .privateRange(dev.pods.spi.Cidr.parse("10.96.0.0/14"))
          .build()) {
        Unit lb = Unit.builder().name("lb").image("tiny").memoryMib(128)
            .script(Script.shell(Phase.RELOAD, "pods get +/unit/web/private_ips\n")).build();
        Pod pod = Pod.builder().name("bench").unit(lb).unit(web(n, "echo v1\n")).build();
        long t = System.nanoTime();
        Deployment d = runtime.deploy(pod);
        double deploy = ms(t);

        Pod live = pod.withUnit(web(n, "echo v2\n"));
        t = System.nanoTime();
        MigrationPlan p = d.plan(live);
        double plan = ms(t);
        t = System.nanoTime();
        p.apply();
        double applyLive = ms(t);

        t = System.nanoTime();
        d.scale("web", 2 * n);
        double up = ms(t);
        t = System.nanoTime();
        d.scale("web", n);
        double down = ms(t);
        t = System.nanoTime();
        d.destroy();
        double destroy = ms(t);
        System.out.printf(Locale.ROOT, "N=%-4d deploy %7.1f ms | plan %6.2f ms, apply live %6.1f ms"
            + " | scale N->2N %7.1f ms | 2N->N %7.1f ms | destroy %7.1f ms%n",
            n, deploy, plan, applyLive, up, down, destroy);
      }
    } finally {
      try (Stream<Path> s = Files.walk(tmp)) {
        for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(x);
        }
      }
    }
  }

  private static double ms(long t0) {
    return Duration.ofNanos(System.nanoTime() - t0).toNanos() / 1e6;
  }
}
