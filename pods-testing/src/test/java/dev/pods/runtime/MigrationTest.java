package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pods.BootImage;
import dev.pods.ConflictException;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.MigrationPlan.Action;
import dev.pods.MigrationPlan.Step;
import dev.pods.Phase;
import dev.pods.PhaseTimeoutException;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.InstanceView;
import dev.pods.OutputStream;
import dev.pods.imds.PeerInstance;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scale, plan and apply against the in-memory hypervisor and network driver, with a real metadata service per
 * instance on loopback and {@link FakeAgents} reporting initial phases whenever a domain starts. Creation tasks
 * of new instances run when the test says; recreations run on the applying thread.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MigrationTest {
  private static final Cidr RANGE = Cidr.parse("10.98.0.0/16");
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private DirectoryInstanceFiles files;
  private final List<Runnable> tasks = new ArrayList<>();
  private PodRuntime runtime;
  private FakeAgents agents;

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    files = new DirectoryInstanceFiles(tmp.resolve("instances"));
    BootImage image = FakeRuntimes.bootImage(tmp);
    runtime = FakeRuntimes.builder(tmp, hv, net, image)
        .instanceFiles(files)
        .executor(r -> {
          synchronized (tasks) {
            tasks.add(r);
          }
        }).build();
  }

  @AfterEach
  void tearDown() {
    if (agents != null) {
      agents.close();
    }
    runtime.close();
    hv.close();
    net.close();
  }

  private static Unit db() {
    return Unit.builder().name("db").image("tiny").memoryMib(192)
        .script(Script.shell(Phase.RELOAD, "echo \"web at $(pods get +/unit/web/private_ips)\"\n")).build();
  }

  private static Unit web(int count) {
    return Unit.builder().name("web").image("tiny").count(count).memoryMib(192)
        .script(Script.shell(Phase.INITIAL, "echo web up\n")).build();
  }

  private static Pod pod(int webs) {
    return Pod.builder().name("shop").unit(db()).unit(web(webs)).build();
  }

  private void runTasks() {
    List<Runnable> now;
    synchronized (tasks) {
      now = List.copyOf(tasks);
      tasks.clear();
    }
    now.forEach(Runnable::run);
  }

  private Deployment deployReady(Pod p) {
    Deployment d = runtime.deploy(p);
    agents = new FakeAgents(d);
    runTasks();
    d.awaitReady(WAIT);
    // the feed delivers on its own thread: let the recorder see every READY before a test counts events
    long end = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < end && agents.events.stream()
        .filter(e -> e instanceof PodEvent.StateChanged s && s.to() == InstanceState.READY).count()
        < d.instances().size()) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    return d;
  }

  private static ImdsServer imds(Instance i) {
    ImdsServer s = ((DefaultInstance) i).imds();
    assertThat(s).as("metadata service of %s", i.name()).isNotNull();
    return s;
  }

  private static List<String> peers(Instance i, String unit) {
    return imds(i).view().units().get(unit).stream().map(PeerInstance::name).toList();
  }

  private IpAddressPool privatePool() {
    return net.pool(IpPoolSpec.subnets("priv-10-98-0-0-16", RANGE, 30));
  }

  private String stateFile() throws IOException {
    try (var s = Files.list(tmp.resolve("state/deployments"))) {
      List<Path> l = s.toList();
      assertThat(l).hasSize(1);
      return Files.readString(l.get(0));
    }
  }

  private long memory(Instance i) {
    return hv.find(i.domainName()).orElseThrow().spec().memoryMib();
  }

  private static Map<String, Action> actions(MigrationPlan p) {
    return p.steps().stream().collect(Collectors.toMap(Step::instance, Step::action));
  }

  private List<String> transitions(String instance) {
    return agents.events.stream()
        .filter(e -> e instanceof PodEvent.StateChanged s && s.instance().equals(instance))
        .map(e -> ((PodEvent.StateChanged) e).to().name())
        .toList();
  }

  private void awaitEvents(int n) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (agents.events.size() < n && System.nanoTime() < end) {
      Thread.sleep(10);
    }
  }

  // ------------------------------------------------------------------------------------------ scale

  @Test
  void scaleUpSchedulesNewInstancesAndEveryPeerSeesTheNewSet() throws Exception {
    Deployment d = deployReady(pod(2));
    Instance db = d.instance("db", 0);
    String dbHash = imds(db).stateHash();

    d.scale("web", 4);

    // returns once scheduled: addresses allocated, state file rewritten, nothing built yet
    assertThat(d.pod().unit("web").orElseThrow().count()).isEqualTo(4);
    assertThat(d.instances()).extracting(Instance::name)
        .containsExactly("db-0", "web-0", "web-1", "web-2", "web-3");
    assertThat(d.instance("web", 3).state()).isEqualTo(InstanceState.PENDING);
    assertThat(privatePool().allocations()).containsOnlyKeys(
        "shop-db-0", "shop-web-0", "shop-web-1", "shop-web-2", "shop-web-3");
    assertThat(stateFile()).contains("\"shop-web-3\"");
    assertThat(peers(db, "web")).containsExactly("web-0", "web-1", "web-2", "web-3");
    assertThat(imds(db).stateHash()).isNotEqualTo(dbHash);
    assertThat(imds(db).view().units().get("web")).extracting(p -> p.privateIps().get(0))
        .contains(d.instance("web", 3).privateAddress().getHostAddress());
    assertThat(imds(d.instance("web", 0)).view().spec().count()).isEqualTo(4);

    runTasks();
    d.awaitReady(WAIT);
    assertThat(hv.domainNames()).containsExactlyInAnyOrder(
        "t-shop-db-0", "t-shop-web-0", "t-shop-web-1", "t-shop-web-2", "t-shop-web-3");
    assertThat(peers(d.instance("web", 3), "web")).containsExactly("web-0", "web-1", "web-2", "web-3");
    // the old ones were not rebuilt
    assertThat(agents.boots("web-0")).isEqualTo(1);
    assertThat(agents.boots("web-3")).isEqualTo(1);
    assertThat(d.plan(d.pod()).isEmpty()).isTrue();
    d.destroy();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(privatePool().allocations()).isEmpty();
  }

  @Test
  void scaleDownRemovesTheHighestIndicesFirstWithEverythingTheyOwn() throws Exception {
    Deployment d = deployReady(pod(3));
    Instance web1 = d.instance("web", 1);
    Instance web2 = d.instance("web", 2);
    int before = agents.events.size();

    d.scale("web", 1);

    for (Instance gone : List.of(web1, web2)) {
      assertThat(gone.state()).isEqualTo(InstanceState.DESTROYED);
      assertThat(net.find(gone.id())).isEmpty();
      assertThat(Files.exists(files.dir(gone.domainName()))).isFalse();
      assertThat(((DefaultInstance) gone).imds()).isNull();
    }
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0");
    assertThat(privatePool().allocations()).containsOnlyKeys("shop-db-0", "shop-web-0");
    assertThat(d.instances()).extracting(Instance::name).containsExactly("db-0", "web-0");
    assertThatThrownBy(() -> d.instance("web", 1)).isInstanceOf(IllegalArgumentException.class);
    assertThat(peers(d.instance("db", 0), "web")).containsExactly("web-0");
    assertThat(stateFile()).doesNotContain("shop-web-1").contains("shop-web-0");
    awaitEvents(before + 2);
    assertThat(agents.events.subList(before, agents.events.size()))
        .filteredOn(e -> e instanceof PodEvent.StateChanged s && s.to() == InstanceState.DESTROYED)
        .extracting(PodEvent::instance).containsExactly("web-2", "web-1");

    d.scale("web", 0);
    assertThat(d.instances()).extracting(Instance::name).containsExactly("db-0");
    assertThat(peers(d.instance("db", 0), "web")).isEmpty();
    assertThat(d.isReady()).isTrue();
    d.destroy();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(net.list(runtime.owner())).isEmpty();
    assertThat(privatePool().allocations()).isEmpty();
  }

  @Test
  void aDeploymentWaitInProgressNoLongerWaitsForAnInstanceScaledAway() throws Exception {
    Deployment d = deployReady(pod(2));
    Instance web1 = d.instance("web", 1);
    CompletableFuture<Void> waiting = CompletableFuture.runAsync(
        () -> d.await(Wait.forOutput("^late line$"), WAIT));
    CompletableFuture<Void> waitingOnWeb1 = CompletableFuture.runAsync(
        () -> web1.await(Wait.forOutput("^late line$"), WAIT));
    TimeUnit.MILLISECONDS.sleep(200); // the waits have begun (it would also pass if they began later)

    d.scale("web", 1);
    assertThat(waiting).isNotDone();
    // a wait on the removed instance itself fails: what it waited for cannot happen any more
    assertThat(catchThrowableOfType(java.util.concurrent.ExecutionException.class,
        () -> waitingOnWeb1.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)))
        .hasCauseInstanceOf(IllegalStateException.class)
        .hasMessageContaining("web-1");
    for (Instance i : d.instances()) {
      ((DefaultInstance) i).onAgentEvent(new AgentEvent.OutputLine(i.id(), Instant.now(), "rx", 0,
          OutputStream.STDOUT, "late line"));
    }

    waiting.get(WAIT.toMillis(), TimeUnit.MILLISECONDS); // web-1 is gone: db-0 and web-0 are all there is
    d.destroy();
  }

  @Test
  void scaleRefusesUnknownUnitsAndBadCountsAndChangesNothing() {
    Deployment d = deployReady(pod(1));
    assertThatThrownBy(() -> d.scale("cache", 2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pod shop has no unit cache (units: [db, web])");
    assertThatThrownBy(() -> d.scale("web", -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not -1");
    assertThatThrownBy(() -> d.scale("web", Unit.MAX_COUNT + 1)).isInstanceOf(IllegalArgumentException.class);
    assertThat(d.pod()).isEqualTo(pod(1));
    assertThat(privatePool().allocations()).hasSize(2);
    d.destroy();
    assertThatThrownBy(() -> d.scale("web", 2)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("destroyed");
  }

  @Test
  void scalingUpWhileCreationsAreStillPendingAndDownBeforeTheyRanLeavesNothing() {
    Deployment d = deployReady(pod(1));
    d.scale("web", 3);
    d.scale("web", 1); // web-1 and web-2 were never built: their tasks do nothing when they run
    runTasks();
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0");
    assertThat(privatePool().allocations()).hasSize(2);
    d.destroy();
  }

  // ------------------------------------------------------------------------------------------ plan

  @Test
  void planListsTheDiffAndWhatHappensToEachInstance() {
    Deployment d = deployReady(pod(2));
    Unit db2 = db().toBuilder().clearScripts()
        .script(Script.shell(Phase.RELOAD, "echo \"web is at $(pods get +/unit/web/private_ips)\"\n")).build();
    Pod next = Pod.builder().name("shop").unit(db2)
        .unit(web(3).toBuilder().memoryMib(256).build()).build();

    MigrationPlan p = d.plan(next);

    assertThat(p.isEmpty()).isFalse();
    assertThat(p.from()).isEqualTo(pod(2));
    assertThat(p.to()).isEqualTo(next);
    assertThat(p.steps()).containsExactly(
        new Step("db-0", "db", 0, Action.LIVE, List.of("scripts.reload[0] changed")),
        new Step("web-0", "web", 0, Action.RECREATE, List.of("memory 192 -> 256 MiB")),
        new Step("web-1", "web", 1, Action.RECREATE, List.of("memory 192 -> 256 MiB")),
        new Step("web-2", "web", 2, Action.CREATE, List.of("count 2 -> 3")));
    assertThat(p.toText()).isEqualTo("""
        pod shop:
          unit db: 1 change (live)
            ~ scripts.reload[0]  [live]
                - echo "web at $(pods get +/unit/web/private_ips)"
                + echo "web is at $(pods get +/unit/web/private_ips)"
          unit web: 2 changes (recreate)
            ~ count: 2 -> 3  [live]
            ~ memory: 192 -> 256  [recreate]
        instances:
          db-0   live      (scripts.reload[0] changed)
          web-0  recreate  (memory 192 -> 256 MiB)
          web-1  recreate  (memory 192 -> 256 MiB)
          web-2  create    (count 2 -> 3)
        """);
    // planning changes nothing
    assertThat(d.pod()).isEqualTo(pod(2));
    assertThat(hv.domainNames()).hasSize(3);

    MigrationPlan none = d.plan(pod(2));
    assertThat(none.isEmpty()).isTrue();
    assertThat(none.steps()).extracting(Step::action).containsOnly(Action.KEEP);
    assertThat(none.toText()).isEqualTo("""
        pod shop:
          no changes
        instances:
          db-0   keep
          web-0  keep
          web-1  keep
        """);
    d.destroy();
  }

  @Test
  void planOfUnitsAddedAndRemovedNotesThatTheOthersReload() {
    Deployment d = deployReady(pod(2));
    Pod next = Pod.builder().name("shop").unit(web(2))
        .unit(Unit.builder().name("cache").image("tiny").memoryMib(128).build()).build();
    MigrationPlan p = d.plan(next);
    assertThat(p.steps()).containsExactly(
        new Step("web-0", "web", 0, Action.KEEP, List.of("reloads: cache-0 created, db-0 removed")),
        new Step("web-1", "web", 1, Action.KEEP, List.of("reloads: cache-0 created, db-0 removed")),
        new Step("cache-0", "cache", 0, Action.CREATE, List.of("new unit")),
        new Step("db-0", "db", 0, Action.REMOVE, List.of("unit removed")));
    assertThat(p.toText()).contains("+ unit cache (1 instances)", "- unit db",
        "db-0     remove    (unit removed)");

    p.apply();

    assertThat(d.pod()).isEqualTo(next);
    assertThat(d.instances()).extracting(Instance::name).containsExactly("web-0", "web-1", "cache-0");
    assertThat(hv.domainNames()).doesNotContain("t-shop-db-0");
    runTasks();
    d.awaitReady(WAIT);
    assertThat(imds(d.instance("web", 0)).view().units()).containsOnlyKeys("web", "cache");
    assertThat(peers(d.instance("web", 0), "cache")).containsExactly("cache-0");
    assertThat(d.plan(next).isEmpty()).isTrue();
    d.destroy();
    assertThat(privatePool().allocations()).isEmpty();
  }

  @Test
  void planRefusesAnotherPodNameAndPublicAddressesWithoutAPublicNetwork() {
    Deployment d = deployReady(pod(1));
    Pod other = Pod.builder().name("store").unit(db()).unit(web(1)).build();
    assertThatThrownBy(() -> d.plan(other)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pod shop cannot be migrated to pod store");
    Pod pub = pod(1).withUnit(web(1).toBuilder().publicAddress(true).build());
    assertThatThrownBy(() -> d.plan(pub)).isInstanceOf(PodsException.class)
        .hasMessageContaining("unit web of pod shop wants a public address, but the runtime has no public network");
    d.destroy();
    assertThatThrownBy(() -> d.plan(pod(1))).isInstanceOf(IllegalStateException.class);
  }

  // ------------------------------------------------------------------------------------------ apply

  @Test
  void aLiveChangeHandsTheNewSpecToTheSameMetadataServiceAndLeavesTheDomain() {
    Deployment d = deployReady(pod(2));
    Instance db = d.instance("db", 0);
    ImdsServer dbImds = imds(db);
    InstanceView old = dbImds.view();
    String webHash = imds(d.instance("web", 0)).stateHash();
    int events = agents.events.size();
    Unit db2 = db().toBuilder().clearScripts().script(Script.shell(Phase.RELOAD, "echo changed\n")).build();
    Pod next = pod(2).withUnit(db2);

    d.plan(next).apply();

    assertThat(imds(db)).isSameAs(dbImds);
    assertThat(dbImds.view().spec()).isEqualTo(db2);
    assertThat(dbImds.view().specVersion()).isNotEqualTo(old.specVersion());
    assertThat(dbImds.view().units()).isEqualTo(old.units());
    assertThat(db.state()).isEqualTo(InstanceState.READY);
    assertThat(agents.boots("db-0")).isEqualTo(1);
    assertThat(agents.events.subList(events, agents.events.size()))
        .noneMatch(e -> e instanceof PodEvent.StateChanged);
    // web's view did not change: no reload there
    assertThat(imds(d.instance("web", 0)).stateHash()).isEqualTo(webHash);
    assertThat(d.pod()).isEqualTo(next);
    assertThat(d.plan(next).isEmpty()).isTrue();
    d.destroy();
  }

  @Test
  void recreationsGoOneAtATimeKeepIdsAndAddressesAndRunTheInitialPhaseAgain() throws Exception {
    Deployment d = deployReady(pod(3));
    List<String> addresses = d.instances().stream().map(i -> i.privateAddress().getHostAddress()).toList();
    Instance web1 = d.instance("web", 1);
    ImdsServer oldImds = imds(web1);
    int before = agents.events.size();
    Pod next = pod(3).withUnit(web(3).toBuilder().memoryMib(256).build());

    d.plan(next).apply();

    assertThat(d.instances()).extracting(i -> i.privateAddress().getHostAddress()).isEqualTo(addresses);
    assertThat(d.instance("web", 1)).isSameAs(web1);
    assertThat(web1.id()).isEqualTo("shop-web-1");
    assertThat(imds(web1)).isNotSameAs(oldImds);
    for (int k = 0; k < 3; k++) {
      Instance w = d.instance("web", k);
      assertThat(memory(w)).isEqualTo(256);
      assertThat(w.state()).isEqualTo(InstanceState.READY);
      assertThat(agents.boots(w.name())).isEqualTo(2);
      assertThat(w.recentOutput()).containsExactly("boot 2 of " + w.name() + " with 256 MiB");
    }
    assertThat(memory(d.instance("db", 0))).isEqualTo(192);
    assertThat(agents.boots("db-0")).isEqualTo(1);
    // one at a time: each was READY before the next one left READY
    awaitEvents(before + 24);
    List<String> order = agents.events.subList(before, agents.events.size()).stream()
        .filter(e -> e instanceof PodEvent.StateChanged s
            && (s.to() == InstanceState.PENDING || s.to() == InstanceState.READY))
        .map(e -> e.instance() + " " + ((PodEvent.StateChanged) e).to())
        .toList();
    assertThat(order).containsExactly("web-0 PENDING", "web-0 READY", "web-1 PENDING", "web-1 READY",
        "web-2 PENDING", "web-2 READY");
    assertThat(stateFile()).contains(DefaultDeployment.specVersion(next.unit("web").orElseThrow()));
    assertThat(d.pod()).isEqualTo(next);
    assertThat(d.plan(next).isEmpty()).isTrue();
    d.destroy();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(net.list(runtime.owner())).isEmpty();
  }

  @Test
  void aPlanMadeBeforeAnotherChangeRefusesToApply() {
    Deployment d = deployReady(pod(1));
    MigrationPlan bigger = d.plan(pod(2));
    MigrationPlan other = d.plan(pod(3));
    bigger.apply();
    assertThat(d.instances()).hasSize(3);

    assertThatThrownBy(other::apply).isInstanceOf(ConflictException.class)
        .hasMessageContaining("made against an older state").hasMessageContaining("make a new plan");
    assertThatThrownBy(bigger::apply).as("applied already").isInstanceOf(ConflictException.class);
    MigrationPlan fresh = d.plan(pod(3));
    d.scale("db", 1); // no change at all: an empty plan changes nothing and leaves others valid
    d.scale("db", 2);
    assertThatThrownBy(fresh::apply).isInstanceOf(ConflictException.class);
    assertThat(d.pod()).isEqualTo(pod(2).withUnit(db().toBuilder().count(2).build()));
    d.plan(pod(3)).apply();
    assertThat(d.instances()).extracting(Instance::name).containsExactly("db-0", "web-0", "web-1", "web-2");
    d.destroy();
    assertThatThrownBy(() -> fresh.apply()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aFailedRecreationStopsTheApplyAndTheNextPlanListsWhatIsLeft() {
    Deployment d = deployReady(pod(3));
    agents.outcome = (name, boot) -> !(name.equals("web-1") && boot == 2);
    Pod next = pod(3).withUnit(web(3).toBuilder().memoryMib(256).build());

    PodsException e = catchThrowableOfType(PodsException.class, () -> d.plan(next).apply());

    assertThat(e).hasMessageContaining("migrate pod shop: recreating instance web-1 failed")
        .hasMessageContaining("exit code 7")
        .hasMessageContaining("recreated before it: web-0; left as they were: web-2")
        .hasMessageContaining("boot 2 of web-1 with 256 MiB");
    assertThat(d.instance("web", 0).state()).isEqualTo(InstanceState.READY);
    assertThat(memory(d.instance("web", 0))).isEqualTo(256);
    assertThat(d.instance("web", 1).state()).isEqualTo(InstanceState.FAILED);
    assertThat(d.instance("web", 2).state()).isEqualTo(InstanceState.READY);
    assertThat(memory(d.instance("web", 2))).isEqualTo(192);
    assertThat(agents.boots("web-2")).isEqualTo(1);
    // the failed peer dropped out of the views
    assertThat(peers(d.instance("db", 0), "web")).containsExactly("web-0", "web-2");
    assertThat(d.pod()).isEqualTo(next);
    MigrationPlan rest = d.plan(next);
    assertThat(rest.diff().isEmpty()).isTrue();
    assertThat(rest.steps()).extracting(s -> s.instance() + " " + s.action() + " " + s.reasons()).containsExactly(
        "db-0 KEEP []", "web-0 KEEP []", "web-1 RECREATE [failed]", "web-2 RECREATE [memory 192 -> 256 MiB]");

    rest.apply();
    assertThat(d.isReady()).isTrue();
    assertThat(d.instances()).filteredOn(i -> i.unit().equals("web")).allMatch(i -> memory(i) == 256);
    assertThat(agents.boots("web-1")).isEqualTo(3);
    assertThat(d.plan(next).isEmpty()).isTrue();
    d.destroy();
  }

  @Test
  void anInstanceThatFailedAtDeployIsRecreatedByThePlanOfTheSamePod() {
    Deployment d = runtime.deploy(pod(1));
    agents = new FakeAgents(d);
    agents.outcome = (name, boot) -> !(name.equals("db-0") && boot == 1);
    runTasks();
    assertThatThrownBy(() -> d.awaitReady(WAIT)).hasMessageContaining("instance db-0 of pod shop failed");

    MigrationPlan p = d.plan(d.pod());
    assertThat(p.isEmpty()).isFalse();
    assertThat(p.toText()).contains("db-0   recreate  (failed)", "web-0  keep\n");
    p.apply();
    assertThat(d.isReady()).isTrue();
    assertThat(agents.boots("db-0")).isEqualTo(2);
    d.destroy();
  }

  @Test
  void aRecreationThatNeverGetsReadyTimesOut() {
    Deployment d = deployReady(pod(2));
    agents.silent.add("web-0");
    Pod next = pod(2).withUnit(web(2).toBuilder().memoryMib(256).build());
    assertThatThrownBy(() -> d.plan(next).apply(Duration.ofMillis(300)))
        .isInstanceOfSatisfying(PhaseTimeoutException.class,
            t -> assertThat(t.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(300)))
        .hasMessageContaining("recreating instance web-0 failed: its initial phase did not finish within PT0.3S"
            + " (it is BOOTING)")
        .hasMessageContaining("left as they were: web-1");
    assertThat(memory(d.instance("web", 1))).isEqualTo(192);
    d.destroy();
  }

  @Test
  void closingTheRuntimeDuringARecreationEndsTheApplyAndLaterAppliesAreRefused() throws Exception {
    Deployment d = deployReady(pod(2));
    agents.silent.add("web-0");
    MigrationPlan p = d.plan(pod(2).withUnit(web(2).toBuilder().memoryMib(256).build()));
    CompletableFuture<Void> applying = CompletableFuture.runAsync(p::apply);
    long end = System.nanoTime() + WAIT.toNanos();
    while (d.instance("web", 0).state() != InstanceState.BOOTING && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    runtime.close();
    assertThatThrownBy(() -> applying.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(PodsException.class)
        .hasMessageContaining("recreating instance web-0 failed: the runtime was closed meanwhile");
    assertThatThrownBy(() -> d.scale("web", 3)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("runtime of pod shop is closed");
    // the VMs are left running, as closing a runtime always does
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0", "t-shop-web-1");
  }

  @Test
  void destroyDuringARecreationEndsTheApplyAndRemovesEverything() throws Exception {
    Deployment d = deployReady(pod(2));
    agents.silent.add("web-0");
    Pod next = pod(2).withUnit(web(2).toBuilder().memoryMib(256).build());
    MigrationPlan p = d.plan(next);
    CompletableFuture<Void> applying = CompletableFuture.runAsync(p::apply);
    long end = System.nanoTime() + WAIT.toNanos();
    while (d.instance("web", 0).state() != InstanceState.BOOTING && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    d.destroy();
    assertThatThrownBy(applying::join).hasCauseInstanceOf(PodsException.class)
        .hasMessageContaining("destroyed meanwhile");
    assertThat(hv.domainNames()).isEmpty();
    assertThat(privatePool().allocations()).isEmpty();
    assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.DESTROYED);
  }
}
