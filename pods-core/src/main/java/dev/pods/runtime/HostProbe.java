package dev.pods.runtime;

import dev.pods.spec.HealthCheck;
import dev.pods.spi.NetworkDriver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Runs a {@link HealthCheck.Kind#TCP} or {@link HealthCheck.Kind#HTTP} check from an instance's network namespace
 * (the connection starts there, as {@code Instance.endpoint}'s do). Stateless; blocks up to about the check's
 * timeout (once for the connection, once for the answer).
 */
final class HostProbe {
  /** The most of an HTTP answer read to find its status line. */
  private static final int MAX_STATUS_LINE = 1024;

  private HostProbe() {}

  /**
   * Runs {@code check} against {@code target} from the namespace of instance {@code instanceId}.
   *
   * @return null when it passed, else what failed (e.g. {@code "connection refused"}, {@code "status 503"})
   */
  static @Nullable String run(NetworkDriver net, String instanceId, InetSocketAddress target, HealthCheck check) {
    Duration timeout = check.timeout();
    try (Socket s = net.connectInNamespace(instanceId, target, timeout)) {
      if (check.kind() == HealthCheck.Kind.TCP) {
        return null;
      }
      s.setSoTimeout((int) timeout.toMillis());
      String host = target.getAddress().getHostAddress() + ":" + target.getPort();
      OutputStream out = s.getOutputStream();
      out.write(("GET " + check.path() + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: pods-health-check\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String line = statusLine(s.getInputStream());
      int status = status(line);
      if (status < 0) {
        return "not an HTTP answer: '" + line + "'";
      }
      return status >= 200 && status < 400 ? null : "status " + status;
    } catch (SocketTimeoutException e) {
      return "no answer within " + timeout.toSeconds() + " s";
    } catch (IOException | RuntimeException e) {
      return String.valueOf(e.getMessage());
    }
  }

  /** The first line of an answer, without its line end (at most {@link #MAX_STATUS_LINE} bytes). */
  private static String statusLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while (b.length() < MAX_STATUS_LINE && (c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  /** The status of an HTTP status line ({@code HTTP/1.x 200 OK}), or -1 when it is not one. */
  static int status(String line) {
    String[] parts = line.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/") || parts[1].length() != 3) {
      return -1;
    }
    try {
      return Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
