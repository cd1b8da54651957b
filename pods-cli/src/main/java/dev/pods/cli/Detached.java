package dev.pods.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code pods up -d}: starts the same {@code pods up} (without {@code -d}) as a background process in a session of
 * its own (so neither Ctrl-C nor a closed terminal reaches it), its stdout and stderr in {@code <data>/cli/POD.out},
 * and waits until the pod is ready through its control socket. Stateless; {@link #start} blocks until then.
 */
final class Detached {
  private Detached() {}

  /** The output file of {@code pod}'s background up process. */
  static Path outFile(Path dataDir, String pod) {
    return Up.controlDir(dataDir).resolve(pod + ".out");
  }

  /**
   * Starts {@code pods <args>} in the background and waits until pod {@code pod} is ready (within
   * {@code readyTimeout} and a minute to start).
   *
   * @param args the command line of the up process, {@code -d} removed
   * @return 0 when the pod is ready (the up process keeps running it); 1 when it failed or the up process ended,
   *     with the reason and the last lines of its output on {@code err}
   */
  static int start(PrintStream out, PrintStream err, Path dataDir, String pod, List<String> args,
      Duration readyTimeout) throws IOException, InterruptedException {
    Path dir = Up.controlDir(dataDir);
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Path log = outFile(dataDir, pod);
    Files.deleteIfExists(log);
    Files.createFile(log, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    List<String> cmd = new ArrayList<>();
    if (onPath("setsid")) {
      cmd.add("setsid"); // a session of its own: the terminal's Ctrl-C and hang-up do not reach it
    }
    cmd.add(ProcessHandle.current().info().command().orElse(
        Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-Dpods.dataDir=")) {
        cmd.add(a);
      }
    }
    cmd.add("-Dpods.dataDir=" + dataDir);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(args);
    Process up = new ProcessBuilder(cmd)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectErrorStream(true)
        .start();
    out.println("pods up of " + pod + " runs in the background (pid " + up.pid() + "); its output: " + log);
    out.flush();
    long seconds = readyTimeout.toSeconds() + 60;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    int status = new Clients(out, err, dataDir).await(pod, deadline, seconds, () -> !up.isAlive());
    if (status == 0) {
      out.println("`pods logs " + pod + "` shows its events, `pods down " + pod + "` ends it");
      return 0;
    }
    if (!up.isAlive()) {
      err.println("pods: the pods up process ended with status " + up.waitFor() + "; the end of its output:");
    } else {
      err.println("pods: the end of the pods up process's output (it tears the pod down when not ready in time):");
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    lines.subList(Math.max(0, lines.size() - 20), lines.size()).forEach(l -> err.println("  " + l));
    return 1;
  }

  private static boolean onPath(String cmd) {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(d, cmd))) {
        return true;
      }
    }
    return false;
  }
}
