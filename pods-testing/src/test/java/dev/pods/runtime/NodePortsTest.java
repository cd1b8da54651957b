package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.NetworkException;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.spec.NodePort;
import dev.pods.spec.Protocol;
import dev.pods.spi.Cidr;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node ports on the in-memory parts: each instance's service is a socket bound "in" its namespace at its private
 * address, the node port's listener is found through {@link InMemoryNetworkDriver#hostListener}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodePortsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final InetSocketAddress NODE = new InetSocketAddress(Cidr.parseAddress("10.77.0.1"), 30080);

  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private final InMemoryNetworkDriver net = new InMemoryNetworkDriver();
  private final List<PodRuntime> runtimes = new ArrayList<>();
  private final List<FakeAgents> agents = new ArrayList<>();
  private final List<ServerSocket> services = new ArrayList<>();
  private final List<Runnable> tasks = new ArrayList<>();

  private void runTasks() {
    List<Runnable> now;
    synchronized (tasks) {
      now = List.copyOf(tasks);
      tasks.clear();
    }
    now.forEach(Runnable::run);
  }

  private PodRuntime runtime(@Nullable String node, String state) throws IOException {
    if (hv == null) {
      hv = InMemoryHypervisor.create();
    }
    BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
    PodRuntime r = PodRuntime.builder().hypervisor(hv).networkDriver(net)
        .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances-" + state))).images(name -> image)
        .stateDir(tmp.resolve(state)).namePrefix(state + "-")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .nodeAddress(node == null ? null : Cidr.parseAddress(node))
        .executor(t -> {
          synchronized (tasks) {
            tasks.add(t);
          }
        }).build();
    runtimes.add(r);
    return r;
  }

  @AfterEach
  void tearDown() throws IOException {
    agents.forEach(FakeAgents::close);
    for (ServerSocket s : services) {
      s.close();
    }
    runtimes.forEach(PodRuntime::close);
    if (hv != null) {
      hv.close();
    }
    net.close();
  }

  private static Unit web(int count, int internal) {
    return Unit.builder().name("web").image("tiny").count(count)
        .nodePorts(List.of(new NodePort(Protocol.TCP, 30080, internal))).build();
  }

  private static Pod pod(String name, Unit... units) {
    Pod.Builder b = Pod.builder().name(name);
    for (Unit u : units) {
      b.unit(u);
    }
    return b.build();
  }

  private Deployment deploy(PodRuntime r, Pod p, String... silent) {
    Deployment d = r.deploy(p);
    FakeAgents a = new FakeAgents(d);
    a.silent.addAll(List.of(silent));
    agents.add(a);
    runTasks();
    return d;
  }

  /** A service "in" instance {@code i}'s namespace on {@code port} that answers its name to every connection. */
  private void serve(Instance i, int port) {
    ServerSocket s = net.bindInNamespace(i.id(), new InetSocketAddress(i.privateAddress(), port));
    services.add(s);
    Thread t = new Thread(() -> {
      while (!s.isClosed()) {
        try (Socket c = s.accept(); OutputStream out = c.getOutputStream()) {
          out.write((i.name() + ":" + port).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
          return;
        }
      }
    }, "service-" + i.name());
    t.setDaemon(true);
    t.start();
  }

  /** What a client of the node port reads, or null when it was reset without an answer. */
  private @Nullable String ask() throws IOException {
    try (Socket s = new Socket()) {
      s.connect(net.hostListener(null, NODE), 5000);
      s.setSoTimeout(5000);
      InputStream in = s.getInputStream();
      byte[] b = in.readAllBytes();
      return b.length == 0 ? null : new String(b, StandardCharsets.UTF_8);
    } catch (java.net.SocketException e) {
      return null;
    }
  }

  private List<String> ask(int n) throws IOException {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      out.add(ask());
    }
    return out;
  }

  private static void awaitState(Instance i, InstanceState st) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (i.state() != st && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(i.state()).as(i.name()).isEqualTo(st);
  }

  @Test
  void aNodePortSpreadsConnectionsOverTheReadyInstancesAndFollowsScale() throws Exception {
    PodRuntime r = runtime("10.77.0.1", "a");
    Deployment d = deploy(r, pod("shop", web(3, 80)), "web-2");
    d.instances().forEach(i -> serve(i, 80));
    awaitState(d.instance("web", 0), InstanceState.READY);
    awaitState(d.instance("web", 1), InstanceState.READY);
    assertThat(d.instance("web", 2).state()).isEqualTo(InstanceState.BOOTING);
    assertThat(ask(4)).as("in turn, only the ready ones").containsExactlyInAnyOrder("web-0:80", "web-1:80",
        "web-0:80", "web-1:80");
    d.scale("web", 1);
    assertThat(ask(3)).containsOnly("web-0:80");
    d.scale("web", 0);
    assertThat(ask()).as("no ready instance: the client is reset").isNull();
  }

  @Test
  void aChangedInternalPortIsLiveAndDestroyClosesTheListener() throws Exception {
    PodRuntime r = runtime("10.77.0.1", "a");
    Deployment d = deploy(r, pod("shop", web(1, 80)));
    Instance w = d.instance("web", 0);
    serve(w, 80);
    serve(w, 8080);
    awaitState(w, InstanceState.READY);
    assertThat(ask()).isEqualTo("web-0:80");
    MigrationPlan p = d.plan(pod("shop", web(1, 8080)));
    assertThat(p.steps()).singleElement().satisfies(s -> assertThat(s.action()).isEqualTo(MigrationPlan.Action.LIVE));
    p.apply();
    assertThat(ask()).isEqualTo("web-0:8080");
    assertThat(d.instance("web", 0).state()).isEqualTo(InstanceState.READY);
    d.destroy();
    assertThatThrownBy(() -> net.hostListener(null, NODE)).isInstanceOf(NetworkException.class);
  }

  @Test
  void twoUnitsClaimingOnePortUdpAndAMissingNodeAddressAreErrorsThatNameWhatIsWrong() throws Exception {
    PodRuntime r = runtime("10.77.0.1", "a");
    Unit api = Unit.builder().name("api").image("tiny").nodePorts(List.of(new NodePort(Protocol.TCP, 30080, 81)))
        .build();
    assertThatThrownBy(() -> r.deploy(pod("shop", web(1, 80), api))).isInstanceOf(PodsException.class)
        .hasMessageContaining("node port 30080 is claimed by unit web of pod shop and by unit api of pod shop");
    assertThat(r.deployments()).isEmpty();
    Unit dns = Unit.builder().name("dns").image("tiny").nodePorts(List.of(new NodePort(Protocol.UDP, 30053, 53)))
        .build();
    assertThatThrownBy(() -> r.deploy(pod("dns", dns))).isInstanceOf(PodsException.class)
        .hasMessageContaining("unit dns of pod dns: node port udp/30053: only tcp node ports are forwarded");

    Deployment shop = deploy(r, pod("shop", web(1, 80)));
    assertThatThrownBy(() -> r.deploy(pod("other", api))).isInstanceOf(PodsException.class)
        .hasMessageContaining("node port 30080 of unit api of pod other is held by unit web of pod shop");
    assertThatThrownBy(() -> shop.plan(pod("shop", web(1, 80), api))).isInstanceOf(PodsException.class)
        .hasMessageContaining("claimed by unit web of pod shop and by unit api of pod shop");

    PodRuntime none = runtime(null, "b");
    assertThatThrownBy(() -> none.deploy(pod("shop", web(1, 80)))).isInstanceOf(PodsException.class)
        .hasMessageContaining("the runtime has no node address");
  }
}
