package dev.pods.runtime;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark (a main, not a test): what the runtime itself costs on a restart, with the fakes (no VM): the time of
 * {@code build()} of a runtime that adopts {@code N} running, ready instances (default 100: reading and parsing the
 * records, looking every domain and network up, starting a metadata service per instance on loopback), and the
 * size of the state record, and the cost of a state change on the thread that makes it. Repeats {@code R} times (default 5) and prints min / median / max.
 *
 * <pre>
 * java -cp pods-core/target/test-classes:pods-core/target/classes:$(deps) dev.pods.runtime.AdoptionBenchmark [N] [R]
 * </pre>
 */
public final class AdoptionBenchmark {
  private AdoptionBenchmark() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path tmp = Files.createTempDirectory("pods-adoption-bench-");
    InMemoryHypervisor hv = InMemoryHypervisor.create();
    InMemoryNetworkDriver net = new InMemoryNetworkDriver();
    BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
    Pod pod = Pod.builder().name("bench")
        .unit(Unit.builder().name("web").image("tiny").count(n).memoryMib(192).build()).build();
    long deployNanos = System.nanoTime();
    try (PodRuntime first = builder(hv, net, tmp, image).build()) {
      Deployment d = first.deploy(pod);
      long readyNanos = System.nanoTime();
      for (Instance i : d.instances()) {
        DefaultInstance di = (DefaultInstance) i;
        Instant at = Instant.now();
        di.onAgentEvent(new AgentEvent.RunStarted(i.id(), at, "r", Trigger.FIRST_BOOT, "v", "h", List.of()));
        di.onAgentEvent(new AgentEvent.RunFinished(i.id(), at, "r", Trigger.FIRST_BOOT, true, -1, 0, Duration.ZERO));
      }
      d.awaitReady(Duration.ofMinutes(1));
      readyNanos = System.nanoTime() - readyNanos;
      System.out.printf(Locale.ROOT, "%d instances READY one after the other (record writes queued and coalesced): %.2f ms each%n",
          n, readyNanos / 1e6 / n);
    }
    deployNanos = System.nanoTime() - deployNanos;
    long recordBytes;
    try (var s = Files.list(tmp.resolve("state/deployments"))) {
      recordBytes = Files.size(s.findFirst().orElseThrow());
    }
    List<Long> times = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      long t0 = System.nanoTime();
      PodRuntime again = builder(hv, net, tmp, image).build();
      long t = System.nanoTime() - t0;
      if (!again.deployment("bench").orElseThrow().isReady()) {
        throw new IllegalStateException("adopted deployment is not ready");
      }
      again.close();
      times.add(t);
    }
    List<Long> sorted = times.stream().sorted().toList();
    System.out.printf(Locale.ROOT, "adoption of %d ready instances (fakes, IMDS on loopback): build() min %.1f ms, "
        + "median %.1f ms, max %.1f ms over %d rounds; state record %d bytes; deploy (%d instances built on the caller's thread) + ready %.0f ms%n", n,
        sorted.get(0) / 1e6, sorted.get(sorted.size() / 2) / 1e6, sorted.get(sorted.size() - 1) / 1e6, rounds,
        recordBytes, n, deployNanos / 1e6);
    hv.close();
    net.close();
    try (var walk = Files.walk(tmp)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static PodRuntime.Builder builder(InMemoryHypervisor hv, InMemoryNetworkDriver net, Path tmp,
      BootImage image) {
    return PodRuntime.builder()
        .hypervisor(hv)
        .networkDriver(net)
        .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances")))
        .images(x -> image)
        .stateDir(tmp.resolve("state"))
        .owner("bench/owner")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .executor(Runnable::run);
  }
}
