package dev.pods.etcd;

import io.etcd.jetcd.Client;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Real etcd members ({@code /usr/bin/etcd} from Debian's {@code etcd-server}) on loopback, for tests and
 * benchmarks: one member, or several forming one cluster, each with test-chosen free ports and its own data folder
 * under {@code /tmp/pods-etcd-test/RUN-NAME}. {@link #close()} ends every member by pid and removes the folders;
 * {@link #start} first reaps what runs of JVMs that no longer live left behind (their members, found by the data
 * folder on their command line, and their folders), never anything of a live run. Not thread-safe; needs no root.
 * {@code PODS_ETCD_LOG=1} copies the members' logs to standard error.
 */
public final class EtcdCluster implements AutoCloseable {
  static final Path ETCD = Path.of("/usr/bin/etcd");
  static final Path ROOT = Path.of("/tmp/pods-etcd-test");
  private static final String RUN = ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime());
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final List<Member> members;

  /** One member: its name, ports, data folder and process. */
  public record Member(String name, int clientPort, int peerPort, Path dataDir, Process process) {
    /** {@code http://127.0.0.1:PORT}, where the member serves clients. */
    public String clientUrl() {
      return "http://127.0.0.1:" + clientPort;
    }
  }

  private EtcdCluster(List<Member> members) {
    this.members = members;
  }

  /** Whether the etcd binary is installed (scripts/setup-host.sh installs it). */
  public static boolean available() {
    return Files.isExecutable(ETCD);
  }

  /** Starts {@code size} members forming one new cluster and returns once each serves clients. */
  public static EtcdCluster start(int size) {
    if (!available()) {
      throw new IllegalStateException(ETCD + " is not installed: scripts/setup-host.sh installs etcd-server");
    }
    reapLeftovers();
    String tag = "c" + Long.toHexString(System.nanoTime());
    List<String> names = new ArrayList<>();
    List<int[]> ports = new ArrayList<>();
    StringBuilder initial = new StringBuilder();
    for (int i = 0; i < size; i++) {
      String name = tag + "-m" + i;
      int[] p = {freePort(), freePort()};
      names.add(name);
      ports.add(p);
      initial.append(i == 0 ? "" : ",").append(name).append("=http://127.0.0.1:").append(p[1]);
    }
    List<Member> started = new ArrayList<>();
    List<CompletableFuture<Void>> ready = new ArrayList<>();
    try {
      for (int i = 0; i < size; i++) {
        Path dir = ROOT.resolve(RUN + "-" + names.get(i));
        Files.createDirectories(dir);
        Files.writeString(dir.getParent().resolve(RUN + ".owner"), Long.toString(ProcessHandle.current().pid()));
        String client = "http://127.0.0.1:" + ports.get(i)[0];
        String peer = "http://127.0.0.1:" + ports.get(i)[1];
        ProcessBuilder b = new ProcessBuilder(ETCD.toString(), "--name", names.get(i), "--data-dir", dir.toString(),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", initial.toString(), "--initial-cluster-state", "new",
            "--initial-cluster-token", tag)
            .redirectErrorStream(true);
        b.environment().keySet().removeIf(k -> k.startsWith("ETCD")); // etcd reads ETCD_* as flags
        Process p = b.start();
        started.add(new Member(names.get(i), ports.get(i)[0], ports.get(i)[1], dir, p));
        ready.add(readyWhenLogged(p));
      }
      CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new))
          .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      new EtcdCluster(started).close();
      throw new IllegalStateException("etcd cluster of " + size + " did not start within " + START_TIMEOUT, e);
    }
    EtcdCluster c = new EtcdCluster(List.copyOf(started));
    Runtime.getRuntime().addShutdownHook(new Thread(c::close));
    return c;
  }

  /** Completes when the member logs that it serves clients; its log is drained meanwhile and after. */
  private static CompletableFuture<Void> readyWhenLogged(Process p) {
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (System.getenv("PODS_ETCD_LOG") != null) {
            System.err.println("etcd " + p.pid() + ": " + line);
          }
          if (line.contains("ready to serve client requests")) {
            ready.complete(null);
          }
        }
        ready.completeExceptionally(new IllegalStateException("etcd exited with " + p.waitFor()));
      } catch (IOException | InterruptedException e) {
        ready.completeExceptionally(e);
      }
    }, "etcd-log-" + p.pid());
    t.setDaemon(true);
    t.start();
    return ready;
  }

  /** The members, in start order (a killed one stays listed). */
  public List<Member> members() {
    return members;
  }

  /** Every member's client URL. */
  public String[] endpoints() {
    return members.stream().map(Member::clientUrl).toArray(String[]::new);
  }

  /** A new client connection to every member; the caller closes it. */
  public Client client() {
    return Client.builder().endpoints(endpoints()).build();
  }

  /** Kills member {@code i} with SIGKILL (by pid) and waits for it to be gone. */
  public void kill(int i) throws InterruptedException {
    Process p = members.get(i).process();
    p.destroyForcibly();
    p.waitFor();
  }

  /** Ends every member by pid (SIGKILL: a member that lost quorum ignores SIGTERM) and removes its data. */
  @Override
  public void close() {
    for (Member m : members) {
      m.process().destroyForcibly();
    }
    for (Member m : members) {
      try {
        m.process().waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      deleteTree(m.dataDir());
    }
    try (Stream<Path> s = Files.list(ROOT)) {
      if (s.noneMatch(p -> p.getFileName().toString().startsWith(RUN + "-"))) {
        Files.deleteIfExists(ROOT.resolve(RUN + ".owner"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("removing " + RUN + ".owner under " + ROOT, e);
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("finding a free loopback port", e);
    }
  }

  /**
   * Removes members and folders of runs whose JVM no longer lives: the run named PID-x in {@code PID-x.owner}
   * is dead when no process has that pid with that start; each of its members is ended only if its command line
   * names the run's data folder.
   */
  private static void reapLeftovers() {
    if (!Files.isDirectory(ROOT)) {
      return;
    }
    try (Stream<Path> s = Files.list(ROOT)) {
      for (Path owner : s.filter(p -> p.getFileName().toString().endsWith(".owner")).toList()) {
        String run = owner.getFileName().toString().replace(".owner", "");
        long pid = Long.parseLong(Files.readString(owner).trim());
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        ProcessHandle.allProcesses()
            .filter(h -> h.info().commandLine().map(c -> c.startsWith(ETCD.toString())
                && c.contains(ROOT.resolve(run).toString())).orElse(false))
            .forEach(ProcessHandle::destroyForcibly);
        try (Stream<Path> dirs = Files.list(ROOT)) {
          dirs.filter(d -> d.getFileName().toString().startsWith(run + "-")).forEach(EtcdCluster::deleteTree);
        }
        Files.deleteIfExists(owner);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reaping leftovers under " + ROOT, e);
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("removing " + dir, e);
    }
  }

  /** The member list, for messages. */
  @Override
  public String toString() {
    return "etcd " + String.join(",", endpoints());
  }
}
