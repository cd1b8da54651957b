package dev.pods.etcd;

import dev.pods.imds.ImdsProtocol;
import com.sun.net.httpserver.HttpServer;
import dev.pods.spi.ForwardingNetworkDriver;
import dev.pods.spi.HypervisorEvent;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkTask;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guests of one host's in-memory hypervisor, played by Java threads against their instances' real metadata
 * services (bound "inside" the in-memory network driver's namespaces, on loopback): whenever a domain starts, its
 * guest reads the token from the domain's seed, reports a successful first boot (its first block, when the unit has
 * one, prints {@code booted HOSTNAME}), then serves exec requests in the agent's long poll (which is also its
 * heartbeat) until its metadata service goes: {@code hostname} prints the domain's hostname from the seed,
 * {@code echo ARGS} its arguments; anything else exits 127. No shell runs. Thread-safe; {@link #close()} stops the guests.
 */
final class FakeGuests implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FakeGuests.class);

  private final NetworkDriver net;
  /** Where each instance's metadata service listens, by instance id, as the runtime bound it. */
  private final Map<String, InetSocketAddress> listeners = new ConcurrentHashMap<>();
  private final DirectoryInstanceFiles files;
  private final String namePrefix;
  private final dev.pods.spi.Hypervisor.Subscription subscription;
  private final AtomicBoolean closed = new AtomicBoolean();

  FakeGuests(InMemoryHypervisor hv, InMemoryNetworkDriver net, DirectoryInstanceFiles files, String namePrefix) {
    this.net = new ForwardingNetworkDriver(net) {
      @Override
      public <T> T callInNamespace(String instanceId, NetworkTask<T> task) {
        T result = super.callInNamespace(instanceId, task);
        if (result instanceof HttpServer h) {
          listeners.put(instanceId, h.getAddress());
        }
        return result;
      }

      @Override
      public void delete(String instanceId) {
        listeners.remove(instanceId);
        super.delete(instanceId);
      }
    };
    this.files = files;
    this.namePrefix = namePrefix;
    this.subscription = hv.subscribe(e -> {
      if (e.type() == HypervisorEvent.Type.STARTED && e.domain() != null) {
        boot(e.domain());
      }
    });
  }

  /**
   * The network driver the host's runtime must use: the in-memory one, noting where each metadata service listens
   * (the runtime starts each in the instance's "namespace", on an ephemeral loopback port here).
   */
  NetworkDriver driver() {
    return net;
  }

  private void boot(String domain) {
    Thread t = new Thread(() -> {
      try {
        new Guest(domain).run();
      } catch (IOException | RuntimeException e) {
        LOG.debug("guest {} ends: {}", domain, e.toString());
      }
    }, "fake-guest-" + domain);
    t.setDaemon(true);
    t.start();
  }

  /** One guest: its first boot, then its exec loop. */
  private final class Guest {
    private final String domain;
    private final String instanceId;
    private String token = "";
    private String hostname = "";
    private int port;

    Guest(String domain) {
      this.domain = domain;
      this.instanceId = domain.substring(namePrefix.length());
    }

    void run() throws IOException {
      Path seed = files.dir(domain).resolve("seed");
      for (String l : Files.readAllLines(seed.resolve("pods-agent.conf"))) {
        if (l.startsWith("token=")) {
          token = l.substring("token=".length());
        }
      }
      hostname = Files.readString(seed.resolve("hostname")).strip();
      connect();
      String spec = request("GET", "/v1/spec", new byte[0]);
      String version = field(spec, "version");
      String hash = field(spec, "hash");
      boolean block = spec.lines().anyMatch(l -> l.startsWith("block "));
      request("POST", "/v1/runs/g1/start?trigger=first_boot&version=" + version + "&hash=" + hash + "&blocks="
          + (block ? "0" : ""), new byte[0]);
      if (block) {
        request("POST", "/v1/runs/g1/blocks/0/start", new byte[0]);
        request("POST", "/v1/runs/g1/blocks/0/output?stream=stdout&offset=0",
            ("booted " + hostname + "\n").getBytes(StandardCharsets.UTF_8));
        request("POST", "/v1/runs/g1/blocks/0/end?exit=0&timedOut=false", new byte[0]);
      }
      request("POST", "/v1/runs/g1/end?ok=true", new byte[0]);
      while (!closed.get()) {
        String next = request("GET", "/v1/exec/next?wait=2", new byte[0]);
        if (next.startsWith("id ")) {
          exec(next);
        }
      }
    }

    /** Waits for the metadata service to listen, as an agent retries it at boot. */
    private void connect() throws IOException {
      long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      InetSocketAddress at;
      while ((at = listeners.get(instanceId)) == null) {
        if (closed.get() || System.nanoTime() > end) {
          throw new IOException("metadata service of " + domain + " never listened");
        }
        try {
          Thread.sleep(50); // an agent at boot retries its metadata service until it answers
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", ie);
        }
      }
      port = at.getPort();
    }

    private void exec(String request) throws IOException {
      String id = field(request, "id");
      List<String> argv = new ArrayList<>();
      for (String l : request.lines().toList()) {
        if (l.startsWith("arg ")) {
          argv.add(new String(Base64.getDecoder().decode(l.substring(4)), StandardCharsets.UTF_8));
        }
      }
      String out;
      int exit = 0;
      if (argv.equals(List.of("hostname"))) {
        out = hostname + "\n";
      } else if (!argv.isEmpty() && argv.get(0).equals("echo")) {
        out = String.join(" ", argv.subList(1, argv.size())) + "\n";
      } else {
        out = "";
        exit = 127;
      }
      byte[] body = out.getBytes(StandardCharsets.UTF_8);
      request("POST", "/v1/exec/" + id + "/result?exit=" + exit + "&timedOut=false&stdoutBytes=" + body.length, body);
    }

    private String field(String text, String key) {
      return text.lines().filter(l -> l.startsWith(key + " ")).map(l -> l.substring(key.length() + 1)).findFirst()
          .orElse("");
    }

    /** One HTTP/1.1 exchange on a fresh connection; the body of a 2xx answer (empty for 204). */
    private String request(String method, String path, byte[] body) throws IOException {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(30_000);
        OutputStream o = s.getOutputStream();
        String head = method + " " + path + " HTTP/1.1\r\nHost: 169.254.169.254\r\n" + ImdsProtocol.TOKEN_HEADER
            + ": " + token + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        o.write(head.getBytes(StandardCharsets.US_ASCII));
        o.write(body);
        o.flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        String answer = all.toString(StandardCharsets.UTF_8);
        int end = answer.indexOf("\r\n\r\n");
        if (end < 0 || !answer.startsWith("HTTP/1.1 2")) {
          throw new IOException(method + " " + path + " of " + domain + ": " + answer);
        }
        return answer.substring(end + 4);
      }
    }
  }

  @Override
  public void close() {
    closed.set(true);
    subscription.close();
  }
}
