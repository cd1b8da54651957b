package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.etcd.ClusterNode;
import dev.pods.etcd.ClusterPods;
import dev.pods.etcd.EtcdCluster;
import dev.pods.etcd.EtcdKeyspace;
import dev.pods.etcd.NodeSpec;
import dev.pods.etcd.NodeStatus;
import dev.pods.etcd.Nodes;
import dev.pods.etcd.RecordingInstances;
import dev.pods.spi.Cidr;
import io.etcd.jetcd.Client;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code pods nodes} against a real etcd member on loopback (started by the test, as pods-etcd's tests do) with two
 * nodes joined in this JVM, one of them running an instance the leader placed on it.
 */
class NodesCommandTest {
  private static final String PREFIX = "/pods-test/nodes-cli-" + ProcessHandle.current().pid();
  private static EtcdCluster etcd;
  private static final List<AutoCloseable> OPEN = new ArrayList<>();

  @BeforeAll
  @SuppressWarnings("try")
  static void cluster() throws Exception {
    etcd = EtcdCluster.start(1);
    Client c1 = open(etcd.client());
    Client c2 = open(etcd.client());
    open(ClusterNode.join(EtcdKeyspace.of(c1, PREFIX), new NodeSpec("h1", "10.250.0.1", 4, 4096)
        .withUnderlay(Cidr.parseAddress("10.250.1.1")), new RecordingInstances(), Duration.ofSeconds(4)));
    open(ClusterNode.join(EtcdKeyspace.of(c2, PREFIX), new NodeSpec("h2", "10.250.0.2", 2, 2048), new RecordingInstances(),
        Duration.ofSeconds(4)));
    Client observer = open(etcd.client());
    EtcdKeyspace view = EtcdKeyspace.of(observer, PREFIX);
    new ClusterPods(view).put(Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("tiny").count(1).memoryMib(256).build()).build());
    CountDownLatch settled = new CountDownLatch(1);
    try (AutoCloseable w = new Nodes(view).watch(nodes -> {
      if (nodes.size() == 2 && nodes.stream().filter(NodeStatus::leader).count() == 1
          && nodes.stream().mapToInt(n -> n.instances().size()).sum() == 1) {
        settled.countDown();
      }
    })) {
      assertThat(settled.await(30, TimeUnit.SECONDS)).as("a leader and shop/web-0 running on a node").isTrue();
    }
  }

  private static <T extends AutoCloseable> T open(T c) {
    OPEN.add(c);
    return c;
  }

  @AfterAll
  static void stop() throws Exception {
    for (int i = OPEN.size() - 1; i >= 0; i--) {
      OPEN.get(i).close();
    }
    etcd.close();
  }

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final Main main =
      new Main(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private static String urls() {
    return String.join(",", etcd.endpoints());
  }

  @Test
  void listsTheNodesWithAddressCapacityLoadInstancesHealthAndTheLeader() {
    List<NodeStatus> truth = new Nodes(EtcdKeyspace.of(etcd.client(), PREFIX)).list();
    NodeStatus runner = truth.stream().filter(n -> !n.instances().isEmpty()).findFirst().orElseThrow();
    NodeStatus leader = truth.stream().filter(NodeStatus::leader).findFirst().orElseThrow();

    assertThat(main.run("nodes", "--etcd", urls(), "--etcd-prefix", PREFIX)).as(err()).isZero();
    List<String[]> rows = out().lines().map(l -> l.split(" {2,}")).toList();
    assertThat(rows).hasSize(3);
    assertThat(rows.get(0)).containsExactly("NODE", "ADDRESS", "CPUS", "MEMORY", "FREE", "HEALTH", "LEADER",
        "INSTANCES");
    for (String[] row : rows.subList(1, 3)) {
      NodeStatus n = truth.stream().filter(t -> t.name().equals(row[0])).findFirst().orElseThrow();
      boolean runs = n.equals(runner);
      assertThat(row).containsExactly(n.name(), n.name().equals("h1") ? "10.250.0.1" : "10.250.0.2",
          (runs ? 1 : 0) + "/" + n.cpus(), (runs ? 256 : 0) + "/" + n.memoryMib() + " MiB",
          n.memoryMib() + " MiB", "READY", n.equals(leader) ? "yes" : "-", runs ? "shop/web-0" : "-");
    }
    assertThat(rows.get(1)[0]).isEqualTo("h1");
  }

  @Test
  void jsonGivesEveryField() throws Exception {
    assertThat(main.run("nodes", "--json", "--etcd", etcd.endpoints()[0], "--etcd-prefix=" + PREFIX)).as(err()).isZero();
    JsonNode all = new ObjectMapper().readTree(out());
    assertThat(all.size()).isEqualTo(2);
    JsonNode h1 = all.get(0);
    assertThat(h1.get("name").asText()).isEqualTo("h1");
    assertThat(h1.get("address").asText()).isEqualTo("10.250.0.1");
    assertThat(h1.get("underlay").asText()).isEqualTo("10.250.1.1");
    assertThat(h1.get("cpus").asInt()).isEqualTo(4);
    assertThat(h1.get("memoryMib").asInt()).isEqualTo(4096);
    assertThat(h1.get("freeMemoryMib").asInt()).isEqualTo(4096);
    assertThat(h1.get("health").asText()).isEqualTo("READY");
    JsonNode h2 = all.get(1);
    assertThat(h2.get("name").asText()).isEqualTo("h2");
    assertThat(h2.get("underlay").isNull()).isTrue();
    assertThat(h1.get("leader").asBoolean() ^ h2.get("leader").asBoolean()).isTrue();
    assertThat(h1.get("instances").size() + h2.get("instances").size()).isEqualTo(1);
    assertThat(h1.get("assignedMemoryMib").asInt() + h2.get("assignedMemoryMib").asInt()).isEqualTo(256);
    assertThat(h1.get("assignedCpus").asInt() + h2.get("assignedCpus").asInt()).isEqualTo(1);
  }

  @Test
  void anEmptyPrefixHasNoNodes() {
    assertThat(main.run("nodes", "--etcd", urls(), "--etcd-prefix", PREFIX + "-none")).as(err()).isZero();
    assertThat(out()).isEqualTo("no nodes under " + PREFIX + "-none\n");
  }

  @Test
  void anEtcdThatDoesNotAnswerIsAClearErrorAfterTheTimeout() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // nobody listens there once closed
    }
    String url = "http://127.0.0.1:" + port;
    long start = System.nanoTime();
    assertThat(main.run("nodes", "--etcd", url, "--timeout", "2")).isEqualTo(1);
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(err()).startsWith("pods: nodes: etcd at " + url + ": listing nodes in etcd got no answer within"
        + " 2000 ms (last: ").doesNotContain("null");
    assertThat(tookMs).isBetween(1_900L, 15_000L);
    assertThat(out()).isEmpty();
  }

  @Test
  void badUrlsAndPrefixesAreUsageErrors() {
    assertThat(main.run("nodes", "--etcd", "127.0.0.1:2379")).isEqualTo(2);
    assertThat(err()).contains("pods: nodes: --etcd: '127.0.0.1:2379' is not http(s)://HOST:PORT");
    err.reset();
    assertThat(main.run("nodes", "--etcd", urls(), "--etcd-prefix", "pods")).isEqualTo(2);
    assertThat(err()).contains("pods: nodes: --etcd-prefix: etcd prefix 'pods' is not of the form");
    err.reset();
    assertThat(main.run("nodes", "--etcd", urls(), "--prefix", PREFIX)).isEqualTo(2);
    assertThat(err()).contains("pods: nodes: Unknown options: '--prefix', '" + PREFIX + "'");
    err.reset();
    assertThat(main.run("nodes")).isEqualTo(2);
    assertThat(err()).contains("Missing required option: '--etcd=URL'");
  }
}
