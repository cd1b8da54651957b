package dev.pods.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.ImdsBinding;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.InstanceView;
import dev.pods.imds.PeerInstance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * One test's world: a real {@link ImdsServer} on 127.0.0.1 and the real agent script run under a {@link
 * GuestShell}, in a per-run temporary directory. Every process the agent starts carries {@code PODS_TEST_RUN=id}
 * in its environment, which is how {@link #close()} finds and ends exactly the processes this test started (by
 * pid) and checks that none is left.
 */
final class AgentHarness implements AutoCloseable {
  final GuestShell shell;
  final String runId = "pods-agent-test-" + UUID.randomUUID().toString().substring(0, 8);
  final Path root;
  final Path stateDir;
  final Path runDir;
  final Path workDir;
  final Path agent;
  final String path;
  final String token = ImdsServer.newToken();
  final List<AgentEvent> events = new CopyOnWriteArrayList<>();
  final ImdsServer imds;
  private final List<Process> agents = new ArrayList<>();
  private int starts;
  /** The metadata service URL the agent is given (a proxy in front of {@link #imds} in some tests). */
  java.net.URI url;
  /** A command the agent runs under (e.g. strace), empty by default. */
  List<String> prefix = List.of();

  AgentHarness(GuestShell shell, InstanceView view) throws IOException, InterruptedException {
    this.shell = shell;
    this.root = Files.createTempDirectory(runId + "-");
    this.stateDir = Files.createDirectories(root.resolve("state"));
    this.runDir = root.resolve("run");
    this.workDir = Files.createDirectories(root.resolve("work"));
    this.agent = AgentScript.writeTo(root.resolve("pods-agent.sh"));
    this.path = shell.preparePath(root.resolve("tools"));
    this.imds =
        ImdsServer.builder().binding(ImdsBinding.loopback()).view(view).token(token).listener(events::add).start();
    this.url = imds.baseUri();
  }

  static InstanceView view(Unit unit, String version) {
    return InstanceView.builder()
        .pod("shop")
        .unit(unit.name())
        .spec(unit, version)
        .privateIps(List.of("10.0.0.2"))
        .unitInstances(unit.name(), List.of(PeerInstance.healthy(unit.name() + "-0", 0, "10.0.0.2")))
        .unitInstances(
            "db",
            List.of(
                PeerInstance.healthy("db-0", 0, "10.0.1.1"),
                new PeerInstance("db-1", 1, List.of("10.0.1.2"), List.of("203.0.113.7"), false)))
        .secret("db-creds", java.util.Map.of("password", "s3cr3t pass"))
        .build();
  }

  AgentConfig config(String tokenToUse) {
    return new AgentConfig(
        url, tokenToUse, stateDir.toString(), runDir.toString(), runDir.resolve("bin").toString(),
        workDir.toString(), shell.shellSetting(), "python3", shell.http(), Duration.ofSeconds(5));
  }

  /** Starts an agent process (stdout and stderr to a log file) with the right token. */
  Process start() throws IOException {
    return start(token);
  }

  Process start(String tokenToUse) throws IOException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(shell.command());
    cmd.add(agent.toString());
    cmd.add("run");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().clear();
    pb.environment().put("PATH", path);
    pb.environment().put("HOME", root.toString());
    pb.environment().put("TMPDIR", root.toString());
    pb.environment().put("LC_ALL", "C.UTF-8");
    pb.environment().put("PODS_TEST_RUN", runId);
    pb.environment().put("PODS_AGENT_CONF", root.resolve("absent.conf").toString());
    AgentConfig c = config(tokenToUse);
    pb.environment().putAll(c.environment());
    Path log = root.resolve("agent-" + (++starts) + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    agents.add(p);
    return p;
  }

  /** Simulates a reboot: stops the agents and clears the per-boot (tmpfs) run directory. */
  void reboot() throws IOException, InterruptedException {
    stopAgents();
    deleteTree(runDir);
  }

  /** The pid of the agent's main process (from its lock), or -1. */
  long agentPid() {
    try {
      return Long.parseLong(Files.readString(runDir.resolve("lock/pid")).trim());
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  String logs() throws IOException {
    StringBuilder b = new StringBuilder();
    try (Stream<Path> s = Files.list(root)) {
      for (Path p : s.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList()) {
        b.append("== ").append(p.getFileName()).append('\n').append(Files.readString(p, StandardCharsets.UTF_8));
      }
    }
    return b.toString();
  }

  <T extends AgentEvent> List<T> events(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends AgentEvent> List<T> events(Class<T> type, Predicate<T> p) {
    return events(type).stream().filter(p).toList();
  }

  /** Waits until the predicate holds, at most {@code timeout}; returns whether it did. */
  boolean await(Duration timeout, java.util.function.BooleanSupplier p) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (p.getAsBoolean()) {
        return true;
      }
      Thread.sleep(10);
    }
    return p.getAsBoolean();
  }

  /** Waits for a run of the given trigger to finish and returns it. */
  AgentEvent.RunFinished awaitRun(dev.pods.Trigger trigger, int nth, Duration timeout) throws Exception {
    boolean ok = await(timeout, () -> events(AgentEvent.RunFinished.class, r -> r.trigger() == trigger).size() >= nth);
    assertThat(ok).as("run %s #%s finished; events %s; logs:\n%s", trigger, nth, events, logs()).isTrue();
    return events(AgentEvent.RunFinished.class, r -> r.trigger() == trigger).get(nth - 1);
  }

  List<String> stdout(String run) {
    return events(AgentEvent.OutputLine.class, l -> l.run().equals(run) && l.stream() == dev.pods.OutputStream.STDOUT)
        .stream()
        .map(AgentEvent.OutputLine::line)
        .toList();
  }

  List<String> output(String run, int block) {
    return events(AgentEvent.OutputLine.class, l -> l.run().equals(run) && l.block() == block).stream()
        .map(AgentEvent.OutputLine::line)
        .toList();
  }

  /** The pids of live processes whose environment carries this run's marker. */
  List<Long> markedPids() {
    List<Long> out = new ArrayList<>();
    byte[] marker = ("PODS_TEST_RUN=" + runId).getBytes(StandardCharsets.UTF_8);
    try (Stream<Path> s = Files.list(Path.of("/proc"))) {
      for (Path p : s.filter(d -> d.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        try {
          byte[] env = Files.readAllBytes(p.resolve("environ"));
          if (indexOf(env, marker) >= 0) {
            out.add(Long.parseLong(p.getFileName().toString()));
          }
        } catch (IOException e) {
          // gone, or not ours to read
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      if (i > 0 && hay[i - 1] != 0) {
        continue;
      }
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      if (i + needle.length == hay.length || hay[i + needle.length] == 0) {
        return i;
      }
    }
    return -1;
  }

  /** Stops every agent: SIGTERM, then waits for all marked processes to end (SIGKILL by pid after 5 s). */
  void stopAgents() throws InterruptedException {
    for (Process p : agents) {
      p.destroy();
    }
    for (Process p : agents) {
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
    agents.clear();
    boolean gone = await(Duration.ofSeconds(5), () -> markedPids().isEmpty());
    if (!gone) {
      for (long pid : markedPids()) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
      await(Duration.ofSeconds(5), () -> markedPids().isEmpty());
    }
    assertThat(gone).as("every process of the agent ended after SIGTERM: %s", markedPids()).isTrue();
  }

  @Override
  public void close() throws IOException {
    try {
      stopAgents();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping the agents", e);
    } finally {
      imds.close();
      if (System.getenv("PODS_TEST_KEEP") == null) {
        deleteTree(root);
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
