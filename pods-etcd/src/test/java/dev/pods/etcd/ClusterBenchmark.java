package dev.pods.etcd;

import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.etcd.Assignment.State;
import io.etcd.jetcd.Client;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Benchmark (a main, not a test): the cluster on a real three-member etcd on loopback with three nodes in this JVM
 * (each on its own connection, lease 4 s), each figure against a baseline measured in the same run:
 * <ul>
 *   <li>placement of a pod of 30 instances over the 3 nodes: from {@code ClusterPods.put} to every instance
 *       placed, and to every instance started by its node; baseline: the pure {@link Placement#place} of the same
 *       instances, and one etcd put;</li>
 *   <li>a node's loss (its connection closed, as when its JVM is killed) to its instances placed elsewhere;
 *       baseline: the lease period;</li>
 *   <li>etcd requests for the placement of a pod of one instance: the leader's, the chosen node's, the other
 *       nodes', the client's.</li>
 * </ul>
 *
 * <pre>
 * mvn -q -pl pods-etcd -am test-compile
 * mvn -q -pl pods-etcd dependency:build-classpath -Dmdep.outputFile=cp.txt -Dmdep.includeScope=test
 * java -cp pods-etcd/target/test-classes:pods-etcd/target/classes:pods-core/target/classes:$(cat pods-etcd/cp.txt) \
 *   dev.pods.etcd.ClusterBenchmark [ROUNDS]
 * </pre>
 */
public final class ClusterBenchmark {
  private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
      true, StandardCharsets.UTF_8);
  private static final Duration LEASE = Duration.ofSeconds(4);

  private ClusterBenchmark() {}

  record Joined(ClusterNode node, Client client, RecordingInstances host) {}

  /** Runs every measurement; see the class comment. */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    try (EtcdCluster etcd = EtcdCluster.start(3); Client observer = etcd.client()) {
      String prefix = "/bench/cluster";
      EtcdKeyspace view = EtcdKeyspace.of(observer, prefix);
      List<Joined> hs = new ArrayList<>();
      for (String n : List.of("h1", "h2", "h3")) {
        hs.add(join(etcd, prefix, n));
      }
      ClusterPods pods = new ClusterPods(view);
      await(view, Duration.ofSeconds(20), () -> hs.stream().anyMatch(h -> h.node().leads()));

      // 1. 30 instances over 3 nodes.
      double[] placed = new double[rounds];
      double[] started = new double[rounds];
      double[] pure = new double[rounds];
      double[] put = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        Pod pod = Pod.builder().name("p" + r).unit(Unit.builder().name("web").image("tiny").count(30)
            .memoryMib(64).build()).build();
        List<DesiredInstance> desired = DesiredInstance.of(pod);
        List<NodeStatus> live = new Nodes(view).list();
        long t0 = System.nanoTime();
        for (int i = 0; i < 100; i++) {
          Placement.place(desired, live, Map.of());
        }
        pure[r] = (System.nanoTime() - t0) / 100 / 1e6;
        t0 = System.nanoTime();
        observer.getKVClient().put(view.key("bench/put"), view.key("x")).get(10, TimeUnit.SECONDS);
        put[r] = (System.nanoTime() - t0) / 1e6;

        long start = System.nanoTime();
        pods.put(pod);
        String p = pod.name() + "/";
        await(view, Duration.ofSeconds(60), () -> pods.assignments().values().stream()
            .filter(a -> a.instance().startsWith(p) && a.state() == State.PLACED).count() == 30);
        placed[r] = (System.nanoTime() - start) / 1e6;
        await(view, Duration.ofSeconds(60), () -> running(hs, p) == 30);
        started[r] = (System.nanoTime() - start) / 1e6;
        pods.remove(pod.name());
        await(view, Duration.ofSeconds(60), () -> running(hs, p) == 0 && pods.assignments().isEmpty());
      }
      OUT.printf("30 instances over 3 nodes, median of %d: placed %.1f ms, started by their nodes %.1f ms;"
          + " baselines: pure placement %.3f ms, one etcd put %.1f ms (placed / put = %.1fx)%n", rounds,
          median(placed), median(started), median(pure), median(put), median(placed) / median(put));

      // 2. Requests for one instance.
      long leaderBefore = hs.stream().mapToLong(h -> h.node().leaderRequests()).sum();
      long[] nodesBefore = hs.stream().mapToLong(h -> h.node().requests()).toArray();
      long clientBefore = view.requests();
      Pod one = Pod.builder().name("one").unit(Unit.builder().name("web").image("tiny").memoryMib(64).build())
          .build();
      pods.put(one);
      long clientPut = view.requests() - clientBefore;
      await(view, Duration.ofSeconds(30), () -> running(hs, "one/") == 1
          && new Nodes(view).list().stream().anyMatch(n -> n.instances().contains("one/web-0")));
      // Settle: the records and watches of the round go quiet.
      Thread.sleep(1500); // benchmark only: lets late watch-triggered reads be counted, not a synchronisation
      long leader = hs.stream().mapToLong(h -> h.node().leaderRequests()).sum() - leaderBefore;
      StringBuilder nodes = new StringBuilder();
      for (int i = 0; i < hs.size(); i++) {
        Joined h = hs.get(i);
        nodes.append(i == 0 ? "" : ", ").append(h.node().name())
            .append(h.host().running().contains("one/web-0") ? " (chosen) " : " ")
            .append(h.node().requests() - nodesBefore[i]);
      }
      OUT.printf("etcd requests for placing one instance: client put %d, leader %d, nodes: %s%n", clientPut,
          leader, nodes);
      pods.remove("one");
      await(view, Duration.ofSeconds(30), () -> running(hs, "one/") == 0 && pods.assignments().isEmpty());

      // 3. Node loss.
      pods.put(Pod.builder().name("loss").unit(Unit.builder().name("web").image("tiny").count(6).memoryMib(64)
          .build()).build());
      await(view, Duration.ofSeconds(30), () -> running(hs, "loss/") == 6);
      double[] moved = new double[Math.min(rounds, 3)];
      for (int r = 0; r < moved.length; r++) {
        Joined victim = hs.stream().filter(h -> !h.node().leads() && !h.host().running().isEmpty()).findFirst()
            .orElseThrow();
        List<String> had = new ArrayList<>(victim.host().running());
        long cut = System.nanoTime();
        victim.client().close();
        await(view, LEASE.multipliedBy(4), () -> {
          Map<String, Assignment> as = pods.assignments();
          return had.stream().allMatch(i -> as.get(i).state() == State.PLACED
              && !victim.node().name().equals(as.get(i).node()));
        });
        moved[r] = (System.nanoTime() - cut) / 1e6;
        await(view, LEASE.multipliedBy(2), () -> victim.node().lost());
        victim.node().close();
        hs.set(hs.indexOf(victim), join(etcd, prefix, victim.node().name()));
      }
      OUT.printf("node loss to its instances placed elsewhere, median of %d: %.0f ms; baseline: lease %d ms"
          + " (%.2fx); each: %s%n", moved.length, median(moved), LEASE.toMillis(),
          median(moved) / LEASE.toMillis(), Arrays.toString(moved));
      for (Joined h : hs) {
        h.node().close();
        h.client().close();
      }
    }
  }

  private static Joined join(EtcdCluster etcd, String prefix, String name) {
    Client c = etcd.client();
    RecordingInstances host = new RecordingInstances();
    ClusterNode n = ClusterNode.join(EtcdKeyspace.of(c, prefix), new NodeSpec(name, name, 64, 65536), host, LEASE);
    return new Joined(n, c, host);
  }

  private static long running(List<Joined> hs, String podPrefix) {
    return hs.stream().flatMap(h -> h.host().running().stream()).filter(i -> i.startsWith(podPrefix)).count();
  }

  @SuppressWarnings("try")
  private static void await(EtcdKeyspace view, Duration timeout, BooleanSupplier done) throws Exception {
    Semaphore changed = new Semaphore(0);
    try (AutoCloseable w = new Nodes(view).watch(l -> changed.release())) {
      long end = System.nanoTime() + timeout.toNanos();
      while (!done.getAsBoolean()) {
        if (System.nanoTime() > end) {
          throw new IllegalStateException("benchmark step did not finish within " + timeout);
        }
        changed.tryAcquire(20, TimeUnit.MILLISECONDS);
      }
    }
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
