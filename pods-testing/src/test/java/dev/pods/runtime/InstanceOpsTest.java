package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.WaitTimeoutException;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.ImdsServer;
import dev.pods.OutputStream;
import dev.pods.spi.DomainState;
import dev.pods.spi.HypervisorEvent;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Waits, port forwarding and restarts against the in-memory hypervisor and network driver (whose "namespaces" are
 * the test's own: a socket bound with {@code bindInNamespace} at the VM's address stands in for a guest service),
 * with stand-in agents: the test hands the instances the reports a guest agent would send.
 */
class InstanceOpsTest {
  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private PodRuntime runtime;
  private Deployment d;
  private final ExecutorService bg = Executors.newCachedThreadPool();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    BootImage image = FakeRuntimes.bootImage(tmp);
    runtime = FakeRuntimes.builder(tmp, hv, net, image)
        .executor(Runnable::run).build();
    d = runtime.deploy(Pod.builder().name("ops")
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192)
            .script(Script.shell(Phase.REBOOT, "httpd\n")).build())
        .build());
  }

  @AfterEach
  void tearDown() throws Exception {
    bg.shutdownNow();
    for (AutoCloseable c : toClose) {
      c.close();
    }
    d.destroy();
    runtime.close();
    hv.close();
    net.close();
  }

  private Instance web(int i) {
    return d.instance("web", i);
  }

  private static DefaultInstance impl(Instance i) {
    return (DefaultInstance) i;
  }

  private static String hash(Instance i) {
    ImdsServer s = impl(i).imds();
    assertThat(s).isNotNull();
    return s.stateHash();
  }

  /** A whole agent run: started, lines, finished. */
  private static void run(Instance i, String run, Trigger trigger, boolean ok, String... lines) {
    started(i, run, trigger);
    for (String l : lines) {
      line(i, run, l);
    }
    finished(i, run, trigger, ok);
  }

  private static void started(Instance i, String run, Trigger trigger) {
    impl(i).onAgentEvent(new AgentEvent.RunStarted(i.id(), Instant.now(), run, trigger, "v", hash(i), List.of(0)));
  }

  private static void line(Instance i, String run, String line) {
    impl(i).onAgentEvent(new AgentEvent.OutputLine(i.id(), Instant.now(), run, 0, OutputStream.STDOUT, line));
  }

  private static void finished(Instance i, String run, Trigger trigger, boolean ok) {
    impl(i).onAgentEvent(new AgentEvent.RunFinished(i.id(), Instant.now(), run, trigger, ok, ok ? -1 : 0,
        ok ? 0 : 7, Duration.ofMillis(3)));
  }

  private Future<?> later(long millis, Runnable r) {
    return bg.submit(() -> {
      TimeUnit.MILLISECONDS.sleep(millis);
      r.run();
      return null;
    });
  }

  // ------------------------------------------------------------------------------------------ waits

  @Test
  void forPhaseInitialReturnsWhenTheFirstBootsRunFinishesAndAtOnceAfterwards() throws Exception {
    assertThatThrownBy(() -> web(0).await(Wait.forPhase(Phase.INITIAL), Duration.ofMillis(50)))
        .isInstanceOf(WaitTimeoutException.class);
    Future<?> f = later(100, () -> run(web(0), "r1", Trigger.FIRST_BOOT, true, "up"));
    web(0).await(Wait.forPhase(Phase.INITIAL), Duration.ofSeconds(10));
    f.get(10, TimeUnit.SECONDS);
    assertThat(web(0).state()).isEqualTo(InstanceState.READY);
    long t0 = System.nanoTime();
    web(0).await(Wait.forPhase(Phase.INITIAL), Duration.ofSeconds(10));
    web(0).await(Wait.forPhase(Phase.REBOOT), Duration.ofSeconds(10)); // cumulative: the first boot ran it
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
  }

  @Test
  void deploymentAwaitWaitsForEveryInstanceAndItsTimeoutNamesOnlyTheMissingOnes() {
    run(web(0), "r1", Trigger.FIRST_BOOT, true);
    started(web(1), "r1", Trigger.FIRST_BOOT);
    line(web(1), "r1", "fetching packages");
    line(web(1), "r1", "still fetching");
    WaitTimeoutException e = catchThrowableOfType(WaitTimeoutException.class,
        () -> d.await(Wait.forPhase(Phase.INITIAL), Duration.ofMillis(300)));
    assertThat(e.condition()).isEqualTo(Wait.forPhase(Phase.INITIAL));
    assertThat(e.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    assertThat(e).hasMessageContaining("pod ops: phase initial did not hold within")
        .hasMessageContaining("instance web-1 is INITIALIZING, no phase initial")
        .hasMessageContaining("last output lines:\n  fetching packages\n  still fetching")
        .hasMessageNotContaining("web-0");

    later(100, () -> finished(web(1), "r1", Trigger.FIRST_BOOT, true));
    d.await(Wait.forPhase(Phase.INITIAL), Duration.ofSeconds(10));
    assertThat(d.isReady()).isTrue();
  }

  @Test
  void aTimeoutsTailShowsHostileGuestOutputEscapedAndCut() {
    started(web(1), "r1", Trigger.FIRST_BOOT);
    line(web(1), "r1", "\033[2J\033[Hsecret\rok");
    line(web(1), "r1", "x".repeat(600));
    WaitTimeoutException e = catchThrowableOfType(WaitTimeoutException.class,
        () -> web(1).await(Wait.forPhase(Phase.INITIAL), Duration.ofMillis(100)));

    assertThat(e).hasMessageContaining("last output lines:\n  \\e[2J\\e[Hsecret\\rok\n  " + "x".repeat(500)
        + "... (100 more characters)");
    assertThat(e.getMessage()).doesNotContain("\033").doesNotContain("\r");
  }

  @Test
  void forOutputCountsLinesPrintedBeforeTheWaitAndCanAskForSeveral() {
    run(web(0), "r1", Trigger.FIRST_BOOT, true, "listening on :80", "noise");
    web(0).await(Wait.forOutput("listening on :\\d+"), Duration.ofSeconds(5));

    later(100, () -> run(web(0), "r2", Trigger.CLUSTER_CHANGE, true, "listening on :81"));
    web(0).await(Wait.forOutput("listening on", 2), Duration.ofSeconds(10));

    WaitTimeoutException e = catchThrowableOfType(WaitTimeoutException.class,
        () -> web(0).await(Wait.forOutput("listening", 3), Duration.ofMillis(200)));
    assertThat(e).hasMessageContaining("instance web-0 is READY, no output /listening/ 3 times")
        .hasMessageContaining("last output lines:\n  listening on :80\n  noise\n  listening on :81");
    assertThatThrownBy(() -> Wait.forOutput("(unclosed")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a regular expression: (unclosed");
    assertThatThrownBy(() -> Wait.forOutput("x", 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aWaitFailsFastWhenTheInstanceFailsOrIsDestroyed() throws Exception {
    later(100, () -> run(web(0), "r1", Trigger.FIRST_BOOT, false, "E: disk full"));
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> web(0).await(Wait.forOutput("never printed"), Duration.ofMinutes(5)))
        .isInstanceOf(PodsException.class)
        .isNotInstanceOf(WaitTimeoutException.class)
        .hasMessageContaining("instance web-0 of pod ops failed while waiting for output /never printed/")
        .hasMessageContaining("exit code 7")
        .hasMessageContaining("E: disk full");
    // the deployment-wide wait fails on the failed instance too, without waiting for the other one
    assertThatThrownBy(() -> d.await(Wait.forPhase(Phase.INITIAL), Duration.ofMinutes(5)))
        .hasMessageContaining("instance web-0 of pod ops failed");

    Future<?> destroy = later(200, () -> d.destroy());
    assertThatThrownBy(() -> web(1).await(Wait.forPort(80), Duration.ofMinutes(5)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("instance web-1 of pod ops was destroyed while waiting for port 80");
    destroy.get(30, TimeUnit.SECONDS);
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(30));
    assertThatThrownBy(() -> d.await(Wait.forPhase(Phase.INITIAL), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void forPhaseReloadHoldsOnceTheCurrentStateWasAppliedAndFailsFastOnAFailedReload() throws Exception {
    run(web(0), "r1", Trigger.FIRST_BOOT, true);
    web(0).await(Wait.forPhase(Phase.RELOAD), Duration.ofSeconds(5)); // the first boot ran the reload blocks

    ImdsServer imds = impl(web(0)).imds();
    assertThat(imds.update(imds.view().toBuilder().secret("db", Map.of("password", "s3")).build())).isTrue();
    assertThatThrownBy(() -> web(0).await(Wait.forPhase(Phase.RELOAD), Duration.ofMillis(200)))
        .isInstanceOf(WaitTimeoutException.class).hasMessageContaining("no phase reload");
    later(100, () -> run(web(0), "r2", Trigger.CLUSTER_CHANGE, true, "reloaded"));
    web(0).await(Wait.forPhase(Phase.RELOAD), Duration.ofSeconds(10));

    imds.update(imds.view().toBuilder().secret("db", Map.of("password", "s4")).build());
    later(100, () -> run(web(0), "r3", Trigger.CLUSTER_CHANGE, false, "nginx: config error"));
    assertThatThrownBy(() -> web(0).await(Wait.forPhase(Phase.RELOAD), Duration.ofMinutes(5)))
        .isInstanceOf(PodsException.class)
        .isNotInstanceOf(WaitTimeoutException.class)
        .hasMessageContaining("its cluster_change run failed in block 0 with exit code 7")
        .hasMessageContaining("nginx: config error");
    assertThat(web(0).state()).isEqualTo(InstanceState.READY);
  }

  @Test
  void forPortConnectsFromTheInstancesNamespaceAndTimesOutWithTheLastError() throws Exception {
    Instance w = web(0);
    later(300, () -> toClose.add(net.bindInNamespace(w.id(), new InetSocketAddress(w.privateAddress(), 80))));
    w.await(Wait.forPort(80), Duration.ofSeconds(10));

    WaitTimeoutException e = catchThrowableOfType(WaitTimeoutException.class,
        () -> w.await(Wait.allOf(Wait.forPort(80), Wait.forPort(81)), Duration.ofMillis(700)));
    assertThat(e).hasMessageContaining("port 80 and port 81 did not hold")
        .hasMessageContaining("instance web-0 is BOOTING, no port 81 (last attempt: ")
        .hasMessageContaining("connection refused")
        .hasMessageNotContaining("no port 80");
    assertThatThrownBy(() -> Wait.forPort(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Wait.allOf()).isInstanceOf(IllegalArgumentException.class);
  }

  // ------------------------------------------------------------------------------------------ endpoint

  /**
   * A stand-in guest service: reads a request to its end, answers {@code got <request>}, then closes. Counts the
   * connections it accepted in {@code accepted} and those it answered in {@code served}.
   */
  private ServerSocket service(Instance i, int port, AtomicInteger served, AtomicInteger accepted)
      throws IOException {
    ServerSocket s = net.bindInNamespace(i.id(), new InetSocketAddress(i.privateAddress(), port));
    toClose.add(s);
    bg.submit(() -> {
      while (!s.isClosed()) {
        try (Socket c = s.accept()) {
          accepted.incrementAndGet();
          byte[] req = c.getInputStream().readAllBytes(); // until the client's half-close
          c.getOutputStream().write(("got " + new String(req, StandardCharsets.UTF_8)).getBytes(
              StandardCharsets.UTF_8));
          served.incrementAndGet();
        } catch (IOException e) {
          // closed
        }
      }
      return null;
    });
    return s;
  }

  private static String exchange(InetSocketAddress a, String request) throws IOException {
    try (Socket c = new Socket(a.getAddress(), a.getPort())) {
      c.setSoTimeout(10_000);
      c.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      c.shutdownOutput();
      return new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * Whether a connection to {@code a} reaches the stand-in service counting into {@code accepted}. Once the
   * forwarder is closed its port is free, and any process on the host may bind it: so this asks whether the
   * service saw the connection, not whether something answered.
   */
  private static boolean reaches(InetSocketAddress a, AtomicInteger accepted) throws InterruptedException {
    int before = accepted.get();
    try (Socket c = new Socket(a.getAddress(), a.getPort())) {
      c.shutdownOutput();
      long t0 = System.nanoTime();
      while (accepted.get() == before && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2)) {
        TimeUnit.MILLISECONDS.sleep(10);
      }
    } catch (IOException refused) {
      TimeUnit.MILLISECONDS.sleep(300); // a forwarder still alive would have reached the service by now
    }
    return accepted.get() > before;
  }

  @Test
  void endpointForwardsBothWaysWithHalfCloseAndIsReused() throws Exception {
    Instance w = web(1);
    AtomicInteger served = new AtomicInteger();
    service(w, 8080, served, new AtomicInteger());
    InetSocketAddress a = w.endpoint(8080);
    assertThat(a.getAddress().isLoopbackAddress()).isTrue();
    assertThat(a.getPort()).isNotEqualTo(8080);
    assertThat(w.endpoint(8080)).isEqualTo(a);
    assertThat(web(0).endpoint(8080)).isNotEqualTo(a);

    assertThat(exchange(a, "hello")).isEqualTo("got hello");
    // several at once, larger than one buffer
    String big = "x".repeat(200_000);
    List<CompletableFuture<String>> all = new ArrayList<>();
    for (int k = 0; k < 4; k++) {
      String req = big + k;
      all.add(CompletableFuture.supplyAsync(() -> {
        try {
          return exchange(a, req);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }, bg));
    }
    for (int k = 0; k < 4; k++) {
      assertThat(all.get(k).get(30, TimeUnit.SECONDS)).isEqualTo("got " + big + k);
    }
    assertThat(served).hasValue(5);

    // nothing listens on 9 in the instance: the client is reset (or sees the end of stream), never hangs
    InetSocketAddress closedPort = w.endpoint(9);
    try (Socket c = new Socket(closedPort.getAddress(), closedPort.getPort())) {
      c.setSoTimeout(10_000);
      InputStream in = c.getInputStream();
      int r;
      try {
        r = in.read();
      } catch (IOException reset) {
        r = -1;
      }
      assertThat(r).isEqualTo(-1);
    }
    assertThatThrownBy(() -> w.endpoint(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> w.endpoint(65536)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void endpointsAreClosedWhenTheDeploymentIsDestroyed() throws Exception {
    Instance w = web(0);
    AtomicInteger accepted = new AtomicInteger();
    service(w, 80, new AtomicInteger(), accepted);
    InetSocketAddress a = w.endpoint(80);
    // a connection open at destroy time is cut as well
    Socket open = new Socket(a.getAddress(), a.getPort());
    open.setSoTimeout(10_000);
    long t0 = System.nanoTime();
    while (accepted.get() < 1 && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
      TimeUnit.MILLISECONDS.sleep(10);
    }
    assertThat(accepted).hasValue(1);
    PortForwarder f = impl(w).forwarder(80).orElseThrow();
    d.destroy();
    assertThat(f.isClosed()).isTrue();
    assertThat(impl(w).forwarder(80)).isEmpty();
    assertThat(reaches(a, accepted)).as("the endpoint forwards nothing after destroy").isFalse();
    int r;
    try {
      r = open.getInputStream().read();
    } catch (IOException reset) {
      r = -1;
    }
    assertThat(r).isEqualTo(-1);
    open.close();
    assertThatThrownBy(() -> w.endpoint(80)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("instance web-0 has no network");
  }

  @Test
  void endpointsAreClosedWhenTheRuntimeIsClosed() throws Exception {
    Instance w = web(0);
    AtomicInteger accepted = new AtomicInteger();
    service(w, 80, new AtomicInteger(), accepted);
    InetSocketAddress a = w.endpoint(80);
    assertThat(reaches(a, accepted)).isTrue();
    PortForwarder f = impl(w).forwarder(80).orElseThrow();
    runtime.close();
    assertThat(f.isClosed()).isTrue();
    assertThat(reaches(a, accepted)).as("the endpoint forwards nothing after close").isFalse();
    assertThatThrownBy(() -> w.endpoint(81)).isInstanceOf(IllegalStateException.class);
  }

  // ------------------------------------------------------------------------------------------ restart

  @Test
  void restartRebootsTheDomainAndTheInstanceGoesThroughBootingBackToReady() throws Exception {
    Instance w = web(0);
    assertThatThrownBy(w::restart).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("never finished its first boot");
    run(w, "r1", Trigger.FIRST_BOOT, true, "httpd started");
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    d.events().subscribe(events::add);
    List<HypervisorEvent> hvEvents = new CopyOnWriteArrayList<>();
    hv.subscribe(hvEvents::add);

    w.restart();
    assertThat(hvEvents).extracting(HypervisorEvent::type).containsExactly(HypervisorEvent.Type.REBOOTED);
    assertThat(w.state()).isEqualTo(InstanceState.BOOTING);
    assertThat(d.isReady()).isFalse();
    assertThatThrownBy(() -> w.await(Wait.forPhase(Phase.REBOOT), Duration.ofMillis(200)))
        .isInstanceOf(WaitTimeoutException.class).hasMessageContaining("instance web-0 is BOOTING, no phase reboot");
    w.await(Wait.forPhase(Phase.INITIAL), Duration.ofSeconds(1)); // done once, stays done

    later(100, () -> run(w, "b2-r1", Trigger.REBOOT, true, "httpd started"));
    w.await(Wait.allOf(Wait.forPhase(Phase.REBOOT), Wait.forOutput("httpd started", 2)), Duration.ofSeconds(10));
    assertThat(w.state()).isEqualTo(InstanceState.READY);
    assertThat(hv.state(w.domainName())).isEqualTo(DomainState.RUNNING);
    long t0 = System.nanoTime();
    while (events.stream().noneMatch(e -> e instanceof PodEvent.StateChanged c && c.to() == InstanceState.READY)
        && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
      TimeUnit.MILLISECONDS.sleep(20);
    }
    assertThat(events).filteredOn(PodEvent.StateChanged.class::isInstance)
        .extracting(e -> ((PodEvent.StateChanged) e).from() + "->" + ((PodEvent.StateChanged) e).to())
        .containsExactly("READY->BOOTING", "BOOTING->READY");
    assertThat(events).filteredOn(PodEvent.PhaseStarted.class::isInstance)
        .extracting(e -> ((PodEvent.PhaseStarted) e).trigger()).containsExactly(Trigger.REBOOT);
  }

  @Test
  void aGuestThatIgnoresTheRebootIsPoweredOffAndOnAfterTheGracePeriod() {
    Instance w = web(0);
    run(w, "r1", Trigger.FIRST_BOOT, true);
    hv.ignoreShutdown(w.domainName());
    List<String> hvEvents = new CopyOnWriteArrayList<>();
    hv.subscribe(e -> hvEvents.add(e.type() + " " + e.detail()));
    long t0 = System.nanoTime();
    w.restart(Duration.ofMillis(300));
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
    assertThat(hvEvents).containsExactly("STOPPED DESTROYED", "STARTED BOOTED");
    assertThat(w.state()).isEqualTo(InstanceState.BOOTING);

    // no grace: powered off and on without asking the guest (this one would reboot when asked)
    Instance other = web(1);
    run(other, "r1", Trigger.FIRST_BOOT, true);
    hvEvents.clear();
    other.restart(Duration.ZERO);
    assertThat(hvEvents).containsExactly("STOPPED DESTROYED", "STARTED BOOTED");
    assertThat(other.state()).isEqualTo(InstanceState.BOOTING);

    // a stopped domain is just started
    hv.stop(w.domainName(), Duration.ZERO);
    hvEvents.clear();
    w.restart(Duration.ofMinutes(5));
    assertThat(hvEvents).containsExactly("STARTED BOOTED");
  }

  @Test
  void aFailedRebootRunFailsTheInstanceAndAFailedHypervisorCallRestoresItsState() {
    Instance w = web(0);
    run(w, "r1", Trigger.FIRST_BOOT, true);
    hv.failNext("reboot");
    assertThatThrownBy(w::restart).isInstanceOf(PodsException.class).hasMessageContaining("injected");
    assertThat(w.state()).isEqualTo(InstanceState.READY);
    w.await(Wait.forPhase(Phase.REBOOT), Duration.ofSeconds(1));

    w.restart();
    later(100, () -> run(w, "b2-r1", Trigger.REBOOT, false, "httpd: bind: address in use"));
    assertThatThrownBy(() -> w.await(Wait.forPhase(Phase.REBOOT), Duration.ofMinutes(5)))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("the reboot phase of instance web-0 failed in block 0 with exit code 7")
        .hasMessageContaining("httpd: bind: address in use");
    assertThat(w.state()).isEqualTo(InstanceState.FAILED);
    assertThat(hv.state(w.domainName())).isEqualTo(DomainState.RUNNING);
    assertThatThrownBy(w::restart).isInstanceOf(IllegalStateException.class).hasMessageContaining("FAILED");
  }

  @Test
  void aRebootTheGuestDidByItselfGoesThroughBootingToo() {
    Instance w = web(1);
    run(w, "r1", Trigger.FIRST_BOOT, true);
    started(w, "b2-r1", Trigger.REBOOT);
    assertThat(w.state()).isEqualTo(InstanceState.BOOTING);
    finished(w, "b2-r1", Trigger.REBOOT, true);
    assertThat(w.state()).isEqualTo(InstanceState.READY);
  }
}
