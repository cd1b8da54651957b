package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.ConflictException;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.MigrationPlan.Action;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodSpecException;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.WaitTimeoutException;
import dev.pods.spi.PodDocuments;
import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ClusterRuntime} against a real etcd member on loopback and real {@link ClusterNode}s (leader election,
 * placement), whose hosts are {@link ReportingInstances}: they write status, events and exec answers as the design
 * says a node does. Each node is on an etcd connection of its own; closing it is what etcd sees of a lost node.
 */
class ClusterRuntimeTest {
  static final Duration LEASE = Duration.ofSeconds(4);
  static final Duration REPORTS = Duration.ofSeconds(2);
  static final Duration WAIT = Duration.ofSeconds(30);
  private static EtcdCluster etcd;
  private static int runs;
  private final List<AutoCloseable> open = new ArrayList<>();
  private String prefix = "";
  private ClusterRuntime runtime;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.start(1);
  }

  @AfterAll
  static void stopEtcd() {
    etcd.close();
  }

  @BeforeEach
  void fresh() {
    prefix = "/pods-test/runtime-" + ProcessHandle.current().pid() + "-" + runs++;
    runtime = ClusterRuntime.builder(EtcdKeyspace.of(client(), prefix)).destroyTimeout(WAIT).build();
    open.add(runtime);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private Client client() {
    Client c = etcd.client();
    open.add(c);
    return c;
  }

  /** A node whose connection the test may close (a node loss). */
  record Node(ClusterNode node, Client client, ReportingInstances host) {}

  private Node join(String name) {
    Client c = client();
    EtcdKeyspace space = EtcdKeyspace.of(c, prefix);
    // its reports under a lease shorter than the node's: they expire first, as a node's reports, which are under
    // the node's own lease, are gone before the leader sees the node lost
    ReportingInstances host = new ReportingInstances(space, name, REPORTS);
    open.add(host);
    ClusterNode n = ClusterNode.join(space, new NodeSpec(name, "10.250.0." + name.substring(1), 4, 4096), host,
        LEASE);
    open.add(n);
    return new Node(n, c, host);
  }

  private static Pod shop(int webs) {
    return Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("tiny").count(webs).memoryMib(256).build())
        .build();
  }

  private static List<String> texts(List<PodEvent> events, Class<? extends PodEvent> kind) {
    return events.stream().filter(kind::isInstance).map(PodEvent::toString).toList();
  }

  @Test
  void aDeployedPodIsPlacedStartedAndReadyWithItsEventsAndReports() {
    Deployment d = runtime.deploy(shop(2));
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    d.events().subscribe(events::add);
    assertThat(d.instance("web", 0).state()).isEqualTo(InstanceState.PENDING);
    assertThat(d.instance("web", 0).status().reason()).isEqualTo("not placed yet (is a node of the cluster leading?)");
    assertThatThrownBy(() -> d.awaitReady(Duration.ofMillis(300))).isInstanceOf(dev.pods.PhaseTimeoutException.class)
        .hasMessageContaining("web-0 PENDING since").hasMessageContaining("web-1 PENDING since")
        .hasMessageContaining("not placed yet");

    join("h1");
    join("h2");
    d.awaitReady(WAIT);
    assertThat(d.isReady()).isTrue();
    Instance web0 = d.instance("web", 0);
    assertThat(web0.id()).isEqualTo("shop/web-0");
    assertThat(web0.domainName()).isEqualTo("test-shop-web-0");
    assertThat(web0.privateAddress().getHostAddress()).startsWith("10.97.0.");
    assertThat(web0.publicAddress()).isEmpty();
    d.await(Wait.allOf(Wait.forPhase(Phase.INITIAL), Wait.forOutput("hello from web-[01] on h[12]")), WAIT);
    d.instance("web", 1).await(Wait.forOutput("hello from web-1"), WAIT);
    assertThatThrownBy(() -> d.instance("web", 1).await(Wait.forOutput("hello from web-0"), Duration.ofMillis(200)))
        .isInstanceOf(WaitTimeoutException.class).hasMessageContaining("web-1 READY on h");
    assertThat(d.instance("web", 1).recentOutput()).singleElement().asString().startsWith("hello from web-1 on h");

    List<PodEvent.Placed> placed = events.stream().filter(PodEvent.Placed.class::isInstance)
        .map(PodEvent.Placed.class::cast).toList();
    assertThat(placed).extracting(PodEvent.Placed::instance).contains("web-0", "web-1");
    assertThat(placed).extracting(PodEvent.Placed::node).containsAnyOf("h1", "h2").doesNotContainNull();
    assertThat(placed).allSatisfy(p -> assertThat(p.why()).startsWith(p.instance() + " on " + p.node() + ": "));
    assertThat(events).filteredOn(PodEvent.StateChanged.class::isInstance).map(PodEvent.StateChanged.class::cast)
        .filteredOn(s -> s.to() == InstanceState.READY).extracting(PodEvent.StateChanged::instance)
        .contains("web-0", "web-1");
    assertThatThrownBy(() -> d.await(Wait.forPort(80), WAIT)).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("port 80").hasMessageContaining("exec");
    assertThatThrownBy(() -> web0.await(Wait.forPhase(Phase.RELOAD), WAIT))
        .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("phase reload");
    assertThatThrownBy(web0::restart).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("exec 'reboot'");
    assertThatThrownBy(web0::consoleOutput).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("recentOutput()");
    assertThatThrownBy(() -> web0.endpoint(80)).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("shop/web-0").hasMessageContaining("private address");
    assertThat(runtime.recentEvents("shop")).filteredOn(PodEvent.StateChanged.class::isInstance)
        .map(PodEvent.StateChanged.class::cast).filteredOn(e -> e.instance().equals("web-0"))
        .extracting(PodEvent.StateChanged::to).containsExactly(InstanceState.CREATING, InstanceState.BOOTING,
            InstanceState.INITIALIZING, InstanceState.READY);
    assertThatThrownBy(runtime::disks).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("nodes");
  }

  @Test
  void anInstanceLeavesReadyAsSoonAsItsNodesLeaseExpiresThenRunsElsewhere() {
    java.util.Map<String, Node> nodes = java.util.Map.of("h1", join("h1"), "h2", join("h2"));
    Deployment d = runtime.deploy(shop(1));
    d.awaitReady(WAIT);
    Instance web0 = d.instance("web", 0);
    String first = web0.domainName().isEmpty() ? "" : runtime.view().status("shop/web-0").node();
    assertThat(first).isIn("h1", "h2");
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    d.events().subscribe(events::add);

    nodes.get(first).client().close(); // keep-alives stop: the node's lease expires, etcd deletes its reports
    assertThat(((ClusterDeployment) d).awaitTrue(() -> web0.state() != InstanceState.READY, WAIT)).isTrue();
    assertThat(events).filteredOn(PodEvent.StateChanged.class::isInstance).map(PodEvent.StateChanged.class::cast)
        .filteredOn(s -> s.to() == InstanceState.PENDING).first().satisfies(s -> {
          assertThat(s.instance()).isEqualTo("web-0");
          assertThat(s.from()).isEqualTo(InstanceState.READY);
        });
    assertThat(web0.status().reason()).startsWith("on h"); // the lost node, or already the next one

    d.awaitReady(WAIT);
    String second = runtime.view().status("shop/web-0").node();
    assertThat(second).isNotEqualTo(first);
    assertThat(events).filteredOn(PodEvent.Placed.class::isInstance).map(PodEvent.Placed.class::cast)
        .anySatisfy(p -> {
          assertThat(p.node()).isEqualTo(second);
          assertThat(p.why()).startsWith("web-0 on " + second);
        });
  }

  @Test
  void execGoesThroughEtcdToTheNodeThatRunsTheInstanceAndFailsClearlyWhenNoneDoes() throws Exception {
    Deployment d = runtime.deploy(shop(1));
    Instance web0 = d.instance("web", 0);
    assertThatThrownBy(() -> web0.exec("echo", "hi")).isInstanceOf(PodsException.class)
        .hasMessageContaining("shop/web-0").hasMessageContaining("runs nowhere now")
        .hasMessageContaining("not placed yet");
    join("h1");
    d.awaitReady(WAIT);
    dev.pods.ExecResult r = web0.exec("echo", "hello", "cluster");
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdoutText()).isEqualTo("hello cluster\n");
    dev.pods.ExecResult missing = web0.execAsync(dev.pods.ExecRequest.of("nope")).get();
    assertThat(missing.exitCode()).isEqualTo(127);
    assertThat(missing.stderrText()).isEqualTo("nope: not found\n");
  }

  @Test
  void planApplyAndScaleWriteTheDesiredPodAndWaitUntilTheNodesRunIt() {
    join("h1");
    join("h2");
    Deployment d = runtime.deploy(shop(2));
    d.awaitReady(WAIT);
    Pod bigger = d.pod().withUnit(d.pod().unit("web").orElseThrow().toBuilder().count(3).memoryMib(512).build());
    MigrationPlan p = d.plan(bigger);
    assertThat(p.steps()).extracting(MigrationPlan.Step::instance, MigrationPlan.Step::action).containsExactly(
        org.assertj.core.groups.Tuple.tuple("web-0", Action.RECREATE),
        org.assertj.core.groups.Tuple.tuple("web-1", Action.RECREATE),
        org.assertj.core.groups.Tuple.tuple("web-2", Action.CREATE));
    assertThat(p.toText()).contains("instances:\n  web-0  recreate  (memory 256 -> 512 MiB)\n")
        .contains("  web-2  create    (count 2 -> 3)\n");
    assertThat(p.isEmpty()).isFalse();
    p.apply(WAIT);
    String v = PodDocuments.unitVersion(bigger.unit("web").orElseThrow());
    assertThat(runtime.view().statusOf("shop").values()).hasSize(3)
        .allSatisfy(s -> assertThat(s.specVersion()).isEqualTo(v))
        .allSatisfy(s -> assertThat(s.state()).isEqualTo("READY"));
    assertThat(d.pod()).isEqualTo(bigger);
    assertThat(d.plan(bigger).isEmpty()).isTrue();
    assertThatThrownBy(p::apply).isInstanceOf(ConflictException.class).hasMessageContaining("plan again");

    d.scale("web", 1);
    assertThat(runtime.view().statusOf("shop")).containsOnlyKeys("web-0");
    assertThat(d.instances()).extracting(Instance::name).containsExactly("web-0");
    assertThatThrownBy(() -> d.scale("db", 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no unit 'db'");
  }

  @Test
  void destroyRemovesTheDesiredPodAndWaitsUntilNoNodeRunsIt() {
    join("h1");
    Deployment d = runtime.deploy(shop(2));
    d.awaitReady(WAIT);
    Instance web1 = d.instance("web", 1);
    d.destroy();
    assertThat(runtime.view().statusOf("shop")).isEmpty();
    assertThat(runtime.deployments()).isEmpty();
    assertThat(runtime.deployment("shop")).isEmpty();
    assertThat(web1.state()).isEqualTo(InstanceState.DESTROYED);
    assertThatThrownBy(() -> d.awaitReady(WAIT)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("destroyed");
    d.destroy(); // idempotent
    runtime.deploy(shop(1)).awaitReady(WAIT); // the name is free again
  }

  @Test
  void aSecondRuntimeOnTheSameKeyspaceAdoptsAndControlsThePods() {
    join("h1");
    runtime.deploy(shop(2)).awaitReady(WAIT);
    runtime.close();
    try (ClusterRuntime again = ClusterRuntime.connect(EtcdKeyspace.of(client(), prefix))) {
      assertThat(again.deployments()).extracting(x -> x.pod().name()).containsExactly("shop");
      Deployment d = again.deployment("shop").orElseThrow();
      assertThat(d.isReady()).isTrue();
      assertThat(d.instance("web", 1).exec("echo", "adopted").stdoutText()).isEqualTo("adopted\n");
      assertThatThrownBy(() -> again.deploy(shop(1))).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("'shop' is deployed in the cluster");
      d.scale("web", 1);
      assertThat(d.instances()).hasSize(1);
    }
    assertThatThrownBy(() -> runtime.deployments()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void deployRefusesWhatTheClientsImagePolicyRefusesBeforeAnythingIsWritten() {
    Pod bad = Pod.builder().name("bad")
        .unit(Unit.builder().name("web").image("/srv/images/web.qcow2").memoryMib(256).build()).build();
    assertThatThrownBy(() -> runtime.deploy(bad)).isInstanceOf(PodSpecException.class)
        .hasMessageContaining("/srv/images/web.qcow2");
    assertThat(runtime.deployments()).isEmpty();
    assertThat(new ClusterPods(EtcdKeyspace.of(client(), prefix)).assignments()).isEmpty();
  }
}
