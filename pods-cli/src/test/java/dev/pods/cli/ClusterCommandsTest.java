package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pods.etcd.ClusterNode;
import dev.pods.etcd.EtcdCluster;
import dev.pods.etcd.EtcdKeyspace;
import dev.pods.etcd.NodeSpec;
import dev.pods.etcd.ReportingInstances;
import io.etcd.jetcd.Client;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pods --etcd ... up/ps/logs/exec/plan/apply/down} against a real etcd member on loopback with one real
 * {@link ClusterNode} whose host ({@link ReportingInstances}) reports states, events and exec answers as a node does.
 */
class ClusterCommandsTest {
  private static final String PREFIX = "/pods-test/cluster-cli-" + ProcessHandle.current().pid();
  private static EtcdCluster etcd;
  private static String url;
  private static final List<AutoCloseable> OPEN = new ArrayList<>();

  @TempDir Path dir;

  @BeforeAll
  static void cluster() {
    etcd = EtcdCluster.start(1);
    url = etcd.members().get(0).clientUrl();
    Client c = etcd.client();
    OPEN.add(c);
    EtcdKeyspace space = EtcdKeyspace.of(c, PREFIX);
    ReportingInstances host = new ReportingInstances(space, "h1", Duration.ofSeconds(4));
    OPEN.add(host);
    OPEN.add(ClusterNode.join(space, new NodeSpec("h1", "10.250.0.1", 4, 4096), host, Duration.ofSeconds(4)));
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

  private int run(String... args) {
    out.reset();
    err.reset();
    Main main = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), false, q -> Optional.empty());
    return main.run(args);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private Path template(String name, int count, int memory) throws IOException {
    Path f = dir.resolve("shop").resolve(name + ".md");
    Files.createDirectories(f.getParent());
    Files.writeString(f, String.join("\n", "# " + name, "", "```yaml", "name: " + name, "kind: instance",
        "image: tiny", "count: " + count, "memory: " + memory, "```", ""));
    return f;
  }

