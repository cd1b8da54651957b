package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClusterRuntime} end to end: a real etcd member and two {@link ClusterHost}s, each with a local runtime on
 * the in-memory fakes (guests played by {@link FakeGuests} over the real metadata services): deploy, placement and
 * state events, READY, output, exec through etcd, scale, a host that leaves (its instance READY on the other with the
 * same private address), a second client runtime that adopts, and destroy.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterRuntimeHostTest {
  static final Duration LEASE = Duration.ofSeconds(3);
  static final Duration WAIT = Duration.ofSeconds(60);
  static final InetSocketAddress METADATA = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  private static EtcdCluster etcd;

  @TempDir Path tmp;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final Map<String, Host> hosts = new TreeMap<>();
  private final String prefix = "/pods-test/runtime-host-" + ProcessHandle.current().pid();

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.start(1);
  }

  @AfterAll
  static void stopEtcd() {
    etcd.close();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** One simulated host: fakes, guests, its etcd connection and its cluster host. */
  final class Host implements AutoCloseable {
    final InMemoryHypervisor hv = InMemoryHypervisor.create();
    final InMemoryNetworkDriver net = new InMemoryNetworkDriver();
    final FakeGuests guests;
    final Client client = etcd.client();
    final ClusterHost host;

    Host(String name) throws IOException {
      Path dir = Files.createDirectories(tmp.resolve(name));
      DirectoryInstanceFiles files = new DirectoryInstanceFiles(dir.resolve("instances"));
      BootImage image = BootImage.kernel(Files.writeString(dir.resolve("vmlinuz"), "k"),
          Files.writeString(dir.resolve("initrd"), "i"), "console=ttyS0");
      guests = new FakeGuests(hv, net, files, name + "-");
      PodRuntime.Builder b = PodRuntime.builder().hypervisor(hv).instanceFiles(files).images(n -> image)
          .stateDir(dir.resolve("state")).owner("test/" + name).namePrefix(name + "-").metadataAddress(METADATA);
      host = ClusterHost.join(EtcdKeyspace.of(client, prefix), new NodeSpec(name, "10.250.0." + name.substring(1), 4,
          4096), LEASE, guests.driver(), b);
    }

    @Override
    public void close() {
      host.close();
      guests.close();
      client.close();
      hv.close();
      net.close();
    }
  }

  private ClusterRuntime client() {
    Client c = etcd.client();
    open.add(c);
    ClusterRuntime r = ClusterRuntime.builder(EtcdKeyspace.of(c, prefix)).destroyTimeout(WAIT).build();
    open.add(r);
    return r;
  }

  @Test
  void theApiOverAClusterOfHostsOnFakeLocalRuntimes() throws Exception {
    for (String n : List.of("h1", "h2")) {
      Host h = new Host(n);
      hosts.put(n, h);
      open.add(h);
    }
    ClusterRuntime runtime = client();
    Pod shop = Pod.builder().name("shop").unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(256)
        .script(Script.shell(Phase.INITIAL, "echo hello\n")).build()).build();
    Deployment d = runtime.deploy(shop);
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    d.events().subscribe(events::add);
    d.awaitReady(WAIT);
    d.await(Wait.allOf(Wait.forPhase(Phase.INITIAL), Wait.forOutput("booted web-[01]")), WAIT);
    Instance web0 = d.instance("web", 0);
    String first = runtime.node("shop", "web-0").orElseThrow();
    String address = web0.privateAddress().getHostAddress();
    assertThat(web0.exec("hostname").stdoutText()).isEqualTo("web-0\n");
    assertThat(web0.domainName()).startsWith(first + "-");
    // spread: one web instance on each host
    assertThat(runtime.node("shop", "web-1")).get().isNotEqualTo(first);
    assertThat(events).filteredOn(PodEvent.StateChanged.class::isInstance).map(PodEvent.StateChanged.class::cast)
        .filteredOn(s -> s.to() == InstanceState.READY).extracting(PodEvent.StateChanged::instance)
        .contains("web-0", "web-1");

    d.scale("web", 3); // count: a live change for web-0 and web-1, web-2 created; apply waits for all three
    assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.READY);
    assertThat(d.instance("web", 2).exec("echo", "third").stdoutText()).isEqualTo("third\n");

    // web-0's host leaves: web-0 is PENDING, then READY on the other host with the same private address
    hosts.get(first).close();
    open.remove(hosts.get(first));
    assertThat(((ClusterDeployment) d).awaitTrue(() -> web0.state() != InstanceState.READY, WAIT)).isTrue();
    d.awaitReady(WAIT);
    assertThat(runtime.node("shop", "web-0")).get().isNotEqualTo(first);
    assertThat(web0.privateAddress().getHostAddress()).isEqualTo(address);
    assertThat(events).filteredOn(PodEvent.Placed.class::isInstance).map(PodEvent.Placed.class::cast)
        .filteredOn(p -> p.instance().equals("web-0")).last().satisfies(p ->
            assertThat(p.why()).startsWith("web-0 on ").contains("moved from " + first));

    // a second client adopts, and destroys
    ClusterRuntime again = client();
    Deployment adopted = again.deployment("shop").orElseThrow();
    assertThat(adopted.isReady()).isTrue();
    adopted.destroy();
    assertThat(again.deployments()).isEmpty();
    // the first client sees it through its own watch, a moment later
    assertThat(((ClusterDeployment) d).awaitTrue(() -> d.instances().stream()
        .allMatch(i -> i.state() == InstanceState.DESTROYED), WAIT)).isTrue();
  }
}
