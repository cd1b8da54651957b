package dev.pods.imds;

import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.Phase;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Unit;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ImdsServerTest {
  private static final String TOKEN = "test-token-0123456789";
  private final HttpClient client = HttpClient.newHttpClient();
  private final List<AgentEvent> events = new CopyOnWriteArrayList<>();
  private Unit unit;
  private ImdsServer imds;

  @BeforeEach
  void start() {
    unit = Unit.builder().name("web").image("debian12")
        .script(Script.shell("echo one"))
        .script(Script.python(Phase.RELOAD, "print('two')").withTimeout(Duration.ofMillis(1500)))
        .build();
    imds = ImdsServer.builder().binding(ImdsBinding.loopback()).view(view(unit, "7")).token(TOKEN)
        .listener(events::add).defaultBlockTimeout(Duration.ofSeconds(90)).start();
  }

  @AfterEach
  void stop() {
    imds.close();
  }

  static InstanceView view(Unit unit, String version) {
    return InstanceView.builder()
        .pod("shop").unit("web").index(1).spec(unit, version)
        .privateIps(List.of("10.0.0.3")).publicIps(List.of("198.51.100.3"))
        .unitInstances("web", List.of(PeerInstance.healthy("web-0", 0, "10.0.0.2"),
            new PeerInstance("web-1", 1, List.of("10.0.0.3"), List.of("198.51.100.3"), true)))
        .unitInstances("db", List.of(
            new PeerInstance("db-1", 1, List.of("10.0.1.2"), List.of("203.0.113.2"), false),
            new PeerInstance("db-0", 0, List.of("10.0.1.1"), List.of("203.0.113.1"), true)))
        .secret("db-creds", Map.of("password", "pa ss", "user", "app"))
        .build();
  }

  private HttpResponse<String> send(String method, String path, String token, String body, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(imds.baseUri() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header(ImdsProtocol.TOKEN_HEADER, token);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return send("GET", path, TOKEN, null);
  }

  private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
    return send("POST", path, TOKEN, body);
  }

  @Test
  void missingOrWrongTokenIsRefusedWith401AndCountsAsNoContact() throws Exception {
    HttpResponse<String> none = send("GET", "/v1/spec", null, null);
    assertThat(none.statusCode()).isEqualTo(401);
    ProtocolSchema.check("error", none);
    HttpResponse<String> wrong = send("GET", "/v1/spec", TOKEN + "x", null);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).contains("wrong token");
    assertThat(send("GET", "/v1/query/unit/db/private_ips", "", null).statusCode()).isEqualTo(401);
    assertThat(imds.lastContact()).isEmpty();
  }

  @Test
  void browserStyleRequestsAreRefusedWith403EvenWithTheToken() throws Exception {
    HttpResponse<String> r = send("GET", "/v1/spec", TOKEN, null, "Origin", "http://evil.example");
    assertThat(r.statusCode()).isEqualTo(403);
    ProtocolSchema.check("error", r);
    assertThat(send("GET", "/v1/spec", TOKEN, null, "Referer", "http://evil.example/").statusCode()).isEqualTo(403);
  }

  @Test
  void unknownPathsMethodsAndParametersGetClearStatuses() throws Exception {
    HttpResponse<String> unversioned = get("/spec");
    assertThat(unversioned.statusCode()).isEqualTo(404);
    assertThat(unversioned.body()).contains("/v1");
    ProtocolSchema.check("error", unversioned);
    assertThat(get("/v2/spec").statusCode()).isEqualTo(404);
    assertThat(get("/v1/nothing").statusCode()).isEqualTo(404);
    HttpResponse<String> method = post("/v1/spec", "");
    assertThat(method.statusCode()).isEqualTo(405);
    assertThat(method.headers().firstValue("Allow")).hasValue("GET");
    ProtocolSchema.check("error", method);
    assertThat(post("/v1/status?status=sleeping", "").statusCode()).isEqualTo(400);
    assertThat(post("/v1/status", "").statusCode()).isEqualTo(400);
    assertThat(get("/v1/state?wait=soon").statusCode()).isEqualTo(400);
    assertThat(post("/v1/runs/r1/start?trigger=sometimes", "").statusCode()).isEqualTo(400);
    assertThat(post("/v1/runs/unknown/blocks/0/start", "").statusCode()).isEqualTo(404);
    assertThat(post("/v1/exec/x99/result?exit=0&stdoutBytes=0", "").statusCode()).isEqualTo(404);
    HttpResponse<String> big = post("/v1/status?status=running", "x".repeat(ImdsProtocol.MAX_BODY_BYTES + 1));
    assertThat(big.statusCode()).isEqualTo(413);
  }

  @Test
  void specListsEveryBlockInDocumentOrderWithTimeouts() throws Exception {
    HttpResponse<String> r = get("/v1/spec");
    ProtocolSchema.check("GET /v1/spec", r);
    List<String> blocks = r.body().lines().filter(l -> l.startsWith("block ")).toList();
    assertThat(blocks).hasSize(2);
    String[] b0 = blocks.get(0).split(" ");
    String[] b1 = blocks.get(1).split(" ");
    assertThat(List.of(b0[1], b0[2], b0[3], b0[4])).containsExactly("0", "shell", "initial", "90");
    assertThat(List.of(b1[1], b1[2], b1[3], b1[4])).containsExactly("1", "python", "reload", "2");
    assertThat(new String(Base64.getDecoder().decode(b0[5]), StandardCharsets.UTF_8)).isEqualTo("echo one\n");
    assertThat(r.body()).contains("version 7\n", "hash " + imds.stateHash() + "\n", "initialized 0\n");
  }

  @Test
  void metaDataMatchesTheSchema() throws Exception {
    HttpResponse<String> r = get("/v1/meta-data");
    ProtocolSchema.check("GET /v1/meta-data", r);
    assertThat(r.body()).contains("\"instanceId\":\"shop-web-1\"", "\"db-creds\"").doesNotContain("pa ss");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "unit/db/private_ips           | 10.0.1.1,10.0.1.2",
      "unit/db/public_ips            | 203.0.113.1,203.0.113.2",
      "unit/db/healthy_private_ips   | 10.0.1.1",
      "unit/db/unhealthy_private_ips | 10.0.1.2",
      "unit/db/healthy_public_ips    | 203.0.113.1",
      "unit/db/count                 | 2",
      "unit/db/healthy_count         | 1",
      "unit/db/instances             | db-1,db-0",
      "unit/self/private_ips         | 10.0.0.2,10.0.0.3",
      "instance/self/private_ip      | 10.0.0.3",
      "instance/self/public_ips      | 198.51.100.3",
      "instance/self/id              | shop-web-1",
      "instance/self/hostname        | web-1",
      "instance/self/index           | 1",
      "instance/self/spec_version    | 7",
      "instance/db-1/healthy         | false",
      "secret/db-creds/password      | pa ss",
      "pod/self/name                 | shop"})
  void queriesResolveSelectors(String path, String expected) throws Exception {
    HttpResponse<String> r = get("/v1/query/" + path);
    ProtocolSchema.check("GET /v1/query", r);
    assertThat(r.body()).isEqualTo(expected + "\n");
  }

  @Test
  void unknownOrMalformedQueriesAreErrors() throws Exception {
    assertThat(get("/v1/query/unit/nope/private_ips").statusCode()).isEqualTo(404);
    assertThat(get("/v1/query/unit/db/nope").statusCode()).isEqualTo(404);
    // a secret the unit does not declare: refused (issue 12), whether or not it exists
    HttpResponse<String> undeclared = get("/v1/query/secret/other/password");
    assertThat(undeclared.statusCode()).isEqualTo(403);
    assertThat(undeclared.body()).contains("does not declare +/secret/other");
    assertThat(get("/v1/query/secret/db-creds/nope").statusCode()).isEqualTo(404);
    HttpResponse<String> bad = get("/v1/query/bogus/db/private_ips");
    assertThat(bad.statusCode()).isEqualTo(400);
    ProtocolSchema.check("error", bad);
    assertThat(get("/v1/query/unit/db").statusCode()).isEqualTo(404);
  }

  @Test
  void longPollReturnsAsSoonAsTheStateChanges() throws Exception {
    String h1 = imds.stateHash();
    HttpResponse<String> now = get("/v1/state?hash=stale&wait=30");
    ProtocolSchema.check("GET /v1/state", now);
    assertThat(now.body()).isEqualTo("hash " + h1 + "\n");

    long t0 = System.nanoTime();
    HttpResponse<String> unchanged = get("/v1/state?hash=" + h1 + "&wait=1");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(5));
    assertThat(unchanged.body()).isEqualTo("hash " + h1 + "\n");

    CompletableFuture<HttpResponse<String>> poll = client.sendAsync(
        HttpRequest.newBuilder(URI.create(imds.baseUri() + "/v1/state?hash=" + h1 + "&wait=30"))
            .header(ImdsProtocol.TOKEN_HEADER, TOKEN).build(),
        HttpResponse.BodyHandlers.ofString());
    Thread.sleep(200);
    assertThat(poll).isNotDone();
    long t1 = System.nanoTime();
    assertThat(imds.update(imds.view().toBuilder().secret("db-creds", Map.of("password", "rotated")).build())).isTrue();
    HttpResponse<String> changed = poll.get(5, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - t1)).isLessThan(Duration.ofMillis(500));
    assertThat(changed.body()).isEqualTo("hash " + imds.stateHash() + "\n").isNotEqualTo("hash " + h1 + "\n");
    assertThat(events).anyMatch(e -> e instanceof AgentEvent.Heartbeat);
  }

  @Test
  void runReportsBecomeEventsAndOutputIsCutIntoLinesOnce() throws Exception {
    assertThat(post("/v1/runs/b1-1/start?trigger=first_boot&version=7&hash=abc&blocks=0,1", "").statusCode()).isEqualTo(204);
    assertThat(post("/v1/runs/b1-1/blocks/0/start", "").statusCode()).isEqualTo(204);
    String base = "/v1/runs/b1-1/blocks/0/output?stream=";
    ProtocolSchema.check("POST", post(base + "stdout&offset=0", "ab"));
    post(base + "stdout&offset=2", "c\nd");
    post(base + "stdout&offset=2", "c\nd");            // a resend changes nothing
    post(base + "stdout&offset=4", "de\nf\r\ng");       // overlaps by one byte
    post(base + "stderr&offset=0", "bad \u00fc\n");
    post("/v1/runs/b1-1/blocks/0/end?exit=3&timedOut=false", "");
    post("/v1/runs/b1-1/end?ok=false&failedBlock=0&exit=3", "");
    assertThat(awaitEvents(e -> e instanceof AgentEvent.RunFinished)).isTrue();
    List<String> out = new ArrayList<>();
    events.stream().filter(e -> e instanceof AgentEvent.OutputLine).map(e -> (AgentEvent.OutputLine) e)
        .forEach(l -> out.add(l.stream() + ":" + l.line()));
    assertThat(out).containsExactly("STDOUT:abc", "STDOUT:de", "STDOUT:f", "STDERR:bad \u00fc", "STDOUT:g");
    AgentEvent.RunFinished f = (AgentEvent.RunFinished) events.get(events.size() - 1);
    assertThat(f.trigger()).isEqualTo(dev.pods.Trigger.FIRST_BOOT);
    assertThat(f.failedBlock()).isZero();
    assertThat(f.exitCode()).isEqualTo(3);
    assertThat(imds.initialized()).isFalse();

    post("/v1/runs/b1-2/start?trigger=first_boot&version=7&hash=abc&blocks=0", "");
    post("/v1/runs/b1-2/end?ok=true", "");
    assertThat(imds.initialized()).isTrue();
    assertThat(get("/v1/spec").body()).contains("initialized 1\n");
  }

  @Test
  void execRequestsTravelByLongPollAndResultsCompleteTheFuture() throws Exception {
    HttpResponse<String> idle = get("/v1/exec/next?wait=0");
    assertThat(idle.statusCode()).isEqualTo(204);
    ProtocolSchema.check("GET /v1/exec/next", idle);

    CompletableFuture<ExecResult> f = imds.exec(
        new ExecRequest(List.of("printf", "%s", "a b"), "stdin\n".getBytes(StandardCharsets.UTF_8), Duration.ofMillis(2500)));
    HttpResponse<String> next = get("/v1/exec/next?wait=5");
    ProtocolSchema.check("GET /v1/exec/next", next);
    List<String> lines = next.body().lines().toList();
    String id = lines.get(0).substring(3);
    assertThat(lines.get(1)).isEqualTo("timeout 3");
    assertThat(lines.subList(2, 5)).extracting(l -> new String(Base64.getDecoder().decode(l.substring(4)), StandardCharsets.UTF_8))
        .containsExactly("printf", "%s", "a b");
    assertThat(lines.get(5)).isEqualTo("stdin " + Base64.getEncoder().encodeToString("stdin\n".getBytes(StandardCharsets.UTF_8)));

    assertThat(post("/v1/exec/" + id + "/result?exit=0&timedOut=false&stdoutBytes=99", "a b").statusCode()).isEqualTo(400);
    assertThat(f).isNotDone();
    assertThat(post("/v1/exec/" + id + "/result?exit=2&timedOut=false&stdoutBytes=3", "a bwarn").statusCode()).isEqualTo(204);
    ExecResult r = f.get(5, TimeUnit.SECONDS);
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stdoutText()).isEqualTo("a b");
    assertThat(r.stderrText()).isEqualTo("warn");
    assertThat(r.timedOut()).isFalse();
    // answered once: a second answer for the same id is unknown
    assertThat(post("/v1/exec/" + id + "/result?exit=0&stdoutBytes=0", "").statusCode()).isEqualTo(404);
    assertThat(awaitEvents(e -> e instanceof AgentEvent.ExecFinished x && x.execId().equals(id))).isTrue();
  }

  @Test
  void closingFailsPendingExecRequests() {
    CompletableFuture<ExecResult> f = imds.exec(ExecRequest.of("true"));
    imds.close();
    assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(PodsException.class);
    assertThat(imds.exec(ExecRequest.of("true"))).isCompletedExceptionally();
  }

  @Test
  void aSlowListenerNeverSlowsTheServer() throws Exception {
    List<AgentEvent> slow = new CopyOnWriteArrayList<>();
    try (ImdsServer s = ImdsServer.builder().binding(ImdsBinding.loopback()).view(view(unit, "1")).token(TOKEN)
        .listener(e -> {
          try {
            Thread.sleep(100);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
          }
          slow.add(e);
        }).start()) {
      long t0 = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(s.baseUri() + "/v1/status?status=running"))
            .header(ImdsProtocol.TOKEN_HEADER, TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build();
        assertThat(client.send(req, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(204);
      }
      // 20 events at 100 ms each would take 2 s if the server waited for the listener
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(1500));
      assertThat(s.lastStatus()).hasValue(AgentStatus.RUNNING);
    }
  }

  @Test
  void namespaceBindingBindsOnTheRunnersThread() throws Exception {
    List<String> threads = new CopyOnWriteArrayList<>();
    NamespaceRunner runner = new NamespaceRunner() {
      @Override
      public <T> T call(java.util.concurrent.Callable<T> action) throws Exception {
        // a real runner setns()es a dedicated thread first; here the dedicated thread stays in our namespace
        CompletableFuture<T> out = new CompletableFuture<>();
        Thread t = new Thread(() -> {
          threads.add(Thread.currentThread().getName());
          try {
            out.complete(action.call());
          } catch (Exception e) {
            out.completeExceptionally(e);
          }
        }, "netns-test");
        t.start();
        return out.get();
      }

      @Override
      public String describe() {
        return "netns test";
      }
    };
    ImdsBinding b = ImdsBinding.inNamespace(runner,
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
    assertThat(b.describe()).isEqualTo("127.0.0.1:0 in netns test");
    try (ImdsServer s = ImdsServer.builder().binding(b).view(view(unit, "1")).token(TOKEN).start()) {
      assertThat(threads).containsExactly("netns-test");
      HttpRequest req = HttpRequest.newBuilder(URI.create(s.baseUri() + "/v1/query/instance/self/id"))
          .header(ImdsProtocol.TOKEN_HEADER, TOKEN).build();
      assertThat(client.send(req, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("shop-web-1\n");
    }
  }

  private boolean awaitEvents(java.util.function.Predicate<AgentEvent> p) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < end) {
      if (events.stream().anyMatch(p)) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }
}
