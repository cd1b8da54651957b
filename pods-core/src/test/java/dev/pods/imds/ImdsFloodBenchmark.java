package dev.pods.imds;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark (a main, not a test): one guest floods its metadata service for a while (default 60 s) from one
 * client ({@link ImdsFlood}: 6 threads, 200 idle connections). Prints the host JVM's heap in use after a full GC
 * before the flood and at its end (while it still runs), and the reload latency of a second instance's server in
 * the same JVM (state change to its long poll's answer) without the flood and during it, as medians, p99 and
 * ratio. Run: {@code java -cp <test classpath> dev.pods.imds.ImdsFloodBenchmark [seconds]}.
 */
public final class ImdsFloodBenchmark {
  private static final String TOKEN = "flood-token-0123456789";

  private ImdsFloodBenchmark() {}

  /**
   * Prints the figures.
   *
   * @param args {@code [seconds]} of flooding, default 60
   */
  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    try (ImdsServer hostile = ImdsServer.builder().binding(ImdsBinding.loopback())
            .view(ImdsFloodTest.view("bad", "1")).token(TOKEN).listener(e -> { }).start();
        ImdsServer other = ImdsServer.builder().binding(ImdsBinding.loopback())
            .view(ImdsFloodTest.view("good", "1")).token(TOKEN).start()) {
      HttpClient c = HttpClient.newHttpClient();
      reloads(c, other, 20, 0); // warm-up
      long heap0 = heapAfterGc();
      List<Long> quiet = reloads(c, other, 50, 0);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      List<Long> flooded = new ArrayList<>();
      long heap1;
      ImdsFlood flood = new ImdsFlood(hostile.address(), TOKEN).start(6, 200);
      try {
        while (System.nanoTime() < end) {
          flooded.addAll(reloads(c, other, 5, 1000));
        }
        heap1 = heapAfterGc();
      } finally {
        flood.close();
      }
      System.out.printf(Locale.ROOT, "flood for %d s: %s%n", seconds, flood);
      System.out.printf(Locale.ROOT, "heap in use after GC: before %.1f MiB, at the flood's end %.1f MiB, growth %.1f MiB%n",
          heap0 / 1048576.0, heap1 / 1048576.0, (heap1 - heap0) / 1048576.0);
      System.out.printf(Locale.ROOT, "reload latency of another instance: quiet p50 %.2f ms p99 %.2f ms (%d); flooded p50 %.2f ms p99 %.2f ms (%d); p50 ratio %.2f%n",
          pct(quiet, 50), pct(quiet, 99), quiet.size(), pct(flooded, 50), pct(flooded, 99), flooded.size(),
          pct(flooded, 50) / pct(quiet, 50));
    }
  }

  /** {@code n} state changes of {@code s}, each timed from update() to the long poll's answer (ns). */
  private static List<Long> reloads(HttpClient c, ImdsServer s, int n, long pauseMs) throws Exception {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String h = s.stateHash();
      CompletableFuture<HttpResponse<String>> poll = c.sendAsync(
          HttpRequest.newBuilder(URI.create(s.baseUri() + "/v1/state?wait=30&hash=" + h))
              .header(ImdsProtocol.TOKEN_HEADER, TOKEN).build(), HttpResponse.BodyHandlers.ofString());
      Thread.sleep(50 + pauseMs / 5); // let the poll arrive and park
      long t0 = System.nanoTime();
      s.update(ImdsFloodTest.view("good", "v" + System.nanoTime()));
      poll.get(30, TimeUnit.SECONDS);
      out.add(System.nanoTime() - t0);
    }
    return out;
  }

  private static double pct(List<Long> ns, int p) {
    List<Long> s = new ArrayList<>(ns);
    Collections.sort(s);
    return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1)) / 1e6;
  }

  private static long heapAfterGc() throws InterruptedException {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
      best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return best;
  }
}
