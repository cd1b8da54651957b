package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.InstanceStatus;
import dev.pods.Pod;
import dev.pods.RestartPolicy;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.ImdsProtocol;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.PeerInstance;
import dev.pods.spec.HealthCheck;
import dev.pods.spi.DomainState;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import dev.pods.testing.ManualClock;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Declared health checks (readiness and liveness, tcp and http from the instance's namespace) and the restart of a
 * guest silent for twice its liveness timeout, on the in-memory hypervisor and network driver with a manual clock:
 * the runtime's watch ({@link DefaultPodRuntime#tick}) runs after the clock moved, and the checks run on the test's
 * thread (a direct executor), so nothing sleeps. A socket bound in an instance's namespace stands in for its guest's
 * service.
 */
class HealthCheckTest {
  private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
  private static final HealthCheck READY_TCP = HealthCheck.tcp(8080).interval(Duration.ofSeconds(2))
      .timeout(Duration.ofSeconds(1)).failures(2);
  private static final HealthCheck LIVE_HTTP = HealthCheck.http("/healthz", 8081).interval(Duration.ofSeconds(2))
      .timeout(Duration.ofSeconds(1)).failures(1).grace(Duration.ofSeconds(4));
  @TempDir Path tmp;
  private final ManualClock clock = new ManualClock(T0);
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private DefaultPodRuntime runtime;
  private Deployment d;
  private final AtomicInteger runs = new AtomicInteger();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create(clock, dev.pods.spi.Acceleration.TCG);
    net = new InMemoryNetworkDriver();
    BootImage image = FakeRuntimes.bootImage(tmp);
    runtime = (DefaultPodRuntime) FakeRuntimes.builder(tmp, hv, net, image)
        .owner("test/checks")
        .executor(Runnable::run)
        .clock(clock).build();
    d = runtime.deploy(Pod.builder().name("c")
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192).readinessCheck(READY_TCP).build())
        .unit(Unit.builder().name("app").image("tiny").memoryMib(192).livenessCheck(LIVE_HTTP).build())
        .unit(Unit.builder().name("keep").image("tiny").memoryMib(192).restart(RestartPolicy.NEVER)
            .livenessCheck(LIVE_HTTP).build())
        .unit(Unit.builder().name("quiet").image("tiny").memoryMib(192).livenessTimeout(Duration.ofSeconds(9))
            .build())
        .unit(Unit.builder().name("job").image("tiny").memoryMib(192).livenessTimeout(Duration.ofSeconds(9))
            .restart(RestartPolicy.ON_FAILURE).build())
        .unit(Unit.builder().name("once").image("tiny").memoryMib(192).livenessTimeout(Duration.ofSeconds(9))
            .restart(RestartPolicy.NEVER).build())
        .build());
    for (Instance i : d.instances()) {
      run(i, Trigger.FIRST_BOOT);
      assertThat(i.state()).isEqualTo(InstanceState.READY);
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      for (AutoCloseable c : toClose) {
        c.close();
      }
      d.destroy();
    } finally {
      runtime.close();
      hv.close();
      net.close();
    }
  }

  private static DefaultInstance impl(Instance i) {
    return (DefaultInstance) i;
  }

  /** A whole agent run of {@code i} that went well, as its agent reports it. */
  private void run(Instance i, Trigger trigger) {
    String run = "r" + runs.incrementAndGet();
    Instant at = clock.instant();
    impl(i).onAgentEvent(new AgentEvent.RunStarted(i.id(), at, run, trigger, "v", "h", List.of(0)));
    impl(i).onAgentEvent(new AgentEvent.RunFinished(i.id(), at, run, trigger, true, -1, 0, Duration.ofMillis(3)));
  }

  /** The names of {@code unit}'s instances that {@code viewer}'s metadata service lists. */
  private static List<String> peers(Instance viewer, String unit) {
    ImdsServer s = impl(viewer).imds();
    assertThat(s).isNotNull();
    return s.view().units().get(unit).stream().map(PeerInstance::name).toList();
  }

  /** An authenticated request of {@code i}'s agent to its metadata service: a contact. */
  private static void contact(Instance i) throws Exception {
    ImdsServer s = impl(i).imds();
    assertThat(s).isNotNull();
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        s.baseUri().resolve(ImdsProtocol.PREFIX + "/spec")).header(ImdsProtocol.TOKEN_HEADER, impl(i).token)
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  /** Listens on {@code port} of {@code i}'s address in its namespace (its guest's service); closed after the test. */
  private ServerSocket listen(Instance i, int port) {
    ServerSocket s = net.bindInNamespace(i.id(), new InetSocketAddress(i.privateAddress(), port));
    toClose.add(s);
    return s;
  }

  /** An HTTP server on {@code port} of {@code i} answering every request with the status {@code status} holds. */
  private void serveHttp(Instance i, int port, AtomicInteger status) {
    ServerSocket s = listen(i, port);
    Thread t = new Thread(() -> {
      while (!s.isClosed()) {
        try (Socket c = s.accept()) {
          InputStream in = c.getInputStream();
          int n = 0;
          int b;
          while (n < 4 && (b = in.read()) >= 0) { // up to the empty line
            n = (b == '\r' || b == '\n') ? n + 1 : 0;
          }
          OutputStream out = c.getOutputStream();
          out.write(("HTTP/1.1 " + status.get() + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // closed at the end of the test
        }
      }
    }, "test-http-" + i.name());
    t.setDaemon(true);
    t.start();
  }

  /** Moves the clock by {@code seconds} and runs one watch, the guests of {@code alive} contacting first. */
  private void after(int seconds, Instance... alive) throws Exception {
    clock.advance(Duration.ofSeconds(seconds));
    for (Instance i : alive) {
      contact(i);
    }
    runtime.tick(false);
  }

  @Test
  void aFailingReadinessCheckDropsTheInstanceFromItsPeersUntilItPassesAgain() throws Exception {
    Instance web0 = d.instance("web", 0);
    Instance web1 = d.instance("web", 1);
    ServerSocket s0 = listen(web0, 8080);
    listen(web1, 8080);
    after(0);
    after(2);
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    assertThat(peers(web1, "web")).containsExactly("web-0", "web-1");

    s0.close(); // its service stops: one failure is not enough (failures: 2)
    after(2);
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    after(1); // not due yet: the interval is 2 s
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    after(1);
    InstanceStatus st = web0.status();
    assertThat(st.state()).isEqualTo(InstanceState.UNHEALTHY);
    assertThat(st.reason()).startsWith("its readiness check tcp port 8080 failed 2 times in a row (last: ")
        .contains("connection refused");
    assertThat(st.restartAt()).isNull();
    assertThat(peers(web1, "web")).containsExactly("web-1");
    assertThat(hv.state(web0.domainName())).isEqualTo(DomainState.RUNNING); // readiness never restarts

    listen(web0, 8080);
    after(2);
    assertThat(web0.status().state()).isEqualTo(InstanceState.READY);
    assertThat(web0.status().reason()).isEqualTo("its health checks pass again at 10:00:08 UTC");
    assertThat(peers(web1, "web")).containsExactly("web-0", "web-1");
  }

  @Test
  void aFailingLivenessCheckPowersTheDomainOffAndTheRestartPolicyStartsItAgain() throws Exception {
    Instance app = d.instance("app", 0);
    String domain = app.domainName();
    AtomicInteger status = new AtomicInteger(503);
    serveHttp(app, 8081, status);
    after(2); // within its grace (4 s): not checked yet
    assertThat(app.state()).isEqualTo(InstanceState.READY);
    status.set(200);
    after(2);
    after(2);
    assertThat(app.state()).isEqualTo(InstanceState.READY);

    status.set(500);
    after(2);
    InstanceStatus st = app.status();
    assertThat(st.state()).isEqualTo(InstanceState.STOPPED);
    assertThat(st.reason()).isEqualTo("its liveness check http GET /healthz on port 8081 failed 1 time in a row "
        + "(last: status 500); its domain was powered off at 10:00:08 UTC");
    assertThat(st.restartAt()).isEqualTo(clock.instant().plus(RestartPolicy.FIRST_BACKOFF));
    assertThat(hv.state(domain)).isEqualTo(DomainState.SHUT_OFF);
    assertThat(peers(d.instance("web", 0), "app")).isEmpty();

    status.set(200);
    after(10);
    assertThat(app.status().state()).isEqualTo(InstanceState.BOOTING);
    assertThat(app.status().attempt()).isEqualTo(1);
    assertThat(hv.state(domain)).isEqualTo(DomainState.RUNNING);
    assertThat(hv.domainNames()).hasSize(7); // the same domain: none added
    run(app, Trigger.REBOOT);
    assertThat(app.state()).isEqualTo(InstanceState.READY);
    after(4); // its grace again after the new boot, then a pass
    after(2);
    assertThat(app.state()).isEqualTo(InstanceState.READY);
    assertThat(peers(d.instance("web", 0), "app")).containsExactly("app-0");
  }

  @Test
  void underRestartNeverAFailingLivenessCheckLeavesItUnhealthyUntilItPasses() throws Exception {
    Instance keep = d.instance("keep", 0);
    AtomicInteger status = new AtomicInteger(200);
    serveHttp(keep, 8081, status);
    after(4);
    assertThat(keep.state()).isEqualTo(InstanceState.READY);
    status.set(404);
    after(2);
    assertThat(keep.status().state()).isEqualTo(InstanceState.UNHEALTHY);
    assertThat(keep.status().reason()).isEqualTo("its liveness check http GET /healthz on port 8081 failed 1 time "
        + "in a row (last: status 404)");
    assertThat(hv.state(keep.domainName())).isEqualTo(DomainState.RUNNING);
    status.set(301);
    after(2);
    assertThat(keep.state()).isEqualTo(InstanceState.READY);
  }

  @Test
  void aGuestSilentForTwiceItsLivenessTimeoutIsRestartedUnlessItsPolicyIsNever() throws Exception {
    Instance quiet = d.instance("quiet", 0);
    Instance job = d.instance("job", 0);
    Instance once = d.instance("once", 0);
    after(10);
    assertThat(List.of(quiet.state(), job.state(), once.state())).containsOnly(InstanceState.UNHEALTHY);
    after(8); // 18 s: not beyond twice 9 s
    assertThat(List.of(quiet.state(), job.state(), once.state())).containsOnly(InstanceState.UNHEALTHY);
    after(1);
    for (Instance i : List.of(quiet, job)) {
      InstanceStatus st = i.status();
      assertThat(st.state()).isEqualTo(InstanceState.STOPPED);
      assertThat(st.reason()).isEqualTo("no contact from its guest since 10:00:00 UTC (twice its liveness timeout "
          + "of 9 s); its domain was powered off at 10:00:19 UTC");
      assertThat(st.restartAt()).isEqualTo(clock.instant().plus(RestartPolicy.FIRST_BACKOFF));
      assertThat(hv.state(i.domainName())).isEqualTo(DomainState.SHUT_OFF);
    }
    assertThat(once.status().state()).isEqualTo(InstanceState.UNHEALTHY); // never: left as it is
    assertThat(hv.state(once.domainName())).isEqualTo(DomainState.RUNNING);

    after(10, once);
    assertThat(quiet.status().state()).isEqualTo(InstanceState.BOOTING);
    assertThat(job.status().state()).isEqualTo(InstanceState.BOOTING);
    assertThat(once.status().state()).isEqualTo(InstanceState.READY);
    assertThat(once.status().reason()).isEqualTo("its guest made contact again at 10:00:29 UTC");
  }

  @Test
  void aChangeOfTheChecksIsLiveAndTheNewChecksRunAtTheNextWatch() throws Exception {
    Instance web0 = d.instance("web", 0);
    listen(web0, 8080);
    listen(d.instance("web", 1), 8080);
    after(0);
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    Unit web = d.pod().unit("web").orElseThrow();
    Pod next = d.pod().withUnit(web.toBuilder().readinessChecks(List.of(HealthCheck.tcp(9090)
        .interval(Duration.ofSeconds(2)).timeout(Duration.ofSeconds(1)).failures(1))).build());
    d.plan(next).apply();
    assertThat(web0.domainName()).isEqualTo(d.instance("web", 0).domainName());
    assertThat(web0.state()).isEqualTo(InstanceState.READY); // not recreated
    after(2);
    assertThat(web0.status().state()).isEqualTo(InstanceState.UNHEALTHY);
    assertThat(web0.status().reason()).startsWith("its readiness check tcp port 9090 failed 1 time in a row");
  }

  @Test
  void aNetworkRemovedBehindTheRuntimesBackIsBuiltAgainAndItsMetadataServiceServesAgain() throws Exception {
    Instance web0 = d.instance("web", 0);
    ImdsServer old = impl(web0).imds();
    var spec = net.find(web0.id()).orElseThrow().spec();
    listen(web0, 8080); // its readiness check's port
    clock.advance(Duration.ofSeconds(50));
    net.delete(web0.id()); // as when its namespace is deleted by hand
    runtime.tick(true);
    assertThat(net.find(web0.id())).isPresent();
    assertThat(net.find(web0.id()).orElseThrow().spec().privateAddress()).isEqualTo(spec.privateAddress());
    assertThat(net.find(web0.id()).orElseThrow().spec().mac()).isEqualTo(spec.mac());
    assertThat(impl(web0).imds()).isNotSameAs(old);
    InstanceStatus st = web0.status(); // its tap went too: a new emulator attaches to the new one
    assertThat(st.state()).isEqualTo(InstanceState.BOOTING);
    assertThat(st.reason()).isEqualTo("its network namespace was deleted and built again at 10:00:50 UTC; its "
        + "domain was started again to attach to it");
    assertThat(hv.state(web0.domainName())).isEqualTo(DomainState.RUNNING);
    listen(web0, 8080); // its service listens in the new namespace
    contact(web0); // the same token opens the new metadata service
    run(web0, Trigger.REBOOT);
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    clock.advance(Duration.ofSeconds(50)); // 100 s after its boot, 50 s after the new service started: not silent
    runtime.tick(false);
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    assertThat(hv.domainNames()).hasSize(7);
  }

  @Test
  void badChecksAreRefusedNamingTheValue() {
    assertThatThrownBy(() -> HealthCheck.tcp(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the port of a tcp check is 1-65535, not 0");
    assertThatThrownBy(() -> HealthCheck.http("healthz", 80)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the path of an http check starts with / and has no spaces or control characters, not "
            + "'healthz'");
    assertThatThrownBy(() -> HealthCheck.exec()).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("an exec check needs a command");
    assertThatThrownBy(() -> HealthCheck.tcp(22).timeout(Duration.ofSeconds(11)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeout is whole seconds from 1 s to the interval (10 s), not 11 s");
    assertThatThrownBy(() -> HealthCheck.tcp(22).failures(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("failures is 1-100, not 0");
    assertThatThrownBy(() -> HealthCheck.tcp(22).grace(Duration.ofMillis(1500)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("grace is whole seconds from 0 s to 1 h, not 1500 ms");
    assertThat(HealthCheck.tcp(22).interval(Duration.ofSeconds(2)).timeout()).isEqualTo(Duration.ofSeconds(2));
  }
}
