package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.net.LinuxNetworkDriver;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Host helpers shared by the system tests of this module: whether the host can run VMs, bounded commands,
 * teardown steps that collect failures, removing a host namespace, reaping what crashed runs left, and the checks
 * that a test left nothing behind (namespaces, root links, processes, files). Stateless and thread-safe; every
 * command is bounded to a minute ({@link #reapDeadRuns} runs several).
 */
final class HostTools {
  private HostTools() {}

  /** One teardown step; a failure is collected, not thrown, so later steps still run. */
  interface Step {
    void run() throws Exception;
  }

  /** Runs a step, adding its failure to {@code errors}. */
  static void step(List<Throwable> errors, Step s) {
    try {
      s.run();
    } catch (Exception | AssertionError e) {
      errors.add(e);
    }
  }

  /** A finished command: its exit code and its stdout and stderr together. */
  record Result(int code, String out) {
    boolean ok() {
      return code == 0;
    }
  }

  /** Runs a command (bounded to 60 s) with no input, stdout and stderr together. */
  static Result run(String... cmd) throws IOException, InterruptedException {
    Process pr =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    byte[] out;
    try (var in = pr.getInputStream()) {
      out = in.readAllBytes();
    }
    if (!pr.waitFor(60, TimeUnit.SECONDS)) {
      pr.destroyForcibly();
      throw new IOException("timed out: " + String.join(" ", cmd));
    }
    return new Result(pr.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Asserts that a command succeeded. */
  static Result check(Result r) {
    assertThat(r.ok()).as("command failed: %s", r.out()).isTrue();
    return r;
  }

  /** Whether a command is on the PATH. */
  static boolean onPath(String cmd) {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(d, cmd))) {
        return true;
      }
    }
    return false;
  }

  /** Named network namespaces whose names start with {@code prefix}. */
  static List<String> namespaces(String prefix) throws IOException {
    List<String> out = new ArrayList<>();
    Path runDir = Path.of("/run/netns");
    if (!Files.isDirectory(runDir)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(runDir, prefix + "*")) {
      ds.forEach(x -> out.add(x.getFileName().toString()));
    }
    return out;
  }

  /** Links of the root namespace whose names start with {@code prefix}. */
  static List<String> rootLinks(String prefix) throws IOException, InterruptedException {
    return run("ip", "-o", "link", "show").out().lines().map(l -> l.split(":\\s*")[1].split("@")[0])
        .filter(n -> n.startsWith(prefix)).toList();
  }

  /** Live processes whose command line mentions {@code text}. */
  static List<String> processesMentioning(String text) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(Path.of("/proc"))) {
      for (Path d : s.filter(x -> x.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        try {
          String cmd = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
          if (cmd.contains(text)) {
            out.add(d.getFileName() + ": " + cmd);
          }
        } catch (IOException e) {
          // the process ended while we looked
        }
      }
    }
    return out;
  }

  /**
   * A run folder of a test whose JVM is gone.
   *
   * @param dir the run's folder, named by its prefix
   * @param pid the pid the run recorded in {@code dir/pid}, or -1 when it died before writing it
   */
  record DeadRun(Path dir, long pid) {
    String prefix() {
      return dir.getFileName().toString();
    }
  }

  /**
   * The run folders under {@code root} matching {@code glob} whose recorded JVM no longer lives: the leftovers
   * of crashed runs, to reap. Folders of live runs (parallel test JVMs) are left out.
   */
  static List<DeadRun> deadRuns(Path root, String glob) throws IOException {
    List<DeadRun> out = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (DirectoryStream<Path> runs = Files.newDirectoryStream(root, glob)) {
      for (Path r : runs) {
        long pid = -1;
        try {
          pid = Long.parseLong(Files.readString(r.resolve("pid")).strip());
        } catch (IOException | NumberFormatException e) {
          // a run that died while starting
        }
        if (pid <= 0 || !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          out.add(new DeadRun(r, pid));
        }
      }
    }
    return out;
  }

  /** Deletes a folder and everything in it; nothing when it does not exist. */
  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }

  /**
   * Why this host cannot run the VM system tests (Linux, root, {@code ip nft dnsmasq genisoimage virsh} on the
   * PATH, a reachable libvirtd), or null when it can.
   */
  static @org.jspecify.annotations.Nullable String missingVmHost() throws Exception {
    if (!System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux")) {
      return "needs Linux";
    }
    if (Files.readAllLines(Path.of("/proc/self/status")).stream()
        .noneMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0"))) {
      return "needs root";
    }
    for (String c : List.of("ip", "nft", "dnsmasq", "genisoimage", "virsh")) {
      if (!onPath(c)) {
        return c + " is not installed";
      }
    }
    if (!run("virsh", "-c", LibvirtHypervisor.configuredUri(), "version").ok()) {
      return "libvirtd is not reachable";
    }
    return null;
  }

  /** JUnit assumption that this host can run the VM system tests, with {@link #missingVmHost()}'s reason. */
  static void assumeVmHost() throws Exception {
    String missing = missingVmHost();
    assumeTrue(missing == null, missing);
  }

  /**
   * Removes a host namespace of the calling test: its links other than {@code lo} (the VPC bridge, when a crash
   * left it), then itself; nothing when it does not exist. Throws when {@code ip netns del} fails.
   */
  static void removeNamespace(String ns) throws Exception {
    if (!Files.exists(Path.of("/run/netns", ns))) {
      return;
    }
    for (String l : run("ip", "-n", ns, "-o", "link", "show").out().lines().toList()) {
      String name = l.split(":\\s*")[1].split("@")[0];
      if (!name.equals("lo")) {
        run("ip", "-n", ns, "link", "del", name);
      }
    }
    Result r = run("ip", "netns", "del", ns);
    if (!r.ok()) {
      throw new IOException("ip netns del " + ns + ": " + r.out());
    }
  }

  /**
   * Reaps the leftovers of runs whose JVM died ({@link #deadRuns} of {@code runRoot}, folders
   * {@code letters + 4 characters}): their networks (through the driver, owner
   * {@code ownerPrefix<pid>-<prefix>}), the namespaces and root links named by their prefix, and their folders.
   * Each reaped run is logged as {@code "<label>: reaping leftovers of crashed run <prefix>"}. Their libvirt
   * domains are left to {@code Reaper}.
   */
  static void reapDeadRuns(Path runRoot, String letters, String ownerPrefix, String label) throws Exception {
    for (DeadRun dead : deadRuns(runRoot, letters + "????")) {
      Path r = dead.dir();
      String p = dead.prefix();
      System.out.println(label + ": reaping leftovers of crashed run " + p);
      if (Files.isDirectory(r.resolve("net"))) {
        try (LinuxNetworkDriver d = LinuxNetworkDriver.builder().stateDir(r.resolve("net")).prefix(p).build()) {
          d.reap(ownerPrefix + dead.pid() + "-" + p);
        }
      }
      for (String ns : namespaces(p)) {
        removeNamespace(ns);
      }
      for (String link : rootLinks(p)) {
        run("ip", "link", "del", link);
      }
      deleteTree(r);
    }
  }
}
