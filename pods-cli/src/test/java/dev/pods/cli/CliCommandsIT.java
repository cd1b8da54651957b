package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The commands that change a running pod, on real tiny guests, each {@code pods} command a process of its own as a
 * user runs it: {@code pods up -d} (returns once ready), {@code plan}, {@code apply} of a live change (without a
 * terminal: only with {@code --yes}), {@code scale}, {@code restart}, then {@code kill -9} of the up process and
 * {@code pods up -d} again with a changed template (the pod is adopted: same domain, the guest's file is still
 * there, the change applied live), an {@code apply} of a recreate change on the adopted pod (a new domain with the
 * same address) and {@code pods down}. One up serves every case.
 *
 * <p>Everything the run creates is named with its prefix {@code cx????}: the data folder
 * {@code /var/lib/pods/cli-it/<prefix>}, the host namespace {@code <prefix>x-host}, domains, namespaces and links of
 * the pod ({@code <prefix>-...}); removed at the end, and runs that died are reaped by the next. Traffic stays in
 * the run's namespaces.
 */
@Tag("system")
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class CliCommandsIT {
  private static final Path RUNS = Path.of("/var/lib/pods/cli-it");
  private static final Pattern PID = Pattern.compile("runs in the background \\(pid (\\d+)\\)");

  private static final String APP = String.join("\n",
      "# App", "",
      "```yaml", "name: app", "kind: instance", "image: tiny", "count: 1", "memory: 256", "```", "",
      "```sh", "echo kept > /var/kept", "```", "",
      "```sh {phase=reload}", "echo v1 > /var/reloaded", "```", "");

  private final String prefix = String.format(Locale.ROOT, "cx%04x", ThreadLocalRandom.current().nextInt(0x10000));
  private final Path run = RUNS.resolve(prefix);
  private final Path data = run.resolve("data");
  private final String ns = prefix + "x-host";
  private final List<Long> upPids = new ArrayList<>();

  /** A finished pods command: its exit status and its stdout and stderr together. */
  private record Result(int code, String out) {}

  @Test
  void upDetachedPlanApplyScaleRestartThenAdoptionAfterKill9AndARecreateApply() throws Exception {
    assumeCapable();
    reapDeadRuns();
    Files.createDirectories(data);
    Files.writeString(run.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    Path tpl = Files.createDirectories(run.resolve("lab"));
    Path v1 = Files.writeString(tpl.resolve("app.md"), APP);
    Path live = Files.writeString(run.resolve("app-live.md"), APP.replace("echo v1", "echo v2"));
    Path adopted = Files.writeString(run.resolve("app-adopted.md"), APP.replace("echo v1", "echo v3"));
    Path recreate = Files.writeString(run.resolve("app-recreate.md"),
        APP.replace("echo v1", "echo v3").replace("memory: 256", "memory: 320"));
    host("ip", "netns", "add", ns);
    try {
      // up -d returns once the pod is ready, its up process in the background
      Result up = pods("up", "-d", "--tiny", "--prefix", prefix, "--host-namespace", ns, v1.toString());
      assertThat(up.code()).as(up.out()).isZero();
      assertThat(up.out()).contains("lab is ready");
      long pid1 = upPid(up);
      String domain = prefix + "-lab-app-0";
      String uuid = host("virsh", "-q", "-c", "qemu:///system", "domuuid", domain).strip();
      assertThat(pods("exec", "lab", "app-0", "--", "cat", "/var/kept").out()).isEqualTo("kept\n");
      String address = privateAddress("app-0");

      // plan shows a live change and changes nothing
      Result plan = pods("plan", "lab", live.toString());
      assertThat(plan.code()).as(plan.out()).isZero();
      assertThat(plan.out()).contains("~ scripts.reload[0]  [live]").containsPattern("app-0 +live");
      assertThat(pods("exec", "lab", "app-0", "--", "cat", "/var/reloaded").out()).isEqualTo("v1\n");

      // no terminal, no --yes: refused, nothing applied
      Result refused = pods("apply", "lab", live.toString());
      assertThat(refused.code()).as(refused.out()).isEqualTo(2);
      assertThat(refused.out()).contains("no terminal to ask on: nothing was applied; add --yes");
      assertThat(pods("exec", "lab", "app-0", "--", "cat", "/var/reloaded").out()).isEqualTo("v1\n");

      // a live change: the same domain runs the new reload block; the guest keeps its file
      Result applied = pods("apply", "--yes", "lab", live.toString());
      assertThat(applied.code()).as(applied.out()).isZero();
      assertThat(applied.out()).contains("applied; pod lab is ready");
      assertThat(pods("exec", "lab", "app-0", "--", "cat", "/var/reloaded").out()).isEqualTo("v2\n");
      assertThat(pods("exec", "lab", "app-0", "--", "cat", "/var/kept").out()).isEqualTo("kept\n");
      assertThat(host("virsh", "-q", "-c", "qemu:///system", "domuuid", domain).strip()).isEqualTo(uuid);

      // scale and restart
      Result scaled = pods("scale", "lab", "app", "2");
      assertThat(scaled.code()).as(scaled.out()).isZero();
      assertThat(scaled.out()).contains("app-1  state initializing -> ready", "scaled app to 2; pod lab is ready");
      Result restarted = pods("restart", "lab", "app-1");
      assertThat(restarted.code()).as(restarted.out()).isZero();
      assertThat(restarted.out()).contains("app-1  state ready -> booting", "restarted app-1; pod lab is ready");
      assertThat(pods("ps", "lab").out()).containsPattern("lab +app-0 +ready").containsPattern("lab +app-1 +ready");

      // kill -9 of the up process: the guests keep running; up again with a changed template adopts them
      ProcessHandle killed = ProcessHandle.of(pid1).orElseThrow();
      host("kill", "-9", Long.toString(pid1));
      killed.onExit().get(1, TimeUnit.MINUTES);
      Result again = pods("up", "-d", "--tiny", "--prefix", prefix, "--host-namespace", ns, "--name", "lab",
          adopted.toString());
      assertThat(again.code()).as(again.out()).isZero();
      upPid(again);
      String upOut = Files.readString(Detached.outFile(data, "lab"));
      assertThat(upOut).contains("adopted pod lab from an earlier pods up that ended without its teardown")
          .containsPattern("app-0 +live").containsPattern("app-1 +remove");
      assertThat(host("virsh", "-q", "-c", "qemu:///system", "domuuid", domain).strip()).isEqualTo(uuid);
      assertThat(pods("exec", "lab", "app-0", "--", "cat", "/var/kept").out()).isEqualTo("kept\n");
      assertThat(pods("exec", "lab", "app-0", "--", "cat", "/var/reloaded").out()).isEqualTo("v3\n");
      assertThat(pods("ps", "lab").out()).doesNotContain("app-1");

      // a recreate change on the adopted pod: a new domain with the same address, its initial phase run anew
      Result recreated = pods("apply", "lab", recreate.toString(), "--yes");
      assertThat(recreated.code()).as(recreated.out()).isZero();
      assertThat(recreated.out()).containsPattern("app-0 +recreate +\\(memory 256 -> 320 MiB\\)")
          .contains("app-0  state initializing -> ready", "applied; pod lab is ready");
      assertThat(host("virsh", "-q", "-c", "qemu:///system", "domuuid", domain).strip()).isNotEqualTo(uuid);
      assertThat(host("virsh", "-c", "qemu:///system", "dumpxml", domain)).contains("<memory unit='KiB'>327680<");
      assertThat(privateAddress("app-0")).isEqualTo(address);

      Result down = pods("down", "lab");
      assertThat(down.code()).as(down.out()).isZero();
      for (long pid : upPids) {
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
      }
      assertThat(host("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name")).doesNotContain(prefix);
    } finally {
      cleanUp();
    }
  }

  private long upPid(Result r) {
    Matcher m = PID.matcher(r.out());
    assertThat(m.find()).as(r.out()).isTrue();
    long pid = Long.parseLong(m.group(1));
    upPids.add(pid);
    return pid;
  }

  private String privateAddress(String instance) throws Exception {
    for (String line : pods("ps", "lab").out().lines().toList()) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 3 && f[1].equals(instance)) {
        return f[3];
      }
    }
    throw new AssertionError("no " + instance + " in pods ps");
  }

  /** Runs {@code pods --data-dir <data> ARGS...} as a process of its own, without a terminal. */
  private Result pods(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "--data-dir", data.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(run.toFile()).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    String images = System.getProperty("pods.images.dir");
    if (images != null && !images.isBlank()) {
      pb.environment().put("PODS_IMAGES_DIR", images);
    }
    return finish(pb.start(), String.join(" ", args), 10);
  }

  private static String host(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    Result r = finish(p, String.join(" ", cmd), 1);
    if (r.code() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + r.out());
    }
    return r.out();
  }

  private static Result finish(Process p, String what, int minutes) throws IOException, InterruptedException {
    byte[] out;
    try (var in = p.getInputStream()) {
      out = in.readAllBytes(); // until the process (and whatever holds its output) ends
    }
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + what);
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Ends this run's up processes (pods down, else by pid) and removes whatever is left of its prefix. */
  private void cleanUp() throws Exception {
    List<Throwable> errors = new ArrayList<>();
    try {
      pods("down", "lab");
    } catch (IOException e) {
      errors.add(e);
    }
    for (long pid : upPids) {
      ProcessHandle.of(pid).ifPresent(h -> {
        h.destroyForcibly();
        h.onExit().join();
      });
    }
    removeLeftovers(prefix, errors);
    if (!errors.isEmpty()) {
      AssertionError e = new AssertionError("cleaning up " + prefix + " failed");
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  /** Removes domains, namespaces, links and nft tables named with {@code p}, and its run folder. */
  private static void removeLeftovers(String p, List<Throwable> errors) throws IOException, InterruptedException {
    for (String dom : host("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name").lines()
        .filter(d -> d.startsWith(p + "-")).toList()) {
      tryHost(errors, "virsh", "-q", "-c", "qemu:///system", "destroy", dom);
      tryHost(errors, "virsh", "-q", "-c", "qemu:///system", "undefine", dom);
    }
    for (String n : host("ip", "netns", "list").lines().map(l -> l.split(" ")[0]).filter(n -> n.startsWith(p))
        .toList()) {
      tryHost(errors, "ip", "netns", "del", n);
    }
    for (String l : host("ip", "-o", "link", "show").lines().map(l -> l.split(": ")[1].split("@")[0])
        .filter(l -> l.startsWith(p)).toList()) {
      tryHost(errors, "ip", "link", "del", l);
    }
    for (String t : host("nft", "list", "tables").lines().map(l -> l.split(" ")).filter(f -> f.length == 3
        && f[2].startsWith(p)).map(f -> f[1] + " " + f[2]).toList()) {
      String[] f = t.split(" ");
      tryHost(errors, "nft", "delete", "table", f[0], f[1]);
    }
    Path dir = RUNS.resolve(p);
    if (Files.exists(dir)) {
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(x);
        }
      }
    }
  }

  private static void tryHost(List<Throwable> errors, String... cmd) {
    try {
      host(cmd);
    } catch (IOException | InterruptedException e) {
      errors.add(e);
    }
  }

  /** Removes what runs of this test that died (their JVM is gone) left. */
  private static void reapDeadRuns() throws IOException, InterruptedException {
    if (!Files.isDirectory(RUNS)) {
      return;
    }
    List<Path> dead = new ArrayList<>();
    try (Stream<Path> s = Files.list(RUNS)) {
      for (Path d : s.filter(d -> d.getFileName().toString().matches("cx[0-9a-f]{4}")).toList()) {
        Path pid = d.resolve("pid");
        boolean alive = Files.exists(pid) && ProcessHandle.of(Long.parseLong(Files.readString(pid).strip()))
            .map(ProcessHandle::isAlive).orElse(false);
        if (!alive) {
          dead.add(d);
        }
      }
    }
    for (Path d : dead) {
      List<Throwable> errors = new ArrayList<>();
      removeLeftovers(d.getFileName().toString(), errors);
    }
  }

  private static void assumeCapable() throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"), "needs Linux");
    assumeTrue(Files.readAllLines(Path.of("/proc/self/status")).stream()
        .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0")), "needs root");
    for (String c : List.of("ip", "nft", "dnsmasq", "genisoimage", "virsh", "setsid")) {
      assumeTrue(Stream.of(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin").split(":"))
          .anyMatch(x -> Files.isExecutable(Path.of(x, c))), c + " is not installed");
    }
  }
}