  @Test
  void upPsExecPlanApplyLogsAndDownActOnTheCluster() throws Exception {
    Path web = template("web", 2, 256);
    assertThat(run("up", "--etcd", url, "--etcd-prefix", PREFIX, "--ready-timeout", "30", web.toString()))
        .as(err()).isZero();
    assertThat(out()).contains("web-0  placement: web-0 on h1: the only node with room")
        .contains("web-1  placement: web-1 on h1").contains("web-1  state pending -> creating").contains("pods   pod shop is ready in the cluster under "
            + PREFIX);

    assertThat(run("ps", "--etcd", url, "--etcd-prefix", PREFIX)).as(err()).isZero();
    assertThat(out().lines().toList()).hasSize(3);
    assertThat(out().lines().findFirst().orElseThrow()).matches("POD +INSTANCE +STATE +NODE +PRIVATE +PUBLIC +DOMAIN");
    assertThat(out()).containsPattern("shop +web-0 +ready +h1 +10\\.97\\.0\\.\\d+ +- +test-shop-web-0\n");
    assertThat(run("ps", "--etcd", url, "--etcd-prefix", PREFIX, "--json", "shop")).isZero();
    JsonNode ps = new ObjectMapper().readTree(out());
    assertThat(ps.get(0).path("pod").asText()).isEqualTo("shop");
    assertThat(ps.get(0).path("instances").get(1).path("node").asText()).isEqualTo("h1");
    assertThat(ps.get(0).path("instances").get(1).path("state").asText()).isEqualTo("READY");

    assertThat(run("exec", "--etcd", url, "--etcd-prefix", PREFIX, "shop", "web-1", "--", "echo", "over", "etcd"))
        .as(err()).isZero();
    assertThat(out()).isEqualTo("over etcd\n");
    assertThat(run("exec", "--etcd", url, "--etcd-prefix", PREFIX, "shop", "web-1", "--", "nope")).isEqualTo(127);
    assertThat(err()).isEqualTo("nope: not found\n");

    Path bigger = template("web", 3, 256);
    assertThat(run("plan", "--etcd", url, "--etcd-prefix", PREFIX, "shop", bigger.toString())).as(err()).isZero();
    assertThat(out()).isEqualTo(String.join("\n", "pod shop:", "  unit web: 1 change (live)",
        "    ~ count: 2 -> 3  [live]", "instances:", "  web-0  live      (count 2 -> 3)",
        "  web-1  live      (count 2 -> 3)", "  web-2  create    (count 2 -> 3)", ""));
    assertThat(run("apply", "--etcd", url, "--etcd-prefix", PREFIX, "shop", bigger.toString())).isEqualTo(Main.USAGE);
    assertThat(err()).contains("add --yes");
    assertThat(run("apply", "--etcd", url, "--etcd-prefix", PREFIX, "--yes", "shop", bigger.toString())).as(err())
        .isZero();
    assertThat(out()).contains("web-2  placement: web-2 on h1").endsWith("applied; pod shop is ready\n");

    assertThat(run("logs", "--etcd", url, "--etcd-prefix", PREFIX, "shop", "web-2")).isZero();
    assertThat(out().lines().toList()).contains("web-2  state pending -> creating", "web-2  | hello from web-2 on h1")
        .allMatch(l -> l.startsWith("web-2  "));

    // logs -f: what etcd keeps, then what comes, until the pod is removed and run nowhere
    java.util.concurrent.CountDownLatch following = new java.util.concurrent.CountDownLatch(1);
    ByteArrayOutputStream followed = new ByteArrayOutputStream();
    java.io.OutputStream tee = new java.io.OutputStream() {
      @Override
      public synchronized void write(int b) {
        followed.write(b);
        if (followed.toString(StandardCharsets.UTF_8).contains("hello from web-2")) {
          following.countDown();
        }
      }
    };
    java.util.concurrent.CompletableFuture<Integer> logs = java.util.concurrent.CompletableFuture.supplyAsync(() ->
        new Main(new PrintStream(tee, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream(),
            true, StandardCharsets.UTF_8), false, q -> Optional.empty())
            .run("logs", "-f", "--etcd", url, "--etcd-prefix", PREFIX, "shop"));
    assertThat(following.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(run("down", "--etcd", url, "--etcd-prefix", PREFIX, "shop")).as(err()).isZero();
    assertThat(out()).isEqualTo("destroyed pod shop\n");
    assertThat(logs.get(30, java.util.concurrent.TimeUnit.SECONDS)).isZero();
    assertThat(followed.toString(StandardCharsets.UTF_8)).contains("web-0  state ready -> destroyed",
        "web-2  state ready -> destroyed");
    assertThat(run("ps", "--etcd", url, "--etcd-prefix", PREFIX, "shop")).isEqualTo(Clients.NOT_UP);
    assertThat(err()).isEqualTo("pods: no pod 'shop' in the cluster under " + PREFIX + "\n");
  }

  @Test
  void wrongClusterOptionsAreUsageErrorsNamingTheOption() throws Exception {
    assertThat(run("ps", "--etcd", "localhost:2379")).isEqualTo(Main.USAGE);
    assertThat(err()).contains("ps: --etcd: 'localhost:2379' is not http(s)://HOST:PORT");
    assertThat(run("down", "--etcd", url, "--etcd-prefix", "pods/", "shop")).isEqualTo(Main.USAGE);
    assertThat(err()).contains("down: --etcd-prefix: etcd prefix 'pods/' is not of the form /name[/name...]");
    assertThat(run("logs", "--etcd-prefix", "/pods", "shop")).isEqualTo(Main.USAGE);
    assertThat(err()).contains("logs: --etcd-prefix is the key prefix of a cluster: it needs --etcd");
    Path web = template("web", 1, 256);
    assertThat(run("up", "--etcd", url, "--tiny", "--host-namespace", "ns1", web.toString())).isEqualTo(Main.USAGE);
    assertThat(err()).contains("up: --tiny, --host-namespace set up this host, not a cluster");
  }

  @Test
  void prefixIsAlwaysTheNamePrefixAndTheOldKeyPrefixSpellingIsAnUnknownOption() throws Exception {
    Path web = template("web", 1, 256);
    // up --prefix names this host's domains, namespaces and links, with or without --etcd: with it, it is refused
    // like every other option that sets up this host, and nothing is deployed
    assertThat(run("up", "--prefix", "lab", "--etcd", url, "--etcd-prefix", PREFIX, web.toString()))
        .isEqualTo(Main.USAGE);
    assertThat(err()).startsWith("pods: up: --prefix set up this host, not a cluster: with --etcd each node's own"
        + " settings (pods node) decide them\n");
    assertThat(run("up", "--prefix", PREFIX, "--etcd", url, web.toString())).isEqualTo(Main.USAGE);
    assertThat(err()).startsWith("pods: up: --prefix set up this host, not a cluster");
    assertThat(run("ps", "--etcd", url, "--etcd-prefix", PREFIX, "shop")).isEqualTo(Clients.NOT_UP);
    // without --etcd it is the name prefix, so a key prefix is no name
    assertThat(run("up", "--prefix", PREFIX, web.toString())).isEqualTo(Main.USAGE);
    assertThat(err()).startsWith("pods: up: --prefix must be 1..12 lower-case letters or digits");
    // the commands that only act on a cluster have no --prefix: the key prefix is --etcd-prefix
    for (String[] args : List.of(new String[] {"ps"}, new String[] {"logs", "shop"}, new String[] {"down", "shop"},
        new String[] {"exec", "shop", "web-0", "--", "true"}, new String[] {"plan", "shop", web.toString()},
        new String[] {"apply", "shop", web.toString()})) {
      List<String> argv = new ArrayList<>(List.of(args[0], "--etcd", url, "--prefix", PREFIX));
      argv.addAll(List.of(args).subList(1, args.length));
      assertThat(run(argv.toArray(String[]::new))).as(argv.toString()).isEqualTo(Main.USAGE);
      assertThat(err()).as(argv.toString()).startsWith("pods: " + args[0] + ": Unknown option")
          .contains(": '--prefix'");
    }
  }

  @Test
  void anEtcdThatDoesNotAnswerIsReportedNamingTheEndpoints() throws IOException {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort(); // nobody listens there once closed
    }
    String dead = "http://127.0.0.1:" + port;
    assertThat(run("ps", "--etcd", dead)).isEqualTo(1);
    assertThat(err()).startsWith("pods: ps: cluster at " + dead + " /pods: ");
  }
}
