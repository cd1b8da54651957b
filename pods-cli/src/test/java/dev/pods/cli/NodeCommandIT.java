package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.etcd.ClusterPods;
import dev.pods.etcd.EtcdCluster;
import dev.pods.etcd.EtcdKeyspace;
import dev.pods.etcd.NodeStatus;
import dev.pods.etcd.Nodes;
import dev.pods.etcd.internal.ClusterJson;
import dev.pods.etcd.internal.ExecRecord;
import dev.pods.etcd.internal.StatusRecord;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.PutOption;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code pods node} as a process of its own on this host (libvirt, Linux networking in a host namespace of the test,
 * real tiny guests) and a real etcd member on loopback: it prints {@code node h1 joined PREFIX} once registered and
 * the cluster lists it; a second node of that name is refused (exit 1); a pod put in the cluster runs on it READY
 * (its status record) and an exec request through etcd is answered by the guest; killed with SIGKILL, its guest
 * runs on, and the node started again once its lease expired adopts it (the same domain, READY, answering); SIGTERM
 * makes it leave (its instance stopped, its record gone at once) and exit 0.
 *
 * <p>Everything the run creates is named with its prefix {@code nd????}: the data folder
 * {@code /var/lib/pods/node-it/<prefix>}, the host namespace {@code <prefix>x-host}, the domains, namespaces and
 * links of the node ({@code <prefix>-...}), etcd keys under {@code /pods-test/<prefix>}; removed at the end.
 */
