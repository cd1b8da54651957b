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
import dev.pods.imds.ImdsProtocol;
import dev.pods.imds.ImdsServer;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkProtocol;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Firewalls and peers' views of a deployment on the in-memory parts: the rules each instance's network gets
 * ({@link InMemoryNetworkDriver#admits}), how unit sources follow scale, failure and template changes, and what
 * {@code +/unit/NAME/...} answers while peers are not ready. Tasks given to the executor (builds, firewall syncs
 * requested by state changes) run when the test says.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FirewallRuntimeTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Inet4Address ELSEWHERE = Cidr.parseAddress("192.0.2.7");

  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private PodRuntime runtime;
  private FakeAgents agents;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<Runnable> tasks = new java.util.ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    BootImage image = FakeRuntimes.bootImage(tmp);
    runtime = FakeRuntimes.builder(tmp, hv, net, image)
        .executor(r -> {
          synchronized (tasks) {
            tasks.add(r);
          }
        }).build();
  }

  private void runTasks() {
    List<Runnable> now;
    synchronized (tasks) {
      now = List.copyOf(tasks);
      tasks.clear();
    }
    now.forEach(Runnable::run);
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

  private static IngressRule tcp(int port, String... sources) {
    return new IngressRule(Protocol.TCP, PortRange.of(port),
        java.util.Arrays.stream(sources).map(IngressSource::parse).toList());
  }

  private static Unit web(int count) {
    return Unit.builder().name("web").image("tiny").count(count).build();
  }

  private static Unit db(IngressRule... rules) {
    Unit.Builder b = Unit.builder().name("db").image("tiny");
    if (rules.length > 0) {
      b.firewall(new Firewall("db-fw", List.of(rules)));
    }
    return b.build();
  }

  private static Pod pod(Unit... units) {
    Pod.Builder b = Pod.builder().name("shop");
    for (Unit u : units) {
      b.unit(u);
    }
    return b.build();
  }

  /** Deploys {@code p}; the agents of {@code silent} instances never report, those of {@code failing} fail. */
  private Deployment deploy(Pod p, List<String> silent, List<String> failing) {
    Deployment d = runtime.deploy(p);
    agents = new FakeAgents(d);
    agents.silent.addAll(silent);
    agents.outcome = (name, boot) -> !failing.contains(name);
    runTasks();
    return d;
  }

  private Deployment deploy(Pod p) {
    return deploy(p, List.of(), List.of());
  }

  private void awaitState(Instance i, InstanceState st) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (i.state() != st && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(i.state()).as(i.name()).isEqualTo(st);
  }

  private boolean admits(Instance target, Instance from, int port) {
    return net.admits(((DefaultInstance) target).id(), ((DefaultInstance) from).privateAddress(),
        NetworkProtocol.TCP, port);
  }

  private boolean admits(Instance target, Inet4Address from, int port) {
    return net.admits(((DefaultInstance) target).id(), from, NetworkProtocol.TCP, port);
  }

  @Test
  void aUnitWithoutFirewallIsOpenAndOneWithAFirewallAdmitsOnlyWhatItsRulesSay() {
    Unit lb = Unit.builder().name("lb").image("tiny").build();
    Deployment d = deploy(pod(web(1), lb, db(tcp(5432, "+/unit/web"), tcp(22, "192.0.2.0/24"))));
    d.awaitReady(WAIT);
    Instance db = d.instance("db", 0);
    Instance web = d.instance("web", 0);
    assertThat(admits(db, web, 5432)).isTrue();
    assertThat(admits(db, d.instance("lb", 0), 5432)).as("lb is not in the rule").isFalse();
    assertThat(admits(db, web, 5433)).as("another port").isFalse();
    assertThat(admits(db, ELSEWHERE, 22)).as("a CIDR source").isTrue();
    assertThat(admits(db, web, 22)).isFalse();
    assertThat(net.admits(((DefaultInstance) db).id(), ((DefaultInstance) web).privateAddress(), NetworkProtocol.UDP,
        5432)).as("tcp only").isFalse();
    assertThat(admits(web, ELSEWHERE, 12345)).as("web has no firewall: open").isTrue();
  }

  @Test
  void aUnitSourceFollowsScaleUpBeforeTheNewInstanceStartsAndScaleDown() throws Exception {
    Deployment d = deploy(pod(web(1), db(tcp(5432, "+/unit/web"))));
    d.awaitReady(WAIT);
    Instance db = d.instance("db", 0);
    d.scale("web", 2);
    Instance web1 = d.instance("web", 1);
    assertThat(web1.state()).as("not built yet").isEqualTo(InstanceState.PENDING);
    assertThat(admits(db, web1, 5432)).as("admitted before its VM starts").isTrue();
    runTasks();
    awaitState(web1, InstanceState.READY);
    assertThat(admits(db, web1, 5432)).isTrue();
    assertThat(admits(db, d.instance("web", 0), 5432)).isTrue();
    d.scale("web", 1);
    assertThat(admits(db, web1, 5432)).as("removed with its instance").isFalse();
    assertThat(admits(db, d.instance("web", 0), 5432)).isTrue();
    d.scale("web", 0);
    assertThat(net.find(((DefaultInstance) db).id()).orElseThrow().spec().firewall().enforced())
        .as("an empty expansion admits nothing, and the firewall stays enforced").isTrue();
    assertThat(admits(db, ELSEWHERE, 5432)).isFalse();
  }

  @Test
  void aFailedInstanceLeavesTheRulesThatNameItsUnit() throws Exception {
    Deployment d = deploy(pod(web(2), db(tcp(5432, "+/unit/web"))), List.of(), List.of("web-1"));
    awaitState(d.instance("web", 1), InstanceState.FAILED);
    // the failure requests a sync after the state changed (on the thread that saw it fail): run what is queued
    // until it has run
    long end = System.nanoTime() + WAIT.toNanos();
    while (admits(d.instance("db", 0), d.instance("web", 1), 5432) && System.nanoTime() < end) {
      runTasks();
      Thread.sleep(5);
    }
    assertThat(admits(d.instance("db", 0), d.instance("web", 1), 5432)).isFalse();
    assertThat(admits(d.instance("db", 0), d.instance("web", 0), 5432)).isTrue();
  }

  @Test
  void aFirewallChangeIsLiveAndRewritesTheRulesInPlace() {
    Deployment d = deploy(pod(web(1), db(tcp(5432, "+/unit/web"))));
    d.awaitReady(WAIT);
    Instance db = d.instance("db", 0);
    String domain = db.domainName();
    MigrationPlan p = d.plan(pod(web(1), db(tcp(6432, "+/unit/web"), tcp(80, "0.0.0.0/0"))));
    assertThat(p.steps()).extracting(MigrationPlan.Step::instance, MigrationPlan.Step::action).containsExactly(
        org.assertj.core.groups.Tuple.tuple("web-0", MigrationPlan.Action.KEEP),
        org.assertj.core.groups.Tuple.tuple("db-0", MigrationPlan.Action.LIVE));
    assertThat(p.toText()).contains("db-0").contains("live");
    p.apply();
    assertThat(admits(db, d.instance("web", 0), 6432)).isTrue();
    assertThat(admits(db, d.instance("web", 0), 5432)).isFalse();
    assertThat(admits(db, ELSEWHERE, 80)).isTrue();
    assertThat(agents.boots("db-0")).as("no recreation").isEqualTo(1);
    assertThat(hv.find(domain)).isPresent();
    d.plan(pod(web(1), db())).apply();
    assertThat(admits(db, ELSEWHERE, 5432)).as("no firewall left: open").isTrue();
    assertThat(agents.boots("db-0")).isEqualTo(1);
  }

  @Test
  void recreationAndSelfHealKeepTheRules() throws Exception {
    Deployment d = deploy(pod(web(1), db(tcp(5432, "+/unit/web"))));
    d.awaitReady(WAIT);
    Instance db = d.instance("db", 0);
    Instance web = d.instance("web", 0);
    d.plan(pod(web(1).toBuilder().memoryMib(web(1).memoryMib() * 2).build(), db(tcp(5432, "+/unit/web")))).apply();
    assertThat(agents.boots("web-0")).as("web-0 was recreated").isEqualTo(2);
    assertThat(admits(db, web, 5432)).as("its address is admitted again").isTrue();

    hv.undefine(db.domainName()); // db's domain vanishes: the runtime rebuilds it, rules included
    long end = System.nanoTime() + WAIT.toNanos();
    while (agents.boots("db-0") < 2 && System.nanoTime() < end) {
      runTasks();
      Thread.sleep(5);
    }
    awaitState(db, InstanceState.READY);
    assertThat(agents.boots("db-0")).isEqualTo(2);
    assertThat(admits(db, web, 5432)).isTrue();
    assertThat(admits(db, ELSEWHERE, 5432)).isFalse();
  }

  @Test
  void publicIpsSourcesAndSelectorsWithoutMeaningHere() {
    Deployment d = deploy(pod(web(1),
        db(tcp(5432, "+/unit/web/public_ips"), tcp(5433, "+/unit/web/cloud_private_ips"), tcp(5434, "::/0"))));
    d.awaitReady(WAIT);
    Instance db = d.instance("db", 0);
    assertThat(admits(db, d.instance("web", 0), 5432)).as("web has no public address").isFalse();
    assertThat(admits(db, d.instance("web", 0), 5433)).as("no cloud addresses here").isFalse();
    assertThat(admits(db, ELSEWHERE, 5434)).as("no IPv6 here").isFalse();
    assertThat(net.find(((DefaultInstance) db).id()).orElseThrow().spec().firewall().ingress()).isEmpty();
  }

  @Test
  void peersAreListedOnceTheyHoldAddressesAndHealthyOnlyWhenReady() throws Exception {
    Deployment d = deploy(pod(web(2), db()), List.of("web-1"), List.of());
    awaitState(d.instance("db", 0), InstanceState.READY);
    awaitState(d.instance("web", 0), InstanceState.READY);
    Instance db = d.instance("db", 0);
    String web0 = ((DefaultInstance) d.instance("web", 0)).privateAddress().getHostAddress();
    String web1 = ((DefaultInstance) d.instance("web", 1)).privateAddress().getHostAddress();
    assertThat(d.instance("web", 1).state()).isEqualTo(InstanceState.BOOTING);
    assertThat(query(db, "unit/web/private_ips")).isEqualTo(web0 + "," + web1);
    assertThat(query(db, "unit/web/healthy_private_ips")).isEqualTo(web0);
    assertThat(query(db, "unit/web/unhealthy_private_ips")).isEqualTo(web1);
    assertThat(query(db, "unit/web/healthy_count")).isEqualTo("1");
    assertThat(query(db, "instance/web-1/healthy")).isEqualTo("false");
    assertThat(query(db, "instance/web-0/healthy")).isEqualTo("true");
    String before = ((DefaultInstance) db).imds().stateHash();
    // web-1's agent finally reports: it turns healthy, and its peers' state changes (they reload)
    agents.silent.remove("web-1");
    DefaultInstance w1 = (DefaultInstance) d.instance("web", 1);
    w1.onAgentEvent(new dev.pods.imds.AgentEvent.RunStarted(w1.id(), java.time.Instant.now(), "x1",
        dev.pods.Trigger.FIRST_BOOT, "v", "h", List.of(0)));
    w1.onAgentEvent(new dev.pods.imds.AgentEvent.RunFinished(w1.id(), java.time.Instant.now(), "x1",
        dev.pods.Trigger.FIRST_BOOT, true, -1, 0, Duration.ofMillis(1)));
    assertThat(w1.state()).isEqualTo(InstanceState.READY);
    assertThat(query(db, "unit/web/healthy_private_ips")).isEqualTo(web0 + "," + web1);
    assertThat(query(db, "unit/web/unhealthy_private_ips")).isEmpty();
    assertThat(((DefaultInstance) db).imds().stateHash()).isNotEqualTo(before);
  }

  private String query(Instance i, String path) throws IOException, InterruptedException {
    ImdsServer imds = ((DefaultInstance) i).imds();
    assertThat(imds).isNotNull();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(imds.baseUri() + "/v1/query/" + path))
        .header(ImdsProtocol.TOKEN_HEADER, ((DefaultInstance) i).token).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("%s: %s", path, r.body()).isEqualTo(200);
    return r.body().strip();
  }
}
