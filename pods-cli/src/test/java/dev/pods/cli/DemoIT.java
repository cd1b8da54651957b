package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * README's first command, non-interactively: {@code bin/demo --once --no-build} with this module's classes as the
 * {@code pods} command. The demo deploys the shop's load balancer and two web instances as tiny guests with
 * {@code pods up --tiny} in a separate process, asks the load balancer's public address from its own "outside
 * world" namespace, and tears everything down. Asserts that both web instances answered through the load balancer
 * and that nothing of the run is left: domains, namespaces, links, nft tables, processes, its state folder.
 *
 * <p>Every name the run creates starts with the demo's per-run prefix {@code dm????}; the demo script reaps the
 * leftovers of killed runs itself. Traffic goes only between namespaces the demo created.
 */
@Tag("system")
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class DemoIT {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern ANSWER = Pattern.compile("demo: answer \\d: served by (web-\\d)");
  private static final Pattern LEFT = Pattern.compile("demo: done: nothing left of (dm[0-9a-f]{4})");

  @Test
  void theLoadBalancerAnswersFromBothWebInstancesAndNothingIsLeft() throws Exception {
    assumeCapable();
    Path log = Files.createTempFile("pods-demo-it", ".log");
    try {
      ProcessBuilder pb = new ProcessBuilder("bash", REPO.resolve("bin/demo").toString(), "--once", "--no-build")
          .directory(REPO.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      pb.environment().put("PODS_CMD", java + " -cp " + System.getProperty("java.class.path") + " dev.pods.cli.Main");
      String images = System.getProperty("pods.images.dir");
      if (images != null && !images.isBlank()) {
        pb.environment().put("PODS_IMAGES_DIR", images);
      }
      long t0 = System.nanoTime();
      Process demo = pb.start();
      if (!demo.waitFor(15, TimeUnit.MINUTES)) {
        demo.destroy(); // SIGTERM: the demo's trap tears down
        demo.waitFor(2, TimeUnit.MINUTES);
        throw new AssertionError("bin/demo did not finish in 15 minutes:\n" + Files.readString(log));
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      System.out.printf("demo-it: bin/demo --once took %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
      assertThat(demo.exitValue()).as("bin/demo's exit status; its output:\n%s", out).isZero();

      List<String> served = new ArrayList<>();
      Matcher m = ANSWER.matcher(out);
      while (m.find()) {
        served.add(m.group(1));
      }
      assertThat(served).as("who answered; output:\n%s", out).hasSize(4).contains("web-0", "web-1");
      assertThat(out).as("output:\n%s", out)
          .containsPattern("demo: web-0 resolves shop\\.shop\\.internal to 198\\.51\\.100\\.\\d+\n");
      assertThat(out).contains("lb-0   phase initial ok", "web-0  state initializing -> ready",
          "web-1  state initializing -> ready", "pods   destroyed pod shop");

      Matcher left = LEFT.matcher(out);
      assertThat(left.find()).as("the demo's last line; output:\n%s", out).isTrue();
      String p = left.group(1);
      assertThat(run("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name")).doesNotContain(p);
      assertThat(run("ip", "netns", "list")).doesNotContain(p);
      assertThat(run("ip", "-o", "link", "show")).doesNotContain(p);
      assertThat(run("nft", "list", "tables")).doesNotContain(p);
      assertThat(processesMentioning(p)).isEmpty();
      assertThat(Path.of("/var/lib/pods/demo", p)).doesNotExist();
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /**
   * Ctrl-C of the running demo: SIGINT to its whole process group (the demo, {@code pods up} and its children, as a
   * terminal sends it) once the pod keeps running. The demo tears down, says nothing about a connection closed
   * without a reply, exits 0 and leaves nothing.
   */
  @Test
  void ctrlCTearsDownAndExitsZero() throws Exception {
    assumeCapable();
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setsid")), "setsid is not installed");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // a process group of its own, SIGINT not ignored whatever this JVM inherited (as in a terminal)
    ProcessBuilder pb = new ProcessBuilder("setsid", "env", "--default-signal=INT", "bash",
        REPO.resolve("bin/demo").toString(), "--no-build")
        .directory(REPO.toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().put("PODS_CMD", java + " -cp " + System.getProperty("java.class.path") + " dev.pods.cli.Main");
    String images = System.getProperty("pods.images.dir");
    if (images != null && !images.isBlank()) {
      pb.environment().put("PODS_IMAGES_DIR", images);
    }
    Process demo = pb.start();
    StringBuilder out = new StringBuilder();
    boolean interrupted = false;
    try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(demo.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        out.append(line).append('\n');
        if (!interrupted && line.startsWith("demo: the pod keeps running")) {
          // setsid execs: the demo's pid is its process group's id
          assertThat(run("kill", "-INT", "--", "-" + demo.pid())).isEmpty();
          interrupted = true;
        }
      }
    } finally {
      if (!demo.waitFor(5, TimeUnit.MINUTES)) {
        demo.destroy();
        demo.waitFor(2, TimeUnit.MINUTES);
      }
    }
    String text = out.toString();
    assertThat(interrupted).as("the demo never said the pod keeps running; output:\n%s", text).isTrue();
    assertThat(demo.exitValue()).as("bin/demo's exit status after Ctrl-C; its output:\n%s", text).isZero();
    assertThat(text).doesNotContain("without a reply").contains("demo: tearing down", "pods   destroyed pod shop");
    Matcher left = LEFT.matcher(text);
    assertThat(left.find()).as("the demo's last line; output:\n%s", text).isTrue();
    String p = left.group(1);
    assertThat(run("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name")).doesNotContain(p);
    assertThat(run("ip", "netns", "list")).doesNotContain(p);
    assertThat(run("ip", "-o", "link", "show")).doesNotContain(p);
    assertThat(run("nft", "list", "tables")).doesNotContain(p);
    assertThat(processesMentioning(p)).isEmpty();
    assertThat(Path.of("/var/lib/pods/demo", p)).doesNotExist();
  }

  private static void assumeCapable() throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"), "needs Linux");
    assumeTrue(Files.readAllLines(Path.of("/proc/self/status")).stream()
        .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0")), "needs root");
    for (String c : List.of("ip", "nft", "dnsmasq", "genisoimage", "virsh", "curl")) {
      assumeTrue(Stream.of(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin").split(":"))
          .anyMatch(x -> Files.isExecutable(Path.of(x, c))), c + " is not installed");
    }
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process pr = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    byte[] out;
    try (var in = pr.getInputStream()) {
      out = in.readAllBytes();
    }
    if (!pr.waitFor(60, TimeUnit.SECONDS)) {
      pr.destroyForcibly();
      throw new IOException("timed out: " + String.join(" ", cmd));
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  private static List<String> processesMentioning(String text) throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> s = Files.list(Path.of("/proc"))) {
      for (Path d : s.filter(x -> x.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        try {
          String cmd = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
          if (cmd.contains(text)) {
            found.add(d.getFileName() + ": " + cmd);
          }
        } catch (IOException e) {
          // the process ended while we looked
        }
      }
    }
    return found;
  }
}
