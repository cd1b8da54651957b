package dev.pods.net.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a short command to completion: writes its standard input, collects its output, waits with a timeout. The
 * child starts in the network namespace of the calling thread (see {@link Netns#call}). Stateless, thread-safe.
 */
public final class Exec {
  private static final Logger LOG = LoggerFactory.getLogger(Exec.class);

  private Exec() {}

  /** The outcome of a command. */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    /** Whether it exited with 0. */
    public boolean ok() {
      return exitCode == 0;
    }

    /** A one-line description for error messages. */
    public String describe() {
      return String.join(" ", command) + " exited " + exitCode + ": " + stderr.strip();
    }
  }

  /** Runs {@code command}, feeding it {@code stdin} (null: none), and waits at most {@code timeout}. */
  public static Result run(List<String> command, @Nullable String stdin, Duration timeout) throws IOException {
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(command).start();
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // the command exited early; its exit code and stderr tell why
      LOG.debug("writing stdin of {} failed", command, e);
    }
    String out;
    String err;
    try (InputStream o = p.getInputStream(); InputStream e = p.getErrorStream()) {
      out = new String(o.readAllBytes(), StandardCharsets.UTF_8);
      err = new String(e.readAllBytes(), StandardCharsets.UTF_8);
    }
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + " did not finish within " + timeout);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", command) + " interrupted", e);
    }
    Result r = new Result(List.copyOf(command), p.exitValue(), out, err);
    if (LOG.isDebugEnabled()) {
      LOG.debug("{} -> {} in {} us{}", command, r.exitCode(), (System.nanoTime() - t0) / 1000,
          stdin == null ? "" : "\n" + stdin);
    }
    return r;
  }

  /** Runs {@code command} and fails unless it exits with 0. */
  public static Result check(List<String> command, @Nullable String stdin, Duration timeout) throws IOException {
    Result r = run(command, stdin, timeout);
    if (!r.ok()) {
      throw new IOException(r.describe());
    }
    return r;
  }
}
