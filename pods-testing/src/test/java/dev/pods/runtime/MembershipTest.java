package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Unit;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.PodMembership.RemotePeer;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryMembership;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runtime with a {@link dev.pods.spi.PodMembership} on the in-memory parts ({@link InMemoryMembership}): it builds
 * only the instances the membership hosts, follows its changes (instances moving in and out, their private addresses
 * kept by the pool), plans, scales and adopts with it. Tasks handed to the executor run when the test says
 * ({@link FakeRuntimes.Tasks}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MembershipTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String OWNER = "test/member";

  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private BootImage image;
  private final InMemoryMembership m = new InMemoryMembership();
  private final FakeRuntimes.Tasks tasks = new FakeRuntimes.Tasks();
  private final List<PodRuntime> runtimes = new ArrayList<>();
  private final List<FakeAgents> agents = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    image = FakeRuntimes.bootImage(tmp);
  }

  @AfterEach
  void tearDown() {
    agents.forEach(FakeAgents::close);
    runtimes.forEach(PodRuntime::close);
    hv.close();
    net.close();
  }

  private PodRuntime runtime() {
    PodRuntime r = FakeRuntimes.builder(tmp, hv, net, image).owner(OWNER).executor(tasks).membership(m).build();
    runtimes.add(r);
    return r;
  }

  private static Pod pod(int webs) {
    return Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("tiny").count(webs).memoryMib(192).build())
        .unit(Unit.builder().name("db").image("tiny").memoryMib(192).build())
        .build();
  }

  /** Deploys {@code p}, its agents standing in for the guests, and builds what it scheduled. */
  private Deployment deploy(PodRuntime r, Pod p) {
    Deployment d = r.deploy(p);
    agents.add(new FakeAgents(d));
    tasks.runAll();
    return d;
  }

  private static List<String> names(Deployment d) {
    return d.instances().stream().map(Instance::name).toList();
  }

  private static IpAddressPool pool(Deployment d) {
    return ((DefaultDeployment) d).privatePool();
  }

  private static String id(String unit, int index) {
    return DefaultPodRuntime.instanceId("shop", unit, index);
  }

  @Test
  void deployBuildsOnlyTheHostedInstancesAndRecordsOnlyThem() {
    m.host("shop", "web-1");
    m.host("shop", "db-0");
    Deployment d = deploy(runtime(), pod(3));
    d.awaitReady(WAIT);
    assertThat(names(d)).containsExactly("web-1", "db-0");
    assertThat(pool(d).allocations()).as("addresses only for the hosted").containsOnlyKeys(id("web", 1), id("db", 0));
    assertThat(((DefaultDeployment) d).record().instances()).extracting(DeploymentRecord.InstanceRecord::id)
        .containsExactly(id("web", 1), id("db", 0));
    assertThat(hv.list(OWNER)).hasSize(2);
  }

  @Test
  void aChangeThatArrivesWhileTheDeployIsBuildingCreatesNothingTwice() throws Exception {
    m.host("shop", "web-0");
    m.host("shop", "db-0");
    java.util.concurrent.CountDownLatch inDeploy = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch proceed = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
    // the deploy asks hosts() after it registered the deployment and before it built an instance: it stops there
    // while the membership changes and the runtime's executor follows the change
    dev.pods.spi.PodMembership slow = new dev.pods.spi.PodMembership() {
      @Override
      public boolean hosts(String pod, String instance) {
        if (first.compareAndSet(true, false)) {
          inDeploy.countDown();
          try {
            proceed.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return m.hosts(pod, instance);
      }

      @Override
      public List<dev.pods.spi.PodMembership.RemotePeer> remotePeers(String pod) {
        return m.remotePeers(pod);
      }

      @Override
      public AutoCloseable listen(java.util.function.Consumer<String> listener) {
        return m.listen(listener);
      }
    };
    PodRuntime r = FakeRuntimes.builder(tmp, hv, net, image).owner(OWNER).executor(tasks).membership(slow).build();
    runtimes.add(r);
    java.util.concurrent.CompletableFuture<Deployment> deploying =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> r.deploy(pod(2)));
    assertThat(inDeploy.await(10, TimeUnit.SECONDS)).isTrue();
    m.host("shop", "web-1"); // the listener queues a re-plan of the deployment being built
    Thread follower = new Thread(tasks::runAll, "test-follower");
    follower.start();
    follower.join(300); // it waits for the deploy's change lock (before the fix it created instances here)
    proceed.countDown();
    Deployment d = deploying.get(10, TimeUnit.SECONDS);
    follower.join(10_000);
    agents.add(new FakeAgents(d));
    tasks.runAll();
    d.awaitReady(WAIT);
    assertThat(names(d)).containsExactlyInAnyOrder("web-0", "web-1", "db-0");
    assertThat(hv.list(OWNER)).as("one domain per instance").hasSize(3);
  }

  @Test
  void theListenerIsRegisteredAtStartAndClosedWithTheRuntime() {
    PodRuntime r = runtime();
    assertThat(m.listeners()).isEqualTo(1);
    r.close();
    assertThat(m.listeners()).isZero();
  }

  @Test
  void aChangeMovesInstancesInAndOutAndThePoolKeepsTheirAddresses() {
    m.host("shop", "web-0");
    Deployment d = deploy(runtime(), pod(2));
    d.awaitReady(WAIT);
    assertThat(names(d)).containsExactly("web-0");

    m.host("shop", "web-1");
    m.host("shop", "db-0");
    tasks.runAll();
    d.awaitReady(WAIT);
    assertThat(names(d)).containsExactly("web-0", "web-1", "db-0");
    var web0 = ((DefaultInstance) d.instance("web", 0)).privateAddress();
    String domain = d.instance("web", 0).domainName();

    m.unhost("shop", "web-0");
    tasks.runAll();
    assertThat(names(d)).containsExactly("web-1", "db-0");
    assertThat(hv.find(domain)).as("its domain removed").isEmpty();
    assertThat(net.find(id("web", 0))).as("its network removed").isEmpty();
    assertThat(pool(d).lookup(id("web", 0))).as("its address kept for wherever it runs next").isPresent();
    assertThat(((DefaultDeployment) d).record().instances()).extracting(DeploymentRecord.InstanceRecord::id)
        .containsExactly(id("web", 1), id("db", 0));

    m.host("shop", "web-0");
    tasks.runAll();
    d.awaitReady(WAIT);
    assertThat(((DefaultInstance) d.instance("web", 0)).privateAddress()).as("back with its address")
        .isEqualTo(web0);
    assertThat(d.instances()).allMatch(i -> i.state() == InstanceState.READY);
  }

  @Test
  void aChangeForAPodNotDeployedHereIsIgnored() {
    PodRuntime r = runtime();
    m.host("other", "web-0");
    tasks.runAll();
    assertThat(r.deployments()).isEmpty();
    assertThat(hv.list(OWNER)).isEmpty();
  }

  @Test
  void aBurstOfChangesCostsOneReplan() {
    m.host("shop", "web-0");
    Deployment d = deploy(runtime(), pod(2));
    d.awaitReady(WAIT);
    int before = ((DefaultDeployment) d).follows.get();
    for (int k = 0; k < 100; k++) {
      if (k % 2 == 0) {
        m.host("shop", "web-1");
      } else {
        m.unhost("shop", "web-1");
      }
      m.putPeer("shop", new RemotePeer("db", 0, dev.pods.spi.Cidr.parseAddress("10.77.0." + (k % 200 + 2)), null,
          InstanceState.READY));
    }
    m.host("shop", "web-1");
    tasks.runAll();
    assertThat(((DefaultDeployment) d).follows.get() - before).as("re-plans for 200 changes").isEqualTo(1);
    d.awaitReady(WAIT);
    assertThat(names(d)).containsExactly("web-0", "web-1");
  }

  @Test
  void whileAnApplyHoldsTheChangeLockViewsFollowAtOnceAndTheReplansWaitBounded() throws Exception {
    m.host("shop", "web-0");
    Deployment d = deploy(runtime(), pod(2));
    d.awaitReady(WAIT);
    DefaultDeployment dd = (DefaultDeployment) d;
    int before = dd.follows.get();
    var remoteDb = dev.pods.spi.Cidr.parseAddress("10.77.0.9");
    java.util.concurrent.locks.ReentrantLock lock = dd.changeLock();
    lock.lock(); // as a scale, an apply or a destroy holds it
    Thread runner = new Thread(tasks::runAll, "test-runner");
    try {
      m.host("shop", "web-1");
      m.putPeer("shop", new RemotePeer("db", 0, remoteDb, null, InstanceState.READY));
      runner.start();
      long end = System.nanoTime() + WAIT.toNanos();
      while (!lock.hasQueuedThread(runner) && System.nanoTime() < end) {
        Thread.sleep(1); // a lock's queue has no event to wait on
      }
      assertThat(lock.hasQueuedThread(runner)).as("the re-plan waits for the change lock").isTrue();
      assertThat(dd.peers()).as("the remote peer counts at once")
          .contains(new FirewallRules.Peer("db", remoteDb, null));
      assertThat(names(d)).as("web-1 waits for the lock").containsExactly("web-0");
      for (int k = 0; k < 100; k++) {
        if (k % 2 == 0) {
          m.unhost("shop", "web-1");
        } else {
          m.host("shop", "web-1");
        }
      }
    } finally {
      lock.unlock();
    }
    runner.join(WAIT.toMillis());
    assertThat(runner.isAlive()).isFalse();
    tasks.runAll();
    assertThat(dd.follows.get() - before).as("re-plans: the waiting one, then one for what came meanwhile")
        .isEqualTo(2);
    d.awaitReady(WAIT);
    assertThat(names(d)).containsExactly("web-0", "web-1");
  }

  @Test
  void aChangeLeavesAFailedInstanceToTheUsersPlans() throws Exception {
    m.host("shop", "web-0");
    Deployment d = runtime().deploy(pod(2));
    FakeAgents a = new FakeAgents(d);
    agents.add(a);
    a.outcome = (name, boot) -> !name.equals("web-0");
    tasks.runAll();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.awaitReady(WAIT))
        .hasMessageContaining("instance web-0 of pod shop failed");
    m.host("shop", "web-1");
    tasks.runAll();
    d.instance("web", 1).await(dev.pods.Wait.forPhase(dev.pods.Phase.INITIAL), WAIT);
    assertThat(d.instance("web", 0).state()).isEqualTo(InstanceState.FAILED);
    assertThat(a.boots("web-0")).as("not recreated by the change").isEqualTo(1);
    assertThat(d.plan(d.pod()).steps()).filteredOn(s -> s.instance().equals("web-0"))
        .extracting(MigrationPlan.Step::action).containsExactly(MigrationPlan.Action.RECREATE);
  }

  @Test
  void destroyKeepsThePrivateAddressesForTheCluster() {
    m.host("shop", "web-0");
    Deployment d = deploy(runtime(), pod(1));
    d.awaitReady(WAIT);
    IpAddressPool pool = pool(d);
    var address = pool.lookup(id("web", 0)).orElseThrow();
    d.destroy();
    assertThat(hv.list(OWNER)).isEmpty();
    assertThat(pool.lookup(id("web", 0))).as("released by the cluster, not by a host").contains(address);
  }

  @Test
  void anAppliedPlanRecreatesOnlyTheHostedInstances() {
    m.host("shop", "web-0");
    m.host("shop", "db-0");
    Deployment d = deploy(runtime(), pod(2));
    d.awaitReady(WAIT);
    String web0 = d.instance("web", 0).domainName();
    Pod bigger = pod(2).withUnit(pod(2).unit("web").orElseThrow().toBuilder().memoryMib(256).build());
    MigrationPlan p = d.plan(bigger);
    assertThat(p.steps()).extracting(MigrationPlan.Step::instance, MigrationPlan.Step::action).containsExactly(
        org.assertj.core.groups.Tuple.tuple("web-0", MigrationPlan.Action.RECREATE),
        org.assertj.core.groups.Tuple.tuple("db-0", MigrationPlan.Action.KEEP));
    p.apply();
    assertThat(names(d)).containsExactly("web-0", "db-0");
    assertThat(hv.find(web0).orElseThrow().spec().memoryMib()).isEqualTo(256);
    assertThat(d.plan(bigger).isEmpty()).as("plan, apply, plan: nothing left").isTrue();
  }

  @Test
  void scaleAndPlansCreateOnlyHostedInstances() {
    m.host("shop", "web-0");
    m.host("shop", "web-2");
    Deployment d = deploy(runtime(), pod(1));
    d.awaitReady(WAIT);
    d.scale("web", 4);
    tasks.runAll();
    d.awaitReady(WAIT);
    assertThat(names(d)).containsExactly("web-0", "web-2");
    assertThat(d.pod().unit("web").orElseThrow().count()).isEqualTo(4);

    m.host("shop", "web-3");
    MigrationPlan p = d.plan(pod(4).withUnit(pod(4).unit("web").orElseThrow().toBuilder().memoryMib(256).build()));
    assertThat(p.steps()).extracting(MigrationPlan.Step::instance, MigrationPlan.Step::action).containsExactly(
        org.assertj.core.groups.Tuple.tuple("web-0", MigrationPlan.Action.RECREATE),
        org.assertj.core.groups.Tuple.tuple("web-2", MigrationPlan.Action.RECREATE),
        org.assertj.core.groups.Tuple.tuple("web-3", MigrationPlan.Action.CREATE));
    assertThat(p.toText()).contains("web-3").contains("hosted here");

    m.unhost("shop", "web-2"); // the follow task is queued, not run: the plan sees it
    MigrationPlan q = d.plan(d.pod());
    assertThat(q.steps()).filteredOn(s -> s.instance().equals("web-2")).singleElement()
        .satisfies(s -> assertThat(s.action()).isEqualTo(MigrationPlan.Action.REMOVE))
        .satisfies(s -> assertThat(s.reasons()).containsExactly("hosted elsewhere"));
    d.scale("web", 1);
    tasks.runAll();
    assertThat(names(d)).containsExactly("web-0");
  }

  @Test
  void aRestartedRuntimeAdoptsItsInstancesAndItsFirstReplanRemovesThoseNoLongerHosted() {
    m.host("shop", "web-0");
    m.host("shop", "web-1");
    PodRuntime first = runtime();
    Deployment d = deploy(first, pod(2));
    d.awaitReady(WAIT);
    String web0 = d.instance("web", 0).domainName();
    String web1 = d.instance("web", 1).domainName();
    first.close();

    m.unhost("shop", "web-1"); // while no runtime runs
    PodRuntime second = runtime();
    Deployment adopted = second.deployment("shop").orElseThrow();
    assertThat(names(adopted)).as("adopted as recorded").containsExactly("web-0", "web-1");
    tasks.runAll();
    assertThat(names(adopted)).containsExactly("web-0");
    assertThat(hv.find(web0)).as("the same domain").isPresent();
    assertThat(hv.find(web1)).isEmpty();
    assertThat(pool(adopted).lookup(id("web", 1))).isPresent();
  }

  @Test
  void aRestartedRuntimeStartsNothingOfAnInstanceAnotherHostRunsNow() {
    m.host("shop", "web-0");
    m.host("shop", "web-1");
    PodRuntime first = runtime();
    Deployment d = deploy(first, pod(2));
    d.awaitReady(WAIT);
    String web0 = d.instance("web", 0).domainName();
    String web1 = d.instance("web", 1).domainName();
    first.close();
    hv.destroy(web0); // the host went down with its guests (a node loss)
    hv.destroy(web1);

    m.unhost("shop", "web-1"); // moved to another host meanwhile
    List<dev.pods.spi.HypervisorEvent> started = new java.util.concurrent.CopyOnWriteArrayList<>();
    var sub = hv.subscribe(e -> {
      if (e.type() == dev.pods.spi.HypervisorEvent.Type.STARTED) {
        started.add(e);
      }
    });
    try {
      PodRuntime second = runtime();
      Deployment adopted = second.deployment("shop").orElseThrow();
      assertThat(adopted.instance("web", 1).state()).isEqualTo(InstanceState.STOPPED);
      tasks.runAll();
      assertThat(names(adopted)).containsExactly("web-0");
      assertThat(started).extracting(dev.pods.spi.HypervisorEvent::domain).as("domains started").containsExactly(web0);
      assertThat(hv.find(web1)).isEmpty();
    } finally {
      sub.close();
    }
  }
}
