package dev.pods.runtime;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Unit;
import dev.pods.etcd.EtcdCluster;
import dev.pods.etcd.EtcdIpAddressPool;
import dev.pods.etcd.EtcdKeyspace;
import dev.pods.etcd.EtcdPoolsNetworkDriver;
import dev.pods.etcd.EtcdStateStore;
import dev.pods.net.FileIpAddressPool;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.StateStore;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Benchmark (a main, not a test): what etcd costs the runtime, against the file store and file pool in the same run,
 * with a real single-member etcd on loopback whose data folder is on the same file system as the files.
 * <ul>
 *   <li>etcd requests per deploy (and per destroy) of a pod of one instance on the fakes, store and pools counted
 *       apart, and the deploy's time with etcd against files;</li>
 *   <li>latency of a state put (a 2 KiB record): {@code EtcdStateStore} against the runtime's file store;</li>
 *   <li>latency of allocate + release: {@code EtcdIpAddressPool} against {@code FileIpAddressPool}.</li>
 * </ul>
 * Prints median and 99th percentile over {@code N} operations (default 300) after a warm-up, and the ratios.
 *
 * <pre>
 * mvn -q -pl pods-etcd -am test-compile
 * java -cp pods-etcd/target/test-classes:pods-etcd/target/classes:$(deps) dev.pods.runtime.EtcdBenchmark [N]
 * </pre>
 */
public final class EtcdBenchmark {
  private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
      true, StandardCharsets.UTF_8);

  private EtcdBenchmark() {}

  /** Runs every measurement once; see the class comment. */
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    Path tmp = Files.createTempDirectory("pods-etcd-bench-");
    try (EtcdCluster etcd = EtcdCluster.start(1); Client client = etcd.client()) {
      deploys(client, tmp, Math.max(5, n / 30));
      byte[] record = new byte[2048];
      java.util.Arrays.fill(record, (byte) 'x');
      StateStore file = FileStateStore.open(tmp.resolve("state"));
      StateStore inEtcd = new EtcdStateStore(EtcdKeyspace.of(client, "/bench/store"));
      double[] f = time(n, i -> file.put("shop-" + (i % 10), record));
      double[] e = time(n, i -> inEtcd.put("shop-" + (i % 10), record));
      report("state put, 2 KiB", f, e, "file store");

      IpPoolSpec spec = IpPoolSpec.addresses("bench", Cidr.parse("10.90.0.0/16"));
      IpAddressPool filePool = FileIpAddressPool.open(tmp.resolve("pools"), spec);
      IpAddressPool etcdPool = new EtcdIpAddressPool(EtcdKeyspace.of(client, "/bench/pools"), spec);
      double[] fp = time(n, i -> {
        filePool.allocate("h" + i);
        filePool.release("h" + i);
      });
      double[] ep = time(n, i -> {
        etcdPool.allocate("h" + i);
        etcdPool.release("h" + i);
      });
      report("allocate + release", fp, ep, "file pool");
    } finally {
      try (Stream<Path> walk = Files.walk(tmp)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Deploys and destroys a pod of one instance, on files then on etcd, and counts etcd's requests. */
  private static void deploys(Client client, Path tmp, int rounds) throws IOException {
    BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
    Pod pod = Pod.builder().name("one").unit(Unit.builder().name("web").image("tiny").memoryMib(192).build()).build();
    List<Long> fileTimes = new ArrayList<>();
    List<Long> etcdTimes = new ArrayList<>();
    long storeDeploy = 0;
    long poolDeploy = 0;
    long storeDestroy = 0;
    long poolDestroy = 0;
    for (int r = 0; r < rounds + 1; r++) {
      for (boolean useEtcd : new boolean[] {false, true}) {
        EtcdKeyspace stateSpace = EtcdKeyspace.of(client, "/bench/rt-" + r + "/s");
        EtcdKeyspace poolSpace = EtcdKeyspace.of(client, "/bench/rt-" + r + "/p");
        List<Runnable> tasks = new ArrayList<>();
        try (InMemoryHypervisor hv = InMemoryHypervisor.create(); InMemoryNetworkDriver net = new InMemoryNetworkDriver()) {
          PodRuntime.Builder b = PodRuntime.builder().hypervisor(hv)
              .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("inst-" + r + useEtcd)))
              .images(name -> image).stateDir(tmp.resolve("rt-" + r + useEtcd)).owner("bench").namePrefix("b-")
              .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).executor(tasks::add);
          if (useEtcd) {
            b.networkDriver(new EtcdPoolsNetworkDriver(net, poolSpace)).stateStore(new EtcdStateStore(stateSpace));
          } else {
            b.networkDriver(net);
          }
          try (PodRuntime rt = b.build()) {
            long s0 = stateSpace.requests();
            long p0 = poolSpace.requests();
            long t0 = System.nanoTime();
            Deployment d = rt.deploy(pod);
            drain(tasks);
            long took = System.nanoTime() - t0;
            long s1 = stateSpace.requests();
            long p1 = poolSpace.requests();
            d.destroy();
            drain(tasks);
            if (r > 0) { // round 0 warms up
              (useEtcd ? etcdTimes : fileTimes).add(took);
              if (useEtcd) {
                storeDeploy += s1 - s0;
                poolDeploy += p1 - p0;
                storeDestroy += stateSpace.requests() - s1;
                poolDestroy += poolSpace.requests() - p1;
              }
            }
          }
        }
      }
    }
    OUT.printf(Locale.ROOT, "etcd requests per deploy of one instance (fakes, runtime's own work): store %.1f, pools "
        + "%.1f; per destroy: store %.1f, pools %.1f (mean of %d rounds)%n", storeDeploy / (double) rounds,
        poolDeploy / (double) rounds, storeDestroy / (double) rounds, poolDestroy / (double) rounds, rounds);
    double f = median(fileTimes);
    double e = median(etcdTimes);
    OUT.printf(Locale.ROOT, "deploy of one instance on the fakes: files %.2f ms, etcd %.2f ms (median of %d): "
        + "etcd/files = %.1fx%n", f, e, rounds, e / f);
  }

  private static void drain(List<Runnable> tasks) {
    while (!tasks.isEmpty()) {
      List<Runnable> now = List.copyOf(tasks);
      tasks.clear();
      now.forEach(Runnable::run);
    }
  }

  /** Milliseconds of each of {@code n} runs of {@code op}, after {@code n / 10} warm-up runs. */
  private static double[] time(int n, Consumer<Integer> op) {
    for (int i = 0; i < n / 10; i++) {
      op.accept(-1 - i);
    }
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      op.accept(i);
      out[i] = (System.nanoTime() - t0) / 1e6;
    }
    java.util.Arrays.sort(out);
    return out;
  }

  private static void report(String what, double[] base, double[] etcd, String baseName) {
    double bm = base[base.length / 2];
    double em = etcd[etcd.length / 2];
    double b99 = base[(int) (base.length * 0.99)];
    double e99 = etcd[(int) (etcd.length * 0.99)];
    OUT.printf(Locale.ROOT, "%s: %s median %.2f ms p99 %.2f ms; etcd median %.2f ms p99 %.2f ms (n=%d): "
        + "etcd/%s median %.2fx, p99 %.2fx%n", what, baseName, bm, b99, em, e99, base.length, baseName, em / bm,
        e99 / b99);
  }

  private static double median(List<Long> nanos) {
    List<Long> s = nanos.stream().sorted().toList();
    return s.get(s.size() / 2) / 1e6;
  }
}
