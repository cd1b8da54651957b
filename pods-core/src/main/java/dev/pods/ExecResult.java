package dev.pods;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What an {@link ExecRequest} gave: the exit code (124 and {@code timedOut} when it was killed at its timeout,
 * 127 when the command was not found, 128+N when killed by signal N), standard output and standard error.
 * Immutable (arrays copied in and out).
 *
 * @param exitCode the exit code
 * @param stdout the standard output bytes
 * @param stderr the standard error bytes
 * @param timedOut whether the command was killed at its timeout
 */
public record ExecResult(int exitCode, byte[] stdout, byte[] stderr, boolean timedOut) {

  /** Copies. */
  public ExecResult {
    stdout = stdout.clone();
    stderr = stderr.clone();
  }

  /** A copy of the standard output. */
  @Override
  public byte[] stdout() {
    return stdout.clone();
  }

  /** A copy of the standard error. */
  @Override
  public byte[] stderr() {
    return stderr.clone();
  }

  /** The standard output decoded as UTF-8. */
  public String stdoutText() {
    return new String(stdout, StandardCharsets.UTF_8);
  }

  /** The standard error decoded as UTF-8. */
  public String stderrText() {
    return new String(stderr, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ExecResult r
        && exitCode == r.exitCode
        && timedOut == r.timedOut
        && Arrays.equals(stdout, r.stdout)
        && Arrays.equals(stderr, r.stderr);
  }

  @Override
  public int hashCode() {
    return Objects.hash(exitCode, timedOut, Arrays.hashCode(stdout), Arrays.hashCode(stderr));
  }

  @Override
  public String toString() {
    return "ExecResult[exitCode=" + exitCode + ", timedOut=" + timedOut + ", stdout=" + stdout.length
        + " bytes, stderr=" + stderr.length + " bytes]";
  }
}
