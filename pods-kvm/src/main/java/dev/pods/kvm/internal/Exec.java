package dev.pods.kvm.internal;

import dev.pods.BackendException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs external commands (qemu-img, genisoimage, the image build script) with a timeout, capturing their output.
 * Thread-safe. A command that times out is killed by its pid (and its descendants), never by name.
 */
public final class Exec {
  private static final Logger LOG = LoggerFactory.getLogger(Exec.class);

  private Exec() {}

  /** What a finished command printed. */
  public record Result(int exitCode, String stdout, String stderr) {}

  /**
   * Runs {@code command} and returns its output when it exits with status 0.
   *
   * @param operation names the operation in a failure ({@link BackendException#operation()})
   * @throws BackendException when the command cannot run, fails (code = exit status) or times out
   */
  public static Result run(String operation, List<String> command, @Nullable Path workDir, Duration timeout) {
    Result r = runAllowingFailure(operation, command, workDir, timeout);
    if (r.exitCode() != 0) {
      String err = r.stderr().isBlank() ? r.stdout() : r.stderr();
      throw new BackendException(operation, null, r.exitCode(),
          String.join(" ", command) + ": " + tail(err.strip(), 2000), null);
    }
    return r;
  }

  /** Like {@link #run} but returns a non-zero exit status instead of throwing. */
  public static Result runAllowingFailure(
      String operation, List<String> command, @Nullable Path workDir, Duration timeout) {
    LOG.debug("running {}", command);
    ProcessBuilder pb = new ProcessBuilder(command);
    if (workDir != null) {
      pb.directory(workDir.toFile());
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new BackendException(operation, null, -1, "cannot run " + command.get(0) + ": " + e.getMessage(), e);
    }
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
    try {
      p.getOutputStream().close();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new BackendException(operation, null, -1,
            String.join(" ", command) + " did not finish within " + timeout, null);
      }
      return new Result(p.exitValue(), out.get(), err.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new BackendException(operation, null, -1, "interrupted while running " + command.get(0), e);
    } catch (ExecutionException | IOException e) {
      throw new BackendException(operation, null, -1, "cannot read the output of " + command.get(0), e);
    }
  }

  private static String drain(InputStream in) {
    try (in) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      in.transferTo(b);
      return b.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String tail(String s, int max) {
    return s.length() <= max ? s : "..." + s.substring(s.length() - max);
  }
}
