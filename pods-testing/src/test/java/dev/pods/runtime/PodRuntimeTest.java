package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.ImagePolicy;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.PhaseTimeoutException;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodEvents;
import dev.pods.PodRuntime;
import dev.pods.PodSpecException;
import dev.pods.Problem;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.InstanceView;
import dev.pods.OutputStream;
import dev.pods.imds.PeerInstance;
import dev.pods.spi.Cidr;
import dev.pods.spi.DomainState;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime's bookkeeping against the in-memory hypervisor and network driver, with a real metadata service per
 * instance on loopback. No guest runs here: agent reports are handed to the instances as the metadata service
 * would (phase behaviour in a real guest is the system test's, in pods-examples).
 */
class PodRuntimeTest {
  private static final Cidr RANGE = Cidr.parse("10.98.0.0/16");

  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private DirectoryInstanceFiles files;
  private BootImage image;
  /** Creation tasks, run when the test says (so it decides the order and injects failures in between). */
  private final List<Runnable> tasks = new ArrayList<>();
  private PodRuntime runtime;

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    files = new DirectoryInstanceFiles(tmp.resolve("instances"));
    image = FakeRuntimes.bootImage(tmp);
    runtime = FakeRuntimes.builder(tmp, hv, net, image)
        .instanceFiles(files)
        .executor(tasks::add).build();
  }

  @AfterEach
  void tearDown() {
    runtime.close();
    hv.close();
    net.close();
  }

  private static Pod pod() {
    return Pod.builder().name("shop")
        .unit(Unit.builder().name("db").image("tiny").memoryMib(192).build())
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192)
            .script(Script.shell(Phase.RELOAD, "pods get +/unit/db/private_ips\n")).build())
        .build();
  }

  private void runTasks() {
    List<Runnable> now = List.copyOf(tasks);
    tasks.clear();
    now.forEach(Runnable::run);
  }

  private static DefaultInstance impl(Instance i) {
    return (DefaultInstance) i;
  }

  private static ImdsServer imds(Instance i) {
    ImdsServer s = impl(i).imds();
    assertThat(s).as("metadata service of %s", i.name()).isNotNull();
    return s;
  }

  private IpAddressPool privatePool() {
    return net.pool(IpPoolSpec.subnets("priv-10-98-0-0-16", RANGE, 30));
  }

  private List<Path> stateFiles() throws IOException {
    try (var s = Files.list(tmp.resolve("state/deployments"))) {
      return s.toList();
    }
  }

  private static void initialPhase(Instance i, boolean ok, String... lines) {
    Instant at = Instant.now();
    DefaultInstance d = impl(i);
    d.onAgentEvent(new AgentEvent.RunStarted(i.id(), at, "r1", Trigger.FIRST_BOOT, "v", "h", List.of(0)));
    for (String l : lines) {
      d.onAgentEvent(new AgentEvent.OutputLine(i.id(), at, "r1", 0, OutputStream.STDOUT, l));
    }
    d.onAgentEvent(new AgentEvent.RunFinished(i.id(), at, "r1", Trigger.FIRST_BOOT, ok, ok ? -1 : 0, ok ? 0 : 3,
        Duration.ofMillis(5)));
  }

  private static List<String> peers(InstanceView v, String unit) {
    return v.units().get(unit).stream().map(p -> p.name() + "=" + p.privateIps().get(0)).toList();
  }

  @Test
  void deployBuildsEveryInstanceAndDestroyRemovesEverything() throws Exception {
    Deployment d = runtime.deploy(pod());
    assertThat(d.instances()).extracting(Instance::name).containsExactly("db-0", "web-0", "web-1");
    assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.PENDING);
    assertThat(stateFiles()).hasSize(1);
    runTasks();

    assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.BOOTING);
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0", "t-shop-web-1");
    Set<String> addresses = new HashSet<>();
    Set<String> configs = new HashSet<>();
    for (Instance i : d.instances()) {
      assertThat(hv.state(i.domainName())).isEqualTo(DomainState.RUNNING);
      assertThat(hv.find(i.domainName()).orElseThrow().metadata().owner()).isEqualTo(runtime.owner());
      assertThat(net.find(i.id())).isPresent();
      assertThat(net.find(i.id()).orElseThrow().spec().privateAddress()).isEqualTo(i.privateAddress());
      String config = Files.readString(files.dir(i.domainName()).resolve("seed/pods-agent.conf"));
      assertThat(config).contains("169.254.169.254");
      assertThat(configs.add(config)).as("a fresh token per instance").isTrue();
      assertThat(addresses.add(i.privateAddress().getHostAddress())).isTrue();
    }
    // each instance sees itself, its unit's peers and the pod's other units
    InstanceView web1 = imds(d.instance("web", 1)).view();
    assertThat(web1.instanceId()).isEqualTo("shop-web-1");
    assertThat(web1.privateIps()).containsExactly(d.instance("web", 1).privateAddress().getHostAddress());
    assertThat(peers(web1, "db")).containsExactly("db-0=" + d.instance("db", 0).privateAddress().getHostAddress());
    assertThat(peers(web1, "web")).containsExactly(
        "web-0=" + d.instance("web", 0).privateAddress().getHostAddress(),
        "web-1=" + d.instance("web", 1).privateAddress().getHostAddress());
    assertThat(privatePool().allocations()).hasSize(3);
    InetSocketAddress listener = imds(d.instance("db", 0)).address();
    new Socket(listener.getAddress(), listener.getPort()).close();

    d.destroy();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(net.list(runtime.owner())).isEmpty();
    assertThat(privatePool().allocations()).isEmpty();
    assertThat(Files.list(tmp.resolve("instances")).toList()).isEmpty();
    assertThat(stateFiles()).isEmpty();
    assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.DESTROYED);
    assertThat(runtime.deployments()).isEmpty();
    assertThatThrownBy(() -> new Socket(listener.getAddress(), listener.getPort()).close())
        .isInstanceOf(IOException.class);
    d.destroy(); // idempotent
  }

  @Test
  void theImagePolicyRefusesHostPathsBeforeAnythingIsRecordedOrBuilt() throws Exception {
    Pod evil = Pod.builder().name("evil")
        .unit(Unit.builder().name("web").image("/etc/shadow").build())
        .unit(Unit.builder().name("db").image("http://169.254.169.254/latest/user-data").build())
        .build();

    assertThatThrownBy(() -> runtime.deploy(evil))
        .isInstanceOf(PodSpecException.class)
        .satisfies(e -> assertThat(((PodSpecException) e).problems()).extracting(Problem::toString).containsExactly(
            "error: units[web].image: image '/etc/shadow' is refused by the host's image policy: disk image paths"
                + " are not allowed (rule: no host folder is allowed for images)",
            "error: units[db].image: image 'http://169.254.169.254/latest/user-data' is refused by the host's image"
                + " policy: image URLs are not allowed (rule: no URL prefix is allowed for images)"));
    assertThat(runtime.deployments()).isEmpty();
    assertThat(stateFiles()).isEmpty();
    assertThat(tasks).isEmpty();
    assertThat(hv.domainNames()).isEmpty();

    // a plan towards such a pod is refused too
    Deployment d = runtime.deploy(pod());
    Pod changed = d.pod().withUnit(Unit.builder().name("db").image("/proc/self/environ").memoryMib(192).build());
    assertThatThrownBy(() -> d.plan(changed))
        .isInstanceOf(PodSpecException.class)
        .hasMessageContaining("units[db].image: image '/proc/self/environ' is refused");
  }

  @Test
  void aHostAllowedFolderPassesThePolicy() throws Exception {
    runtime.close();
    runtime = PodRuntime.builder().hypervisor(hv).networkDriver(net).instanceFiles(files)
        .images(name -> image).stateDir(tmp.resolve("state2")).namePrefix("t-")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).executor(tasks::add)
        .imagePolicy(ImagePolicy.builder().allowFolder(Path.of("/srv/images")).build())
        .build();

    Deployment d = runtime.deploy(Pod.builder().name("ok")
        .unit(Unit.builder().name("web").image("/srv/images/web.qcow2").build()).build());
    runTasks();

    assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.BOOTING);
  }

  @Test
  void awaitReadyReturnsOnceTheInitialPhaseFinishedEverywhereAndEventsFlow() throws Exception {
    Deployment d = runtime.deploy(pod());
    BlockingQueue<PodEvent> seen = new LinkedBlockingQueue<>();
    PodEvents.Subscription sub = d.events().subscribe(seen::add);
    runTasks();
    assertThat(d.isReady()).isFalse();
    for (Instance i : d.instances()) {
      initialPhase(i, true, "hello from " + i.name());
    }
    d.awaitReady(Duration.ofSeconds(5));
    assertThat(d.isReady()).isTrue();
    assertThat(d.instance("web", 0).recentOutput()).containsExactly("hello from web-0");

    List<PodEvent> got = new ArrayList<>();
    // 3 x (CREATING, BOOTING, INITIALIZING, READY, PhaseStarted, OutputLine, PhaseFinished)
    while (got.size() < 21) {
      PodEvent e = seen.poll(5, TimeUnit.SECONDS);
      assertThat(e).as("event %s of 21, got %s", got.size() + 1, got).isNotNull();
      got.add(e);
    }
    assertThat(got).filteredOn(e -> e instanceof PodEvent.StateChanged s && s.to() == InstanceState.READY)
        .extracting(PodEvent::instance).containsExactlyInAnyOrder("db-0", "web-0", "web-1");
    assertThat(got).filteredOn(PodEvent.OutputLine.class::isInstance)
        .extracting(e -> ((PodEvent.OutputLine) e).line())
        .containsExactlyInAnyOrder("hello from db-0", "hello from web-0", "hello from web-1");

    sub.close();
    initialPhase(d.instance("db", 0), true, "after unsubscribing");
    d.events().subscribe(e -> {}).close();
    assertThat(seen.poll(300, TimeUnit.MILLISECONDS)).isNull();
    d.destroy();
  }

  @Test
  void awaitReadyTimesOutWithTheLastOutputLinesOfTheInstanceThatIsNotReady() {
    Deployment d = runtime.deploy(pod());
    runTasks();
    initialPhase(d.instance("db", 0), true);
    initialPhase(d.instance("web", 0), true);
    Instant at = Instant.now();
    impl(d.instance("web", 1)).onAgentEvent(
        new AgentEvent.RunStarted("shop-web-1", at, "r1", Trigger.FIRST_BOOT, "v", "h", List.of(0)));
    for (String l : List.of("step 1", "waiting for the database")) {
      impl(d.instance("web", 1)).onAgentEvent(
          new AgentEvent.OutputLine("shop-web-1", at, "r1", 0, OutputStream.STDOUT, l));
    }
    assertThatThrownBy(() -> d.awaitReady(Duration.ofMillis(200)))
        .isInstanceOfSatisfying(PhaseTimeoutException.class, e -> {
          assertThat(e.phase()).isEqualTo(Phase.INITIAL);
          assertThat(e.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        })
        .hasMessageContaining("instance web-1 is INITIALIZING")
        .hasMessageContaining("step 1\n  waiting for the database")
        .hasMessageNotContaining("web-0");
    d.destroy();
  }

  @Test
  void aFailedInitialPhaseFailsAwaitReadyAtOnceAndKeepsTheVm() {
    Deployment d = runtime.deploy(pod());
    runTasks();
    initialPhase(d.instance("db", 0), false, "E: no such package");
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> d.awaitReady(Duration.ofMinutes(5)))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("instance db-0 of pod shop failed")
        .hasMessageContaining("exit code 3")
        .hasMessageContaining("E: no such package");
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
    assertThat(hv.state("t-shop-db-0")).isEqualTo(DomainState.RUNNING);
    d.destroy();
    assertThat(hv.domainNames()).isEmpty();
  }

  @Test
  void aFailingInstanceIsCleanedUpAndReportedWithoutCorruptingTheOthers() {
    Deployment d = runtime.deploy(pod());
    List<Runnable> creations = List.copyOf(tasks);
    tasks.clear();
    creations.get(1).run();
    creations.get(2).run();
    hv.failNext("start");
    creations.get(0).run(); // db-0: network, files, domain and listener are built, then the start fails

    Instance db = d.instance("db", 0);
    assertThat(db.state()).isEqualTo(InstanceState.FAILED);
    assertThat(db.failure()).get().asString().contains("injected failure");
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-web-0", "t-shop-web-1");
    assertThat(net.find(db.id())).isEmpty();
    assertThat(Files.exists(files.dir(db.domainName()))).isFalse();
    assertThat(impl(db).imds()).isNull();
    assertThatThrownBy(() -> db.exec("true")).isInstanceOf(IllegalStateException.class);
    // the others are untouched, and no longer list the failed peer
    for (Instance w : List.of(d.instance("web", 0), d.instance("web", 1))) {
      assertThat(w.state()).isEqualTo(InstanceState.BOOTING);
      assertThat(net.find(w.id())).isPresent();
      assertThat(imds(w).view().units().get("db")).isEmpty();
      assertThat(imds(w).view().units().get("web")).extracting(PeerInstance::name)
          .containsExactly("web-0", "web-1");
    }
    assertThatThrownBy(() -> d.awaitReady(Duration.ofSeconds(5)))
        .hasMessageContaining("instance db-0 of pod shop failed")
        .hasMessageContaining("injected failure");

    d.destroy();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(net.list(runtime.owner())).isEmpty();
    assertThat(privatePool().allocations()).isEmpty();
  }

  @Test
  void aFailedNetworkLeavesNothingOfThatInstance() {
    Deployment d = runtime.deploy(pod());
    net.failNext(InMemoryNetworkDriver.Operation.CREATE);
    runTasks(); // db-0 first
    assertThat(d.instance("db", 0).state()).isEqualTo(InstanceState.FAILED);
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-web-0", "t-shop-web-1");
    assertThat(Files.exists(files.dir("t-shop-db-0"))).isFalse();
    d.destroy();
  }

  @Test
  void deployWithoutAWantedPublicNetworkFailsAndKeepsNoAllocation() throws IOException {
    Pod p = Pod.builder().name("pub")
        .unit(Unit.builder().name("a").image("tiny").count(2).build())
        .unit(Unit.builder().name("b").image("tiny").publicAddress(true).build())
        .build();
    assertThatThrownBy(() -> runtime.deploy(p)).isInstanceOf(PodsException.class)
        .hasMessageContaining("unit b of pod pub wants a public address");
    assertThat(privatePool().allocations()).isEmpty();
    assertThat(runtime.deployments()).isEmpty();
    assertThat(stateFiles()).isEmpty();
    assertThat(tasks).isEmpty();
  }

  @Test
  void aPodIsDeployedOnceAtATime() {
    Deployment d = runtime.deploy(pod());
    assertThatThrownBy(() -> runtime.deploy(pod())).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already deployed");
    runTasks();
    d.destroy();
    // destroyed before its creation tasks ran: they do nothing when they run later
    runtime.deploy(pod()).destroy();
    runTasks();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(net.list(runtime.owner())).isEmpty();
    assertThat(privatePool().allocations()).isEmpty();
  }

  @Test
  void closingTheRuntimeStopsListenersAndLeavesVmsAndNetworks() {
    Deployment d = runtime.deploy(pod());
    runTasks();
    InetSocketAddress listener = imds(d.instance("web", 0)).address();
    runtime.close();
    runtime.close();
    assertThat(hv.domainNames()).hasSize(3);
    assertThat(net.list(runtime.owner())).hasSize(3);
    assertThat(privatePool().allocations()).hasSize(3);
    assertThatThrownBy(() -> new Socket(listener.getAddress(), listener.getPort()).close())
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> runtime.deploy(pod())).isInstanceOf(IllegalStateException.class);
  }
}
