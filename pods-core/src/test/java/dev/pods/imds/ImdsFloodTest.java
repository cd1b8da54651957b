package dev.pods.imds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Script;
import dev.pods.Unit;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One guest floods its metadata service (run ids, block reports, output, oversized and never-sent bodies, long
 * polls, idle connections): what that server keeps stays within its bounds, the excess is refused with a clear
 * status, and a second instance's server in the same JVM still serves at once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ImdsFloodTest {
  private static final String TOKEN = "flood-token-0123456789";

  static InstanceView view(String name, String version) {
    Unit u = Unit.builder().name(name).image("debian12").script(Script.shell("echo a"))
        .script(Script.shell(dev.pods.Phase.RELOAD, "echo b")).build();
    return InstanceView.builder().pod("flood").unit(name).spec(u, version).privateIps(List.of("10.0.0.2")).build();
  }

  @Test
  void aFloodedServerStaysWithinItsBoundsAndAnotherInstanceStillServesPromptly() throws Exception {
    AtomicLong slowListenerHeld = new AtomicLong();
    CountDownLatch release = new CountDownLatch(1);
    // a listener that never keeps up: every event the flooded server publishes has to queue or be dropped
    ImdsListener stuck = e -> {
      slowListenerHeld.incrementAndGet();
      try {
        release.await();
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    };
    try (ImdsServer hostile = ImdsServer.builder().binding(ImdsBinding.loopback()).view(view("bad", "1"))
            .token(TOKEN).listener(stuck).start();
        ImdsServer other = ImdsServer.builder().binding(ImdsBinding.loopback()).view(view("good", "1"))
            .token(TOKEN).start()) {
      ImdsFlood flood = new ImdsFlood(hostile.address(), TOKEN).start(6, 200);
      try {
        Thread.sleep(3000); // a measured stretch of flooding, not a synchronisation
        // the other instance answers at once and gets its state change at once
        HttpClient c = HttpClient.newHttpClient();
        long t0 = System.nanoTime();
        HttpResponse<String> spec = c.send(HttpRequest.newBuilder(URI.create(other.baseUri() + "/v1/spec"))
            .header(ImdsProtocol.TOKEN_HEADER, TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(spec.statusCode()).isEqualTo(200);
        String h = other.stateHash();
        CompletableFuture<HttpResponse<String>> poll = c.sendAsync(
            HttpRequest.newBuilder(URI.create(other.baseUri() + "/v1/state?wait=30&hash=" + h))
                .header(ImdsProtocol.TOKEN_HEADER, TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        Thread.sleep(100);
        long t1 = System.nanoTime();
        other.update(view("good", "2"));
        assertThat(poll.get(5, TimeUnit.SECONDS).body()).isNotEqualTo("hash " + h + "\n");
        Duration reload = Duration.ofNanos(System.nanoTime() - t1);
        assertThat(reload).isLessThan(Duration.ofSeconds(1));
        assertThat(Duration.ofNanos(t1 - t0)).isLessThan(Duration.ofSeconds(2));

        // the flooded server's own bounds
        assertThat(hostile.openRuns()).isLessThanOrEqualTo(ImdsProtocol.MAX_OPEN_RUNS);
        assertThat(hostile.queuedEventBytes()).isLessThanOrEqualTo(EventDispatcher.MAX_QUEUED_BYTES);
      } finally {
        flood.close();
      }
      assertThat(flood.answers.get(2)).as("%s", flood).isPositive();
      assertThat(flood.answers.get(4)).as("%s", flood).isPositive();   // 400s and 413s
      // and once the flood is over, the flooded server serves its guest again: at once, or (on a loaded machine) as
      // soon as the requests it still holds end, the longest a 2 s long poll
      HttpClient client = HttpClient.newHttpClient();
      HttpRequest spec = HttpRequest.newBuilder(URI.create(hostile.baseUri() + "/v1/spec"))
          .header(ImdsProtocol.TOKEN_HEADER, TOKEN).build();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      HttpResponse<String> after = client.send(spec, HttpResponse.BodyHandlers.ofString());
      while (after.statusCode() == 503 && System.nanoTime() < deadline) {
        Thread.sleep(100); // a 503 names no moment to wait for: ask again
        after = client.send(spec, HttpResponse.BodyHandlers.ofString());
      }
      assertThat(after.statusCode()).isEqualTo(200);
      release.countDown();
    }
  }

  @Test
  void tooManyRequestsAtOnceGet503AndTheLongPollsKeepTheirSlots() throws Exception {
    try (ImdsServer s = ImdsServer.builder().binding(ImdsBinding.loopback()).view(view("bad", "1")).token(TOKEN)
            .workers(ImdsProtocol.MAX_PENDING_REQUESTS).start()) {
      HttpClient c = HttpClient.newHttpClient();
      List<CompletableFuture<HttpResponse<String>>> polls = new java.util.ArrayList<>();
      for (int i = 0; i < ImdsProtocol.MAX_PENDING_REQUESTS + 8; i++) {
        polls.add(c.sendAsync(HttpRequest.newBuilder(URI.create(s.baseUri() + "/v1/exec/next?wait=3"))
            .header(ImdsProtocol.TOKEN_HEADER, TOKEN).build(), HttpResponse.BodyHandlers.ofString()));
      }
      long refused = 0;
      long waited = 0;
      for (CompletableFuture<HttpResponse<String>> p : polls) {
        int code = p.get(20, TimeUnit.SECONDS).statusCode();
        if (code == 503) {
          refused++;
        } else if (code == 204) {
          waited++;
        }
      }
      assertThat(waited).isLessThanOrEqualTo(ImdsProtocol.MAX_PENDING_REQUESTS);
      assertThat(refused).isPositive();
      assertThat(refused + waited).isEqualTo(polls.size());
    }
  }
}
