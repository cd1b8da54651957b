package dev.pods;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A command for the guest agent to run: its argument vector (run directly, not through a shell), an optional
 * standard input and a timeout after which the command's process group is killed. Immutable (the stdin array
 * is copied in and out).
 *
 * @param argv the command and its arguments, at least one element
 * @param stdin bytes for its standard input, or {@code null} for none ({@code /dev/null})
 * @param timeout how long it may run (1 s to 24 h; whole seconds on the wire, rounded up)
 */
public record ExecRequest(List<String> argv, byte @Nullable [] stdin, Duration timeout) {

  /** The timeout of {@link #of(String...)}. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(1);

  /** Validates and copies. */
  public ExecRequest {
    argv = List.copyOf(argv);
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv is empty");
    }
    stdin = stdin == null ? null : stdin.clone();
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(Duration.ofHours(24)) > 0) {
      throw new IllegalArgumentException("timeout must be between 1s and 24h, not " + timeout);
    }
  }

  /** A command without stdin and with the default timeout of one minute. */
  public static ExecRequest of(String... argv) {
    return new ExecRequest(List.of(argv), null, DEFAULT_TIMEOUT);
  }

  /** This request with a standard input given as UTF-8 text. */
  public ExecRequest withStdin(String text) {
    return new ExecRequest(argv, text.getBytes(StandardCharsets.UTF_8), timeout);
  }

  /** This request with another timeout. */
  public ExecRequest withTimeout(Duration newTimeout) {
    return new ExecRequest(argv, stdin, newTimeout);
  }

  /** A copy of the standard input, or {@code null}. */
  @Override
  public byte @Nullable [] stdin() {
    return stdin == null ? null : stdin.clone();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ExecRequest r
        && argv.equals(r.argv)
        && Arrays.equals(stdin, r.stdin)
        && timeout.equals(r.timeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(argv, Arrays.hashCode(stdin), timeout);
  }

  @Override
  public String toString() {
    return "ExecRequest[argv=" + argv + ", stdin=" + (stdin == null ? "none" : stdin.length + " bytes")
        + ", timeout=" + timeout + "]";
  }
}
