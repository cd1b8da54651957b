package dev.pods.etcd;

import dev.pods.Deployment;
import dev.pods.Pod;
import dev.pods.Unit;
import io.etcd.jetcd.Client;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Benchmark (a main, not a test): what a deploy of one instance through {@link ClusterRuntime} costs, on a real
 * three-member etcd on loopback with three {@link ClusterNode}s in this JVM whose hosts are
 * {@link ReportingInstances} (status, events and exec answers written as the design says a node does, no VMs):
 * <ul>
 *   <li>etcd requests per deploy of one instance until READY: the client runtime's, the leader's, the chosen
 *       node's (its {@code ClusterNode}) and its host's reports; baseline: the requests of a bare
 *       {@link ClusterPods#put} of the same pod (what placement needs written);</li>
 *   <li>time from {@code deploy} to {@code awaitReady} returning; baseline: from {@link ClusterPods#put} to the
 *       node's host running the instance (placement and start, without the client reading the reports).</li>
 * </ul>
 *
 * <pre>
 * mvn -q -pl pods-etcd -am test-compile
 * mvn -q -pl pods-etcd dependency:build-classpath -Dmdep.outputFile=cp.txt -Dmdep.includeScope=test
 * java -cp pods-etcd/target/test-classes:pods-etcd/target/classes:pods-core/target/classes:$(cat pods-etcd/cp.txt) \
 *   dev.pods.etcd.ClusterRuntimeBenchmark [ROUNDS]
 * </pre>
 */
public final class ClusterRuntimeBenchmark {
  private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
      true, StandardCharsets.UTF_8);
  private static final Duration LEASE = Duration.ofSeconds(4);
  private static final Duration WAIT = Duration.ofSeconds(30);

  private ClusterRuntimeBenchmark() {}

  record Host(ClusterNode node, EtcdKeyspace reports, ReportingInstances host) {}

  /** Runs every measurement; see the class comment. */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    List<AutoCloseable> open = new ArrayList<>();
    try (EtcdCluster etcd = EtcdCluster.start(3)) {
      try {
      String prefix = "/bench/runtime";
      List<Host> hs = new ArrayList<>();
      for (String n : List.of("h1", "h2", "h3")) {
        Client c = etcd.client();
        open.add(c);
        EtcdKeyspace reports = EtcdKeyspace.of(c, prefix);
        ReportingInstances host = new ReportingInstances(reports, n, LEASE);
        open.add(host);
        ClusterNode node = ClusterNode.join(EtcdKeyspace.of(c, prefix), new NodeSpec(n, n, 64, 65536), host, LEASE);
        open.add(node);
        hs.add(new Host(node, reports, host));
      }
      Client clientConnection = etcd.client();
      open.add(clientConnection);
      EtcdKeyspace clientSpace = EtcdKeyspace.of(clientConnection, prefix);
      ClusterRuntime runtime = ClusterRuntime.builder(clientSpace).destroyTimeout(WAIT).build();
      open.add(runtime);
      ClusterPods bare = new ClusterPods(clientSpace);

      double[] deployed = new double[rounds];
      double[] placedBare = new double[rounds];
      long[][] requests = new long[rounds][];
      for (int r = 0; r < rounds; r++) {
        Pod pod = Pod.builder().name("one-" + r).unit(Unit.builder().name("web").image("tiny").memoryMib(64).build())
            .build();
        // baseline: a bare put, and the host running the instance
        long putBefore = clientSpace.requests();
        long t0 = System.nanoTime();
        bare.put(pod);
        long putRequests = clientSpace.requests() - putBefore;
        String id = pod.name() + "/web-0";
        await(runtime.view(), () -> hs.stream().anyMatch(h -> h.host().running().contains(id)));
        placedBare[r] = (System.nanoTime() - t0) / 1e6;
        bare.remove(pod.name());
        await(runtime.view(), () -> runtime.view().statusOf(pod.name()).isEmpty()
            && runtime.view().pod(pod.name()) == null);

        // the runtime's deploy until READY, with every party's requests
        long client = clientSpace.requests();
        long leader = hs.stream().mapToLong(h -> h.node().leaderRequests()).sum();
        long[] nodes = hs.stream().mapToLong(h -> h.node().requests()).toArray();
        long[] reports = hs.stream().mapToLong(h -> h.reports().requests()).toArray();
        t0 = System.nanoTime();
        Deployment d = runtime.deploy(pod);
        d.awaitReady(WAIT);
        deployed[r] = (System.nanoTime() - t0) / 1e6;
        String chosen = runtime.node(pod.name(), "web-0").orElseThrow();
        int c = List.of("h1", "h2", "h3").indexOf(chosen);
        requests[r] = new long[] {putRequests, clientSpace.requests() - client,
            hs.stream().mapToLong(h -> h.node().leaderRequests()).sum() - leader,
            hs.get(c).node().requests() - nodes[c], hs.get(c).reports().requests() - reports[c]};
        d.destroy();
      }
      OUT.printf("deploy of one instance to READY through ClusterRuntime, median of %d: %.1f ms; baseline: bare"
          + " ClusterPods.put to the node running it %.1f ms (%.2fx)%n", rounds, median(deployed),
          median(placedBare), median(deployed) / median(placedBare));
      OUT.println("etcd requests per deploy of one instance (bare put, client runtime, leader, chosen node,"
          + " its host's reports), each round:");
      for (long[] x : requests) {
        OUT.println("  " + Arrays.toString(x));
      }
      } finally {
        for (int i = open.size() - 1; i >= 0; i--) {
          open.get(i).close();
        }
      }
    }
  }

  /** Waits until {@code done}, woken by the view's changes. */
  private static void await(ClusterView view, java.util.function.BooleanSupplier done) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (true) {
      long seen = view.changes();
      if (done.getAsBoolean()) {
        return;
      }
      if (System.nanoTime() > end) {
        throw new IllegalStateException("benchmark step did not finish within " + WAIT);
      }
      view.awaitChange(seen, end - System.nanoTime());
    }
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
