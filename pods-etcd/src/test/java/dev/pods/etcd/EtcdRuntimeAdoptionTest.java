package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Unit;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.StateStore;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runtime on the in-memory hypervisor and network driver keeps its records in etcd ({@link EtcdStateStore}) and
 * takes its addresses from etcd ({@link EtcdIpAddressPool}); a second runtime, on another etcd connection, adopts
 * the deployment from what etcd holds, as {@code RuntimeRestartTest} shows with files.
 */
class EtcdRuntimeAdoptionTest {
  private static final String OWNER = "test/etcd-owner";
  private static final Cidr RANGE = Cidr.parse("10.98.0.0/16");

  @TempDir Path tmp;
  private EtcdCluster etcd;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private DirectoryInstanceFiles files;
  private BootImage image;
  private final List<Runnable> tasks = new ArrayList<>();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    etcd = EtcdCluster.start(1);
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    files = new DirectoryInstanceFiles(tmp.resolve("instances"));
    image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    hv.close();
    net.close();
    etcd.close();
  }

  /** A runtime whose records and pools live under {@code /pods-test/rt} on a connection of its own. */
  private PodRuntime runtime() {
    Client client = etcd.client();
    closing.add(client);
    EtcdKeyspace space = EtcdKeyspace.of(client, "/pods-test/rt");
    NetworkDriver pools = new EtcdPoolsNetworkDriver(net, space);
    PodRuntime r = PodRuntime.builder().hypervisor(hv).networkDriver(pools).instanceFiles(files)
        .images(name -> image).stateDir(tmp.resolve("locks")).stateStore(new EtcdStateStore(space))
        .privateRange(RANGE).owner(OWNER).namePrefix("t-")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).executor(tasks::add).build();
    closing.add(r);
    return r;
  }

  /** The runtime's private pool (one /30 per instance from its private range), as etcd holds it. */
  private static IpAddressPool privatePool(EtcdKeyspace space) {
    return new EtcdIpAddressPool(space, IpPoolSpec.subnets("priv-10-98-0-0-16", RANGE, 30));
  }

  private void runTasks() {
    while (!tasks.isEmpty()) {
      List<Runnable> now = List.copyOf(tasks);
      tasks.clear();
      now.forEach(Runnable::run);
    }
  }

  private static Map<String, String> addresses(Deployment d) {
    return d.instances().stream()
        .collect(Collectors.toMap(Instance::name, i -> i.privateAddress().getHostAddress()));
  }

  @Test
  void aSecondRuntimeAdoptsWhatTheFirstRecordedInEtcd() throws Exception {
    PodRuntime first = runtime();
    Pod pod = Pod.builder().name("shop")
        .unit(Unit.builder().name("db").image("tiny").memoryMib(192).build())
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192).build())
        .build();
    Deployment d = first.deploy(pod);
    runTasks();
    Map<String, String> before = addresses(d);

    try (Client look = etcd.client()) {
      EtcdKeyspace space = EtcdKeyspace.of(look, "/pods-test/rt");
      StateStore store = new EtcdStateStore(space);
      assertThat(store.all()).singleElement().satisfies(e -> {
        assertThat(e.where()).startsWith("etcd:/pods-test/rt/state/");
        assertThat(new String(e.value(), StandardCharsets.UTF_8)).contains("shop-web-1");
      });
      assertThat(tmp.resolve("locks/deployments")).as("no record files beside etcd").doesNotExist();
      assertThat(privatePool(space).allocations()).containsOnlyKeys(
          d.instances().stream().map(Instance::id).toArray(String[]::new));
    }
    first.close();
    closing.remove(first);

    PodRuntime second = runtime();
    runTasks();
    Deployment adopted = second.deployment("shop").orElseThrow();
    assertThat(addresses(adopted)).isEqualTo(before);
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0", "t-shop-web-1");

    adopted.destroy();
    runTasks();
    try (Client look = etcd.client()) {
      EtcdKeyspace space = EtcdKeyspace.of(look, "/pods-test/rt");
      assertThat(new EtcdStateStore(space).all()).isEmpty();
      assertThat(privatePool(space).allocations()).isEmpty();
    }
  }
}
