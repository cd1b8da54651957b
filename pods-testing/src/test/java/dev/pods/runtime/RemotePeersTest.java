package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.SourceLocation;
import dev.pods.Unit;
import dev.pods.imds.ImdsProtocol;
import dev.pods.imds.ImdsServer;
import dev.pods.spec.DomainRecord;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spec.RecordType;
import dev.pods.spec.Reference;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkProtocol;
import dev.pods.spi.PodMembership.RemotePeer;
import dev.pods.testing.InMemoryDnsProvider;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryMembership;
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
 * The instances other hosts run ({@link dev.pods.spi.PodMembership#remotePeers}) as a runtime's own instances see
 * them, on the in-memory parts: in the metadata service's {@code +/unit/NAME/...} values (listed, healthy or not, by
 * the same states as local peers; a change of that set changes the instances' state hash, so their agents reload),
 * in firewall rules with unit sources, and in the pod's DNS names. Tasks handed to the executor run when the test
 * says.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RemotePeersTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Inet4Address REMOTE = Cidr.parseAddress("10.99.7.2");
  private static final Inet4Address REMOTE_PUBLIC = Cidr.parseAddress("198.51.100.77");

  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private PodRuntime runtime;
  private FakeAgents agents;
  private final InMemoryMembership m = new InMemoryMembership();
  private final InMemoryDnsProvider provider = InMemoryDnsProvider.serving("example.test");
  private final FakeRuntimes.Tasks tasks = new FakeRuntimes.Tasks();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    BootImage image = FakeRuntimes.bootImage(tmp);
    runtime = FakeRuntimes.builder(tmp, hv, net, image).executor(tasks).membership(m)
        .domain("example", "example.test", provider).build();
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

  /** web (2, a reload block reading its peers, a DNS name) and db (its firewall admits web on 5432). */
  private static Pod pod() {
    DomainRecord name = new DomainRecord("web", Reference.of("domain", "example"), RecordType.PRIVATE, null,
        new SourceLocation("web.md", 3, 1));
    return Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192)
            .script(Script.shell(Phase.RELOAD, "pods get +/unit/web/private_ips\n"))
            .domain(new DomainRecords("web-dns", List.of(name))).build())
        .unit(Unit.builder().name("db").image("tiny").memoryMib(192)
            .firewall(new Firewall("db-fw", List.of(new IngressRule(Protocol.TCP, PortRange.of(5432),
                List.of(IngressSource.parse("+/unit/web")))))).build())
        .build();
  }

  private Deployment deploy() {
    m.host("shop", "web-0");
    m.host("shop", "db-0");
    Deployment d = runtime.deploy(pod());
    agents = new FakeAgents(d);
    tasks.runAll();
    d.awaitReady(WAIT);
    return d;
  }

  private void remote(InstanceState st) {
    m.putPeer("shop", new RemotePeer("web", 1, REMOTE, REMOTE_PUBLIC, st));
    tasks.runAll();
  }

  private String query(Instance i, String path) throws IOException, InterruptedException {
    ImdsServer imds = imds(i);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(imds.baseUri() + "/v1/query/" + path))
        .header(ImdsProtocol.TOKEN_HEADER, ((DefaultInstance) i).token).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("%s: %s", path, r.body()).isEqualTo(200);
    return r.body().strip();
  }

  private static ImdsServer imds(Instance i) {
    ImdsServer s = ((DefaultInstance) i).imds();
    assertThat(s).as("metadata service of %s", i.name()).isNotNull();
    return s;
  }

  private boolean dbAdmits(Deployment d, Inet4Address from) {
    return net.admits(((DefaultInstance) d.instance("db", 0)).id(), from, NetworkProtocol.TCP, 5432);
  }

  private List<Inet4Address> resolve(Instance i, String name) {
    return net.resolve(((DefaultInstance) i).id(), name);
  }

  @Test
  void aRemotePeerCountsInTheViewsAsALocalOneInTheSameState() throws Exception {
    Deployment d = deploy();
    Instance web0 = d.instance("web", 0);
    Instance db = d.instance("db", 0);
    String local = web0.privateAddress().getHostAddress();
    String remote = REMOTE.getHostAddress();
    assertThat(query(db, "unit/web/private_ips")).isEqualTo(local);
    String hash = imds(web0).stateHash();

    remote(InstanceState.BOOTING);
    for (Instance i : List.of(web0, db)) {
      assertThat(query(i, "unit/web/private_ips")).as(i.name()).isEqualTo(local + "," + remote);
      assertThat(query(i, "unit/web/public_ips")).as(i.name()).isEqualTo(REMOTE_PUBLIC.getHostAddress());
      assertThat(query(i, "unit/web/healthy_private_ips")).as(i.name()).isEqualTo(local);
      assertThat(query(i, "unit/web/unhealthy_private_ips")).as(i.name()).isEqualTo(remote);
    }
    assertThat(query(db, "instance/web-1/healthy")).isEqualTo("false");
    assertThat(imds(web0).stateHash()).as("a peer came: web-0 reloads").isNotEqualTo(hash);
    hash = imds(web0).stateHash();

    remote(InstanceState.READY);
    assertThat(query(db, "unit/web/healthy_private_ips")).isEqualTo(local + "," + remote);
    assertThat(query(db, "unit/web/healthy_count")).isEqualTo("2");
    assertThat(imds(web0).stateHash()).as("the peer became READY: web-0 reloads").isNotEqualTo(hash);
    hash = imds(web0).stateHash();

    remote(InstanceState.UNHEALTHY);
    assertThat(query(db, "unit/web/private_ips")).as("not listed, as a local UNHEALTHY one").isEqualTo(local);
    remote(InstanceState.READY);
    assertThat(imds(web0).stateHash()).as("listed and READY again: the same state").isEqualTo(hash);

    m.removePeer("shop", "web-1");
    tasks.runAll();
    assertThat(query(db, "unit/web/private_ips")).isEqualTo(local);
    assertThat(imds(web0).stateHash()).as("the peer left: web-0 reloads").isNotEqualTo(hash);
  }

  @Test
  void aRemotePeerEntersTheFirewallRulesThatNameItsUnitWhileListed() {
    Deployment d = deploy();
    assertThat(dbAdmits(d, REMOTE)).isFalse();
    remote(InstanceState.BOOTING);
    assertThat(dbAdmits(d, REMOTE)).as("listed while it boots, as a local one").isTrue();
    assertThat(dbAdmits(d, d.instance("web", 0).privateAddress())).isTrue();
    assertThat(dbAdmits(d, REMOTE_PUBLIC)).as("the rule names private_ips").isFalse();
    remote(InstanceState.FAILED);
    assertThat(dbAdmits(d, REMOTE)).isFalse();
    remote(InstanceState.READY);
    assertThat(dbAdmits(d, REMOTE)).isTrue();
    m.removePeer("shop", "web-1");
    tasks.runAll();
    assertThat(dbAdmits(d, REMOTE)).isFalse();
    assertThat(dbAdmits(d, d.instance("web", 0).privateAddress())).isTrue();
  }

  @Test
  void aRemotePeerEntersThePodsDnsNames() {
    Deployment d = deploy();
    Inet4Address web0 = d.instance("web", 0).privateAddress();
    assertThat(resolve(d.instance("db", 0), "web.example.test")).containsExactly(web0);
    remote(InstanceState.READY);
    for (Instance i : d.instances()) {
      assertThat(resolve(i, "web.example.test")).as(i.name()).containsExactly(web0, REMOTE);
    }
    assertThat(provider.addresses("example.test", "web")).containsExactlyInAnyOrder(web0, REMOTE);
    remote(InstanceState.STOPPED);
    assertThat(resolve(d.instance("db", 0), "web.example.test")).containsExactly(web0);
    assertThat(provider.addresses("example.test", "web")).containsExactly(web0);
  }

  @Test
  void anInstanceThatMovesHereReplacesItsRemotePeerInTheViews() throws Exception {
    Deployment d = deploy();
    remote(InstanceState.READY);
    m.host("shop", "web-1"); // moves here: no longer a remote peer, built here with an address of the pool
    tasks.runAll();
    d.awaitReady(WAIT);
    Instance web1 = d.instance("web", 1);
    assertThat(query(d.instance("db", 0), "unit/web/private_ips")).isEqualTo(
        d.instance("web", 0).privateAddress().getHostAddress() + "," + web1.privateAddress().getHostAddress());
    assertThat(dbAdmits(d, REMOTE)).isFalse();
    assertThat(dbAdmits(d, web1.privateAddress())).isTrue();
  }
}
