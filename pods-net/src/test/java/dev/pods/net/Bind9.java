package dev.pods.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real BIND 9 ({@code named}, Debian's {@code bind9}) for tests: primary for one zone, on loopback at a free port,
 * taking dynamic updates signed with a TSIG key this object makes. Its configuration, zone, journal and key live in
 * a folder of the caller's; {@link #close()} ends the process (by its handle) and removes the folder.
 */
public final class Bind9 implements AutoCloseable {
  static final Path NAMED = Path.of("/usr/sbin/named");

  /** The zone it serves. */
  public final String zone;
  /** The TSIG key's name. */
  public final String keyName = "pods-test-key";
  /** The TSIG secret, base64. */
  public final String secret;
  /** Where it listens (loopback, UDP and TCP). */
  public final InetSocketAddress address;
  final Path dir;
  private final Process process;

  private Bind9(String zone, String secret, InetSocketAddress address, Path dir, Process process) {
    this.zone = zone;
    this.secret = secret;
    this.address = address;
    this.dir = dir;
    this.process = process;
  }

  /** Skips the calling test when named is not installed (scripts/setup-host.sh installs bind9). */
  public static void assumeInstalled() {
    Assumptions.assumeTrue(Files.isExecutable(NAMED), NAMED + " is missing (apt-get install bind9)");
  }

  /** Starts named for {@code zone} in {@code dir} (created); returns once it serves the zone. */
  public static Bind9 start(String zone, Path dir) throws Exception {
    assumeInstalled();
    Files.createDirectories(dir);
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    String secret = Base64.getEncoder().encodeToString(key);
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort(); // free for TCP now; named binds UDP and TCP on it right after
    }
    Files.writeString(dir.resolve("zone.db"), """
        $TTL 60
        @   IN SOA ns.%1$s. admin.%1$s. 1 60 60 600 60
        @   IN NS  ns.%1$s.
        ns  IN A   127.0.0.1
        """.formatted(zone));
    Files.writeString(dir.resolve("named.conf"), """
        options {
          directory "%1$s";
          pid-file "%1$s/named.pid";
          listen-on port %2$d { 127.0.0.1; };
          listen-on-v6 { none; };
          recursion no;
          dnssec-validation no;
          notify no;
        };
        controls { };
        key "%3$s" { algorithm hmac-sha256; secret "%4$s"; };
        zone "%5$s" {
          type primary;
          file "%1$s/zone.db";
          update-policy { grant %3$s zonesub A; };
        };
        """.formatted(dir, port, "pods-test-key", secret, zone));
    Process p = new ProcessBuilder(NAMED.toString(), "-g", "-4", "-n", "1", "-c", dir.resolve("named.conf").toString())
        .redirectErrorStream(true).start();
    // named logs "running" once it has loaded its zones and listens: the event to wait for
    CompletableFuture<Boolean> running = new CompletableFuture<>();
    Path log = dir.resolve("named.log");
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          Files.writeString(log, line + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
              java.nio.file.StandardOpenOption.APPEND);
          if (line.endsWith(" running")) {
            running.complete(true);
          }
        }
      } catch (IOException e) {
        running.completeExceptionally(e);
      }
      running.complete(false);
    }, "test-named-log");
    reader.setDaemon(true);
    reader.start();
    boolean up;
    try {
      up = running.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      up = false;
    }
    if (!up) {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      throw new AssertionError("named did not start: " + (Files.exists(log) ? Files.readString(log) : "no output"));
    }
    return new Bind9(zone, secret, new InetSocketAddress(InetAddress.getLoopbackAddress(), port), dir, p);
  }

  /** A provider for this server and key. */
  public Rfc2136DnsProvider provider() {
    return Rfc2136DnsProvider.builder().server(address).tsig("hmac-sha256", keyName, secret)
        .timeout(Duration.ofSeconds(3)).build();
  }

  /** The command line of {@code nsupdate} that sends {@code script} to this server with the key. */
  public List<String> nsupdate() {
    return List.of("nsupdate", "-y", "hmac-sha256:" + keyName + ":" + secret);
  }

  @Override
  public void close() throws IOException {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    dev.pods.net.internal.AtomicFiles.deleteTree(dir);
  }
}
