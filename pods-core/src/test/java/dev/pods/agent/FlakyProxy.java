package dev.pods.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * An HTTP proxy on 127.0.0.1 in front of a real metadata service that misbehaves for chosen requests, the way a
 * lossy path or a restarting host does: the first {@code refused} matching requests get 503 without reaching the
 * service, the next {@code lost} ones reach it but their answer is replaced by 500 (applied, not acknowledged).
 * Everything else passes through unchanged. Closeable; its threads are daemon threads.
 */
final class FlakyProxy implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "flaky-proxy");
    t.setDaemon(true);
    return t;
  });
  private final HttpClient client = HttpClient.newHttpClient();
  private final URI target;
  private final Predicate<String> matches;
  private final AtomicInteger refused;
  private final AtomicInteger lost;
  final AtomicInteger seen = new AtomicInteger();

  FlakyProxy(URI target, Predicate<String> matches, int refused, int lost) throws IOException {
    this.target = target;
    this.matches = matches;
    this.refused = new AtomicInteger(refused);
    this.lost = new AtomicInteger(lost);
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(threads);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Misbehaves again for the next matching requests. */
  void arm(int refusedNext, int lostNext) {
    refused.set(refusedNext);
    lost.set(lostNext);
  }

  /** Whether every refusal and every lost answer armed has happened. */
  boolean exhausted() {
    return refused.get() <= 0 && lost.get() <= 0;
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String what = ex.getRequestMethod() + " " + ex.getRequestURI().getRawPath();
      byte[] body = ex.getRequestBody().readAllBytes();
      boolean match = matches.test(what);
      if (match) {
        seen.incrementAndGet();
        if (refused.getAndDecrement() > 0) {
          ex.sendResponseHeaders(503, -1);
          return;
        }
      }
      HttpRequest.Builder b = HttpRequest.newBuilder(target.resolve(ex.getRequestURI().toString()))
          .method(ex.getRequestMethod(),
              body.length == 0 && ex.getRequestMethod().equals("GET")
                  ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
      String token = ex.getRequestHeaders().getFirst(dev.pods.imds.ImdsProtocol.TOKEN_HEADER);
      if (token != null) {
        b.header(dev.pods.imds.ImdsProtocol.TOKEN_HEADER, token);
      }
      HttpResponse<byte[]> r;
      try {
        r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        ex.sendResponseHeaders(503, -1);
        return;
      }
      if (match && lost.getAndDecrement() > 0) {
        ex.sendResponseHeaders(500, -1);
        return;
      }
      byte[] out = r.body();
      r.headers().firstValue("Content-Type").ifPresent(v -> ex.getResponseHeaders().set("Content-Type", v));
      ex.sendResponseHeaders(r.statusCode(), out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        ex.getResponseBody().write(out);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