@Tag("system")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class NodeCommandIT {
  private static final Path RUNS = Path.of("/var/lib/pods/node-it");

  private final String prefix = String.format(Locale.ROOT, "nd%04x", ThreadLocalRandom.current().nextInt(0x10000));
  private final Path run = RUNS.resolve(prefix);
  private final Path data = run.resolve("data");
  private final String ns = prefix + "x-host";
  private final String keys = "/pods-test/" + prefix;

  /** A running {@code pods node} process and the lines it printed so far. */
  private record Node(Process process, List<String> lines, Thread reader) {
    String text() {
      return String.join("\n", lines);
    }
  }

  @Test
  void nodeJoinsRunsAPodAnswersExecAndLeavesOnSigterm() throws Exception {
    assumeCapable();
    Files.createDirectories(data);
    host("ip", "netns", "add", ns);
    List<Throwable> errors = new ArrayList<>();
    Node h1 = null;
    try (EtcdCluster etcd = EtcdCluster.start(1); Client client = etcd.client()) {
      EtcdKeyspace view = EtcdKeyspace.of(client, keys);
      h1 = node(etcd, "h1", data);
      Node first = h1;
      Node n = first;
      await(view, "h1 joined", () -> first.lines().contains("node h1 joined " + keys) || !first.process().isAlive());
      assertThat(n.lines()).as(n.text()).contains("node h1 joined " + keys);
      assertThat(n.lines()).as("a node without --underlay says what it means").anyMatch(l -> l.startsWith(
          "pods: node: warning: no --underlay: the VPCs of this node's instances stay on this host"));
      assertThat(health(view, "h1")).contains(NodeStatus.Health.READY);
      // a second node of that name (another host: its own data folder) is refused while h1's lease lives
      Node twin = node(etcd, "h1", Files.createDirectories(run.resolve("twin")));
      assertThat(twin.process().waitFor(2, TimeUnit.MINUTES)).isTrue();
      assertThat(twin.process().exitValue()).as(twin.text()).isEqualTo(1);
      assertThat(twin.text()).contains("a live lease holds that name");
      // a pod put in the cluster runs on h1
      new ClusterPods(view).put(Pod.builder().name("app")
          .unit(Unit.builder().name("web").image("tiny").memoryMib(256).build()).build());
      await(view, "app/web-0 READY on h1", () -> status(client, "app/web-0")
          .map(s -> s.state().equals("READY") && s.node().equals("h1")).orElse(false));
      String domain = status(client, "app/web-0").orElseThrow().domain();
      assertThat(domain).startsWith(prefix + "-");
      assertThat(running()).contains(domain);
      ExecRecord.Result r = exec(client, view, "h1", "web-0", "echo", "hello from web-0");
      assertThat(r.error()).isNull();
      assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("hello from web-0\n");
      // kill -9: the guest keeps running; once its lease expired the node comes back and adopts it (no other node
      // took it: the one node was the leader, so the assignment stayed)
      String uuid = host("virsh", "-q", "-c", "qemu:///system", "domuuid", domain).strip();
      n.process().toHandle().destroyForcibly();
      assertThat(n.process().waitFor(1, TimeUnit.MINUTES)).isTrue();
      await(view, "h1 lost", () -> health(view, "h1").equals(Optional.of(NodeStatus.Health.LOST)));
      assertThat(running()).contains(domain);
      h1 = node(etcd, "h1", data);
      Node back = h1;
      await(view, "h1 back", () -> back.lines().contains("node h1 joined " + keys) || !back.process().isAlive());
      assertThat(back.lines()).as(back.text()).contains("node h1 joined " + keys);
      await(view, "app/web-0 READY on h1 again", () -> status(client, "app/web-0")
          .map(s -> s.state().equals("READY") && s.node().equals("h1")).orElse(false));
      assertThat(host("virsh", "-q", "-c", "qemu:///system", "domuuid", domain).strip()).as("the same domain")
          .isEqualTo(uuid);
      assertThat(exec(client, view, "h1", "web-0", "echo", "adopted").stdout())
          .isEqualTo("adopted\n".getBytes(StandardCharsets.UTF_8));
      n = back;
      // SIGTERM: it leaves (its instance stopped, its lease revoked) and exits 0
      n.process().toHandle().destroy(); // SIGTERM, by pid (Process.destroy() would also close its output)
      assertThat(n.process().waitFor(2, TimeUnit.MINUTES)).isTrue();
      assertThat(n.process().exitValue()).as(n.text()).isZero();
      n.reader().join(10_000);
      assertThat(n.lines()).as(n.text()).contains("node h1 left " + keys);
      assertThat(running()).doesNotContain(domain);
      assertThat(health(view, "h1")).contains(NodeStatus.Health.LOST);
      assertThat(status(client, "app/web-0")).isEmpty();
      new ClusterPods(view).remove("app");
    } finally {
      if (h1 != null) {
        h1.process().destroyForcibly();
        h1.process().waitFor();
      }
      removeLeftovers(errors);
    }
    assertThat(errors).isEmpty();
  }

  /** Starts {@code pods node} for node {@code name} on {@code dataDir}; its output lines are collected as they come. */
  private Node node(EtcdCluster etcd, String name, Path dataDir) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "--data-dir", dataDir.toString(), "node",
        "--etcd", String.join(",", etcd.endpoints()), "--etcd-prefix", keys, "--name", name, "--prefix", prefix,
        "--host-namespace", ns, "--tiny", "--lease", "4", "--cpus", "2", "--memory", "1024"));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(run.toFile()).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    String images = System.getProperty("pods.images.dir");
    if (images != null && !images.isBlank()) {
      pb.environment().put("PODS_IMAGES_DIR", images);
    }
    Process p = pb.start();
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) {
          lines.add(l);
        }
      } catch (IOException e) {
        lines.add("(reading its output failed: " + e + ")");
      }
    }, "node-output-" + name);
    t.setDaemon(true);
    t.start();
    return new Node(p, lines, t);
  }

  /** Waits until {@code done}, woken by every change under the keys (and at least every 250 ms for the output). */
  @SuppressWarnings("try")
  private static void await(EtcdKeyspace view, String what, BooleanSupplier done) throws Exception {
    Semaphore changed = new Semaphore(0);
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    try (AutoCloseable w = new Nodes(view).watch(l -> changed.release())) {
      while (!done.getAsBoolean()) {
        assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(end);
        changed.tryAcquire(250, TimeUnit.MILLISECONDS);
      }
    }
  }

  private static Optional<NodeStatus.Health> health(EtcdKeyspace view, String name) {
    return new Nodes(view).list().stream().filter(n -> n.name().equals(name)).map(NodeStatus::health).findFirst();
  }

  private Optional<StatusRecord> status(Client client, String id) {
    String key = keys + "/cluster/status/" + id;
    List<KeyValue> kvs = get(client, key);
    return kvs.isEmpty() ? Optional.empty()
        : Optional.of(ClusterJson.read(kvs.get(0).getValue().getBytes(), StatusRecord.class, key));
  }

  private static List<KeyValue> get(Client client, String key) {
    try {
      return client.getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS)
          .getKvs();
    } catch (Exception e) {
      throw new IllegalStateException("reading " + key, e);
    }
  }

  /** An exec request for {@code instance} of pod app put to {@code node}; its answer. */
  private ExecRecord.Result exec(Client client, EtcdKeyspace view, String node, String instance, String... argv)
      throws Exception {
    String id = UUID.randomUUID().toString();
    long lease = client.getLeaseClient().grant(120).get(10, TimeUnit.SECONDS).getID();
    client.getKVClient().put(ByteSequence.from(keys + "/cluster/exec/" + node + "/" + id, StandardCharsets.UTF_8),
        ByteSequence.from(ClusterJson.write(new ExecRecord("app", instance, List.of(argv), null, 30_000))),
        PutOption.builder().withLeaseId(lease).build()).get(10, TimeUnit.SECONDS);
    String key = keys + "/cluster/exec-result/" + id;
    await(view, "the answer of exec " + id, () -> !get(client, key).isEmpty());
    return ClusterJson.read(get(client, key).get(0).getValue().getBytes(), ExecRecord.Result.class, key);
  }

  /** The running domains of this run. */
  private List<String> running() throws IOException, InterruptedException {
    return host("virsh", "-q", "-c", "qemu:///system", "list", "--name").lines()
        .filter(d -> d.startsWith(prefix + "-")).toList();
  }

  private static String host(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  private static void tryHost(List<Throwable> errors, String... cmd) {
    try {
      host(cmd);
    } catch (IOException | InterruptedException e) {
      errors.add(e);
    }
  }

  /** Removes domains, namespaces, links and nft tables named with this run's prefix, and its run folder. */
  private void removeLeftovers(List<Throwable> errors) throws IOException, InterruptedException {
    for (String dom : host("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name").lines()
        .filter(d -> d.startsWith(prefix + "-")).toList()) {
      tryHost(errors, "virsh", "-q", "-c", "qemu:///system", "destroy", dom);
      tryHost(errors, "virsh", "-q", "-c", "qemu:///system", "undefine", dom);
    }
    for (String n : host("ip", "netns", "list").lines().map(l -> l.split(" ")[0]).filter(n -> n.startsWith(prefix))
        .toList()) {
      tryHost(errors, "ip", "netns", "del", n);
    }
    for (String l : host("ip", "-o", "link", "show").lines().map(l -> l.split(": ")[1].split("@")[0])
        .filter(l -> l.startsWith(prefix)).toList()) {
      tryHost(errors, "ip", "link", "del", l);
    }
    for (String t : host("nft", "list", "tables").lines().map(l -> l.split(" ")).filter(f -> f.length == 3
        && f[2].startsWith(prefix)).map(f -> f[1] + " " + f[2]).toList()) {
      String[] f = t.split(" ");
      tryHost(errors, "nft", "delete", "table", f[0], f[1]);
    }
    if (Files.exists(run)) {
      try (Stream<Path> s = Files.walk(run)) {
        for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(x);
        }
      }
    }
  }

  private static void assumeCapable() throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"), "needs Linux");
    assumeTrue(Files.readAllLines(Path.of("/proc/self/status")).stream()
        .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0")), "needs root");
    assumeTrue(EtcdCluster.available(), "etcd is not installed");
    for (String c : List.of("ip", "nft", "dnsmasq", "genisoimage", "virsh")) {
      assumeTrue(Stream.of(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin").split(":"))
          .anyMatch(x -> Files.isExecutable(Path.of(x, c))), c + " is not installed");
    }
  }
}
