package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.InstanceStatus;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.RestartPolicy;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.imds.AgentEvent;
import dev.pods.ExecRequest;
import dev.pods.imds.ImdsProtocol;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.PeerInstance;
import dev.pods.spi.DomainState;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import dev.pods.testing.ManualClock;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Detection, liveness, restart policy and what callers are told, on the in-memory hypervisor (which stops, kills
 * and crashes domains as libvirt reports it) with a manual clock: the runtime's watch ({@link DefaultPodRuntime#tick})
 * is called after moving the clock, so nothing sleeps. Stand-in agent reports are handed to the instances.
 */
class HealthTest {
  private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
  @TempDir Path tmp;
  private final ManualClock clock = new ManualClock(T0);
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private DefaultPodRuntime runtime;
  private Deployment d;
  private final List<PodEvent> events = new ArrayList<>();
  private final AtomicInteger runs = new AtomicInteger();

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create(clock, dev.pods.spi.Acceleration.TCG);
    net = new InMemoryNetworkDriver();
    runtime = start();
    d = runtime.deploy(Pod.builder().name("h")
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192)
            .script(Script.shell(Phase.REBOOT, "httpd\n")).build())
        .unit(Unit.builder().name("live").image("tiny").memoryMib(192).livenessTimeout(Duration.ofSeconds(9))
            .build())
        .unit(Unit.builder().name("job").image("tiny").memoryMib(192).restart(RestartPolicy.ON_FAILURE).build())
        .unit(Unit.builder().name("once").image("tiny").memoryMib(192).restart(RestartPolicy.NEVER).build())
        .build());
    d.events().subscribe(e -> {
      synchronized (events) {
        events.add(e);
        events.notifyAll();
      }
    });
    for (Instance i : d.instances()) {
      run(i, Trigger.FIRST_BOOT, true);
      assertThat(i.state()).isEqualTo(InstanceState.READY);
    }
  }

  private DefaultPodRuntime start() throws IOException {
    BootImage image = FakeRuntimes.bootImage(tmp);
    return (DefaultPodRuntime) FakeRuntimes.builder(tmp, hv, net, image)
        .owner("test/health")
        .executor(Runnable::run)
        .clock(clock).build();
  }

  @AfterEach
  void tearDown() {
    try {
      d.destroy();
    } finally {
      runtime.close();
      hv.close();
      net.close();
    }
  }

  private Instance inst(String unit, int index) {
    return d.instance(unit, index);
  }

  private static DefaultInstance impl(Instance i) {
    return (DefaultInstance) i;
  }

  /** A whole agent run of {@code i}, as its agent reports it. */
  private void run(Instance i, Trigger trigger, boolean ok) {
    String run = "r" + runs.incrementAndGet();
    Instant at = clock.instant();
    impl(i).onAgentEvent(new AgentEvent.RunStarted(i.id(), at, run, trigger, "v", "h", List.of(0)));
    impl(i).onAgentEvent(new AgentEvent.RunFinished(i.id(), at, run, trigger, ok, ok ? -1 : 0, ok ? 0 : 7,
        Duration.ofMillis(3)));
  }

  /** The names of {@code unit}'s instances that {@code viewer}'s metadata service lists. */
  private static List<String> peers(Instance viewer, String unit) {
    ImdsServer s = impl(viewer).imds();
    assertThat(s).isNotNull();
    return s.view().units().get(unit).stream().map(PeerInstance::name).toList();
  }

  /** An authenticated request of the guest's agent to its metadata service: a contact. */
  private static void contact(Instance i) throws Exception {
    ImdsServer s = impl(i).imds();
    assertThat(s).isNotNull();
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        s.baseUri().resolve(ImdsProtocol.PREFIX + "/spec")).header(ImdsProtocol.TOKEN_HEADER, impl(i).token)
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  /** {@code instance}'s state changes delivered so far, once one into {@code to} arrived (the feed's thread). */
  private List<PodEvent.StateChanged> changesUntil(String instance, InstanceState to, int count)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    synchronized (events) {
      while (true) {
        List<PodEvent.StateChanged> l = events.stream()
            .filter(e -> e instanceof PodEvent.StateChanged s && s.instance().equals(instance))
            .map(e -> (PodEvent.StateChanged) e).toList();
        if (l.stream().filter(c -> c.to() == to).count() >= count) {
          return l;
        }
        long left = deadline - System.nanoTime();
        assertThat(left).as("state changes of %s: %s", instance, l).isPositive();
        events.wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  // ------------------------------------------------------------------------------------------ detection

  @Test
  void aDestroyedDomainStopsTheInstanceAtOnceSaysWhyAndItsPeersDropIt() throws Exception {
    Instance web0 = inst("web", 0);
    Instance web1 = inst("web", 1);
    assertThat(peers(web1, "web")).containsExactly("web-0", "web-1");

    hv.destroy(web0.domainName());

    InstanceStatus st = web0.status();
    assertThat(st.state()).isEqualTo(InstanceState.STOPPED);
    assertThat(st.since()).isEqualTo(T0);
    assertThat(st.reason()).isEqualTo("its domain was destroyed at 10:00:00 UTC");
    assertThat(st.restartAt()).isEqualTo(T0.plus(RestartPolicy.FIRST_BACKOFF));
    assertThat(changesUntil("web-0", InstanceState.STOPPED, 1)).last().satisfies(c -> {
      assertThat(c.from()).isEqualTo(InstanceState.READY);
      assertThat(c.to()).isEqualTo(InstanceState.STOPPED);
      assertThat(c.reason()).isEqualTo("its domain was destroyed at 10:00:00 UTC");
    });
    assertThat(peers(web1, "web")).containsExactly("web-1");
    assertThat(peers(inst("job", 0), "web")).containsExactly("web-1");
  }

  @Test
  void eachWayADomainStopsIsToldApart() {
    hv.guestPowersOff(inst("web", 0).domainName());
    hv.emulatorDies(inst("web", 1).domainName());
    hv.crash(inst("job", 0).domainName());
    assertThat(inst("web", 0).status().reason()).isEqualTo("the guest powered itself off at 10:00:00 UTC");
    assertThat(inst("web", 1).status().reason()).isEqualTo("its emulator process died at 10:00:00 UTC");
    assertThat(inst("job", 0).status().reason()).isEqualTo("the guest crashed at 10:00:00 UTC");
    assertThat(inst("job", 0).status().restartAt()).isNotNull(); // a crash is a failure
  }

  @Test
  void aStopWhoseEventWasLostIsFoundByTheReconcile() {
    Instance web0 = inst("web", 0);
    hv.disconnect();
    hv.destroy(web0.domainName());
    runtime.tick(false);
    assertThat(web0.state()).isEqualTo(InstanceState.READY); // liveness and restarts only
    clock.advance(Duration.ofSeconds(2));
    runtime.tick(true);
    // the lifecycle event that says why may still come: the reconcile gives it EVENT_GRACE
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    clock.advance(DefaultDeployment.EVENT_GRACE);
    runtime.tick(true);
    assertThat(web0.status().state()).isEqualTo(InstanceState.STOPPED);
    assertThat(web0.status().reason()).isEqualTo("its domain was found shut off at 10:00:02 UTC");
    hv.reconnect();
  }

  @Test
  void aReconnectionChecksEveryInstance() {
    hv.disconnect();
    hv.emulatorDies(inst("web", 1).domainName());
    assertThat(inst("web", 1).state()).isEqualTo(InstanceState.READY);
    hv.reconnect();
    assertThat(inst("web", 1).state()).isEqualTo(InstanceState.STOPPED);
  }

  @Test
  void aGuestThatResetsItselfIsBootingUntilItsRebootRunEnded() {
    Instance web0 = inst("web", 0);
    hv.guestResets(web0.domainName());
    assertThat(web0.status().state()).isEqualTo(InstanceState.BOOTING);
    assertThat(web0.status().reason()).contains("the guest rebooted by itself at 10:00:00 UTC");
    run(web0, Trigger.REBOOT, true);
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
  }

  // ------------------------------------------------------------------------------------------ callers

  @Test
  void execEndpointAndWaitsOnAStoppedInstanceFailAtOnceSayingWhat() {
    Instance web0 = inst("web", 0);
    hv.destroy(web0.domainName());
    clock.advance(Duration.ofSeconds(3));
    String what = "instance web-0 is STOPPED: its domain was destroyed at 10:00:00 UTC; restarting in 7 s";
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> web0.exec("true")).isInstanceOf(PodsException.class).hasMessageContaining(what);
    assertThatThrownBy(() -> web0.endpoint(80)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot forward port 80: " + what);
    assertThatThrownBy(() -> web0.await(Wait.forPhase(Phase.RELOAD), Duration.ofMinutes(1)))
        .isInstanceOf(PodsException.class).hasMessageContaining(what);
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
  }

  @Test
  void anExecWaitingForTheAgentFailsWhenTheInstanceStops() {
    Instance web0 = inst("web", 0);
    CompletableFuture<?> f = web0.execAsync(ExecRequest.of("sleep", "100"));
    assertThat(f).isNotDone();
    hv.emulatorDies(web0.domainName());
    assertThat(f).isCompletedExceptionally();
    assertThatThrownBy(f::join).hasCauseInstanceOf(PodsException.class)
        .hasMessageContaining("instance web-0 is STOPPED: its emulator process died at 10:00:00 UTC");
  }

  @Test
  void anExecTheAgentDoesNotAnswerSaysWhoAndSinceWhenTheGuestWasSilent() throws Exception {
    Instance web0 = inst("web", 0);
    PodsException never = impl(web0).noAnswer(ExecRequest.of("true"), Duration.ofSeconds(100), null);
    assertThat(never).hasMessage("exec [true] in instance web-0: its agent did not answer within 100 s; the guest "
        + "never contacted its metadata service (instance web-0 is READY)");
    clock.advance(Duration.ofSeconds(5));
    contact(web0);
    clock.advance(Duration.ofSeconds(70));
    runtime.tick(false);
    assertThat(impl(web0).noAnswer(ExecRequest.of("true"), Duration.ofSeconds(100), null)).hasMessage("exec [true] "
        + "in instance web-0: its agent did not answer within 100 s; the guest last contacted its metadata service at "
        + "10:00:05 UTC (instance web-0 is UNHEALTHY: no contact from its guest since 10:00:05 UTC (liveness timeout "
        + "60 s))");
  }

  @Test
  void awaitReadyWaitsForAPlannedRestartButFailsAtOnceWhenNoneIsPlanned() {
    hv.destroy(inst("once", 0).domainName());
    assertThatThrownBy(() -> d.awaitReady(Duration.ofMinutes(1))).isInstanceOf(PodsException.class)
        .hasMessageContaining("instance once-0 is STOPPED: its domain was destroyed at 10:00:00 UTC; not "
            + "restarted (restart: never)");
  }

  // ------------------------------------------------------------------------------------------ restart policy

  @Test
  void alwaysRestartsTheSameDomainAfterABackOffThatDoublesAndResetsAfterTenMinutesOfHealth() throws Exception {
    Instance web0 = inst("web", 0);
    Instance web1 = inst("web", 1);
    String domain = web0.domainName();
    hv.destroy(domain);
    clock.advance(Duration.ofSeconds(9));
    runtime.tick(false);
    assertThat(web0.state()).isEqualTo(InstanceState.STOPPED);
    clock.advance(Duration.ofSeconds(1));
    runtime.tick(false);
    assertThat(web0.status().state()).isEqualTo(InstanceState.BOOTING);
    assertThat(web0.status().attempt()).isEqualTo(1);
    assertThat(web0.status().reason()).isEqualTo("restart 1 by its restart policy (always) after: its domain was "
        + "destroyed at 10:00:00 UTC");
    assertThat(hv.state(domain)).isEqualTo(DomainState.RUNNING);
    assertThat(hv.domainNames()).hasSize(5); // the same domain: none added
    assertThat(impl(web0).imds().view().initialized()).isTrue(); // the agent runs reboot + reload, not initial
    assertThat(peers(web1, "web")).containsExactly("web-0", "web-1"); // running again: listed, as at its first boot
    run(web0, Trigger.REBOOT, true);
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    assertThat(peers(web1, "web")).containsExactly("web-0", "web-1");

    hv.destroy(domain); // again, soon: twice the delay
    assertThat(web0.status().restartAt()).isEqualTo(clock.instant().plusSeconds(20));
    clock.advance(Duration.ofSeconds(20));
    runtime.tick(false);
    assertThat(web0.status().attempt()).isEqualTo(2);
    run(web0, Trigger.REBOOT, true);
    hv.destroy(domain);
    assertThat(web0.status().restartAt()).isEqualTo(clock.instant().plusSeconds(40));
    clock.advance(Duration.ofSeconds(40));
    runtime.tick(false);
    run(web0, Trigger.REBOOT, true);
    clock.advance(RestartPolicy.BACKOFF_RESET); // ready that long (no watch ran: liveness is not in question)
    hv.destroy(domain);
    assertThat(web0.status().restartAt()).isEqualTo(clock.instant().plus(RestartPolicy.FIRST_BACKOFF));
    assertThat(changesUntil("web-0", InstanceState.BOOTING, 3)).filteredOn(c -> c.to() == InstanceState.BOOTING && c.reason() != null
        && c.reason().startsWith("restart ")).hasSize(3);
    assertThat(DefaultInstance.backoff(5)).isEqualTo(Duration.ofSeconds(160));
    assertThat(DefaultInstance.backoff(6)).isEqualTo(RestartPolicy.MAX_BACKOFF);
    assertThat(DefaultInstance.backoff(30)).isEqualTo(RestartPolicy.MAX_BACKOFF);
  }

  @Test
  void onFailureRestartsAFailureButNotAPowerOffTheGuestAskedFor() {
    Instance job = inst("job", 0);
    hv.guestPowersOff(job.domainName());
    assertThat(job.status().reason()).isEqualTo("the guest powered itself off at 10:00:00 UTC; not restarted "
        + "(restart: on-failure)");
    assertThat(job.status().restartAt()).isNull();
    clock.advance(Duration.ofMinutes(30));
    runtime.tick(true);
    assertThat(job.state()).isEqualTo(InstanceState.STOPPED);

    job.start();
    assertThat(job.state()).isEqualTo(InstanceState.BOOTING);
    run(job, Trigger.REBOOT, true);
    hv.emulatorDies(job.domainName());
    assertThat(job.status().restartAt()).isEqualTo(clock.instant().plus(RestartPolicy.FIRST_BACKOFF));
  }

  @Test
  void neverLeavesItStoppedUntilStart() {
    Instance once = inst("once", 0);
    hv.destroy(once.domainName());
    clock.advance(Duration.ofHours(1));
    runtime.tick(true);
    assertThat(once.status().state()).isEqualTo(InstanceState.STOPPED);
    assertThat(once.status().restartAt()).isNull();
    once.start();
    run(once, Trigger.REBOOT, true);
    assertThat(once.state()).isEqualTo(InstanceState.READY);
  }

  @Test
  void aUsersStopIsNeverFoughtAndStartResumes() throws Exception {
    Instance web0 = inst("web", 0);
    web0.stop(Duration.ZERO);
    InstanceStatus st = web0.status();
    assertThat(st.state()).isEqualTo(InstanceState.STOPPED);
    assertThat(st.reason()).isEqualTo("stopped by Instance.stop() at 10:00:00 UTC");
    assertThat(st.restartAt()).isNull();
    assertThat(hv.state(web0.domainName())).isEqualTo(DomainState.SHUT_OFF);
    assertThat(peers(inst("web", 1), "web")).containsExactly("web-1");
    for (int s = 0; s < 3600; s += 50) { // an hour, web-1's guest in contact (silence twice its timeout restarts)
      clock.advance(Duration.ofSeconds(50));
      contact(inst("web", 1));
      runtime.tick(true);
    }
    assertThat(web0.state()).isEqualTo(InstanceState.STOPPED);
    assertThatThrownBy(() -> inst("web", 1).start()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot start instance web-1: it is READY, not STOPPED");

    web0.start();
    assertThat(web0.status().state()).isEqualTo(InstanceState.BOOTING);
    assertThat(web0.status().reason()).isEqualTo("started by Instance.start()");
    assertThat(hv.state(web0.domainName())).isEqualTo(DomainState.RUNNING);
    run(web0, Trigger.REBOOT, true);
    web0.await(Wait.forPhase(Phase.REBOOT), Duration.ofSeconds(5));
    assertThat(web0.state()).isEqualTo(InstanceState.READY);
    assertThat(peers(inst("web", 1), "web")).containsExactly("web-0", "web-1");
  }

  @Test
  void aStopByTheUserSurvivesARuntimeRestartAndAStoppedFailureIsStartedByTheNextRuntime() throws Exception {
    Instance web0 = inst("web", 0);
    web0.stop(Duration.ZERO);
    hv.destroy(inst("web", 1).domainName());
    runtime.close();
    runtime = start();
    Deployment again = runtime.deployment("h").orElseThrow();
    Instance a0 = again.instance("web", 0);
    Instance a1 = again.instance("web", 1);
    assertThat(a0.status().state()).isEqualTo(InstanceState.STOPPED);
    assertThat(a0.status().reason()).isEqualTo("stopped by Instance.stop() at 10:00:00 UTC");
    assertThat(hv.state(a0.domainName())).isEqualTo(DomainState.SHUT_OFF);
    assertThat(a1.state()).isEqualTo(InstanceState.BOOTING);
    assertThat(hv.state(a1.domainName())).isEqualTo(DomainState.RUNNING);
    assertThat(impl(a1).imds().view().initialized()).isTrue();
    a0.start();
    assertThat(hv.state(a0.domainName())).isEqualTo(DomainState.RUNNING);
    d = again;
  }

  @Test
  void aStopByTheUserSurvivesAHostRebootItsNetworkAndDomainAreMadeAgainNotStarted() throws Exception {
    Instance web0 = inst("web", 0);
    web0.stop(Duration.ZERO);
    String address = web0.privateAddress().getHostAddress();
    runtime.close();
    for (Instance i : d.instances()) { // the host reboot: every domain gone (undefined here) and every network
      hv.undefine(i.domainName());
      net.delete(i.id());
    }
    runtime = start();
    Deployment again = runtime.deployment("h").orElseThrow();
    Instance a0 = again.instance("web", 0);
    assertThat(a0.status().state()).isEqualTo(InstanceState.STOPPED);
    assertThat(a0.status().reason()).isEqualTo("stopped by Instance.stop() at 10:00:00 UTC");
    assertThat(hv.state(a0.domainName())).as("defined again, not started").isEqualTo(DomainState.SHUT_OFF);
    assertThat(net.find(a0.id())).as("its network made again").isPresent();
    assertThat(a0.privateAddress().getHostAddress()).isEqualTo(address);
    assertThat(impl(a0).imds()).as("its metadata service runs, for a later start").isNotNull();
    a0.start();
    assertThat(hv.state(a0.domainName())).isEqualTo(DomainState.RUNNING);
    assertThat(impl(a0).imds().view().initialized()).as("its kept disk: the reboot phase runs").isTrue();
    d = again;
  }

  // ------------------------------------------------------------------------------------------ liveness

  @Test
  void noContactForTheLivenessTimeoutMakesItUnhealthyAndContactMakesItReadyAgain() throws Exception {
    Instance live = inst("live", 0);
    Instance web0 = inst("web", 0);
    clock.advance(Duration.ofSeconds(5));
    contact(live);
    clock.advance(Duration.ofSeconds(5)); // 5 s since its contact
    runtime.tick(false);
    assertThat(live.state()).isEqualTo(InstanceState.READY);
    clock.advance(Duration.ofSeconds(5)); // 10 s
    runtime.tick(false);
    InstanceStatus st = live.status();
    assertThat(st.state()).isEqualTo(InstanceState.UNHEALTHY);
    assertThat(st.reason()).isEqualTo("no contact from its guest since 10:00:05 UTC (liveness timeout 9 s)");
    assertThat(web0.state()).isEqualTo(InstanceState.READY); // its default timeout is 60 s
    assertThat(peers(web0, "live")).isEmpty();

    clock.advance(Duration.ofSeconds(1));
    contact(live);
    runtime.tick(false);
    assertThat(live.status().state()).isEqualTo(InstanceState.READY);
    assertThat(live.status().reason()).isEqualTo("its guest made contact again at 10:00:16 UTC");
    assertThat(peers(web0, "live")).containsExactly("live-0");
  }

  @Test
  void theAgentPollsOftenEnoughForItsLivenessTimeout() {
    assertThat(DefaultDeployment.pollWait(impl(inst("live", 0)).unit)).isEqualTo(Duration.ofSeconds(3));
    assertThat(DefaultDeployment.pollWait(impl(inst("job", 0)).unit)).isEqualTo(Duration.ofSeconds(20));
    assertThat(tmp.resolve("instances").resolve(inst("live", 0).domainName()).resolve("seed")
        .resolve("pods-agent.conf")).content().contains("\npoll_wait=3\n");
  }
}
