package dev.pods.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One {@code pods node} of a {@link SimulatedHosts} run, as a child JVM ({@code java -cp <this test class path>
 * dev.pods.cli.Main node ...}) on the host's namespace, underlay, uplink and data folder, with the host's name
 * prefix, the tiny guest for every image and the given lease. Its standard output and error go to
 * {@code <data>/node-<n>.log} (one file per start, so a restarted node's log does not overwrite the lost one's).
 *
 * <p>{@link #start} returns once the node printed {@code node NAME joined PREFIX}. {@link #kill()} is a node loss
 * (SIGKILL by pid); {@link #stop()} a clean leave (SIGTERM, then exit status 0 expected). Not thread-safe.
 */
final class NodeProcess implements AutoCloseable {
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(90);

  final SimulatedHosts.Host host;
  private final Process process;
  private final Path log;

  private NodeProcess(SimulatedHosts.Host host, Process process, Path log) {
    this.host = host;
    this.process = process;
    this.log = log;
  }

  /** The command line of a node of {@code host} under etcd prefix {@code prefix}, with a lease of {@code lease}. */
  static List<String> command(SimulatedHosts hosts, SimulatedHosts.Host host, String prefix, Duration lease) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-cp", System.getProperty("java.class.path"),
        "dev.pods.cli.Main", "node",
        "--etcd", hosts.etcdUrls(), "--etcd-prefix", prefix,
        "--name", host.name(), "--address", host.underlay(),
        "--cpus", "2", "--memory", "1024", "--lease", Long.toString(lease.toSeconds()),
        "--data-dir", host.dataDir().toString(), "--prefix", host.namePrefix(),
        "--host-namespace", host.namespace(), "--underlay", host.underlay(),
        "--uplink", SimulatedHosts.UPLINK, "--public-range", host.publicRange(),
        "--public-gateway", host.publicGateway(),
        "--tiny"));
    return cmd;
  }

  /**
   * Starts the node of {@code host} and waits until it joined (its line on standard output), at most 90 s.
   *
   * @throws IllegalStateException when it exits or does not join in time (it is killed then), with its log's end
   */
  static NodeProcess start(SimulatedHosts hosts, SimulatedHosts.Host host, String prefix, Duration lease)
      throws IOException, InterruptedException {
    int n = 1;
    while (Files.exists(host.dataDir().resolve("node-" + n + ".log"))) {
      n++;
    }
    Path log = host.dataDir().resolve("node-" + n + ".log");
    Process p = new ProcessBuilder(command(hosts, host, prefix, lease)).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    String joined = "node " + host.name() + " joined ";
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
          PrintWriter w = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8,
              StandardOpenOption.CREATE, StandardOpenOption.APPEND), true)) {
        String line;
        while ((line = r.readLine()) != null) {
          w.println(line);
          if (line.startsWith(joined)) {
            ready.complete(null);
          }
        }
        ready.completeExceptionally(new IllegalStateException("exited with " + p.waitFor()));
      } catch (IOException | InterruptedException e) {
        ready.completeExceptionally(e);
      }
    }, "cluster-it-node-" + host.name());
    t.setDaemon(true);
    t.start();
    NodeProcess node = new NodeProcess(host, p, log);
    try {
      ready.get(JOIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
      node.kill();
      throw new IllegalStateException("node " + host.name() + " did not join within " + JOIN_TIMEOUT.toSeconds()
          + " s: " + e.getMessage() + "; its log ends:\n" + node.logTail(40), e);
    }
    return node;
  }

  /** The node JVM's pid. */
  long pid() {
    return process.pid();
  }

  /** Whether the node JVM runs. */
  boolean alive() {
    return process.isAlive();
  }

  /** A node loss: SIGKILL of the node JVM (by pid), waiting until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /**
   * A clean leave: SIGTERM, then waits (at most {@code timeout}) for the node to stop its instances and exit.
   *
   * @return the exit status, or -1 when it did not exit in time (it is killed then)
   */
  int stop(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      kill();
      return -1;
    }
    return process.exitValue();
  }

  /** The last {@code lines} lines of this start's log. */
  String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** Kills the node if it still runs (a test that failed midway). */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The node, for messages. */
  @Override
  public String toString() {
    return "node " + host.name() + " (pid " + process.pid() + ")";
  }
}
