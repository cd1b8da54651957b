package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.imds.ImdsServer;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.spi.ForwardingNetworkDriver;
import dev.pods.testing.InMemoryNetworkDriver;
import dev.pods.testing.ManualClock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime's periodic network check asks the driver's cheap probe and calls the driver's create (the repair) only
 * for a network the probe finds broken, on the in-memory parts with a manual clock.
 */
class NetworkProbeTest {
  @TempDir Path tmp;
  private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T10:00:00Z"));
  private InMemoryHypervisor hv;
  private final InMemoryNetworkDriver net = new InMemoryNetworkDriver();
  private final Counting counting = new Counting(net);
  private DefaultPodRuntime runtime;
  private Deployment d;

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create(clock, dev.pods.spi.Acceleration.TCG);
    BootImage image = FakeRuntimes.bootImage(tmp);
    runtime = (DefaultPodRuntime) FakeRuntimes.builder(tmp, hv, counting, image)
        .owner("test/probe")
        .executor(Runnable::run)
        .clock(clock).build();
    d = runtime.deploy(Pod.builder().name("p")
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192).build())
        .build());
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

  @Test
  void anIntactNetworkIsOnlyProbedAndABrokenOneIsRepaired() {
    Instance web0 = d.instance("web", 0);
    Instance web1 = d.instance("web", 1);
    int creates = counting.creates.get();
    int probes = counting.probes.get();
    for (int k = 0; k < 3; k++) {
      clock.advance(Duration.ofSeconds(5));
      runtime.tick(true);
    }
    assertThat(counting.probes.get() - probes).as("one probe per instance and reconcile").isEqualTo(6);
    assertThat(counting.creates.get()).as("no create for an intact network").isEqualTo(creates);

    net.breakBehindItsBack(web0.id(), InMemoryNetworkDriver.Part.DHCP_SERVER);
    ImdsServer imds = ((DefaultInstance) web0).imds();
    runtime.tick(true);
    assertThat(counting.creates.get()).as("one repair, of the broken network").isEqualTo(creates + 1);
    assertThat(net.probe(web0.id())).isEmpty();
    assertThat(((DefaultInstance) web0).imds()).as("the namespace stayed: so did its metadata service")
        .isSameAs(imds);

    net.breakBehindItsBack(web1.id(), InMemoryNetworkDriver.Part.NAMESPACE);
    runtime.tick(true);
    assertThat(counting.creates.get()).isEqualTo(creates + 2);
    assertThat(net.probe(web1.id())).isEmpty();
    assertThat(net.find(web1.id())).isPresent();
    runtime.tick(true);
    assertThat(counting.creates.get()).as("intact again: probed only").isEqualTo(creates + 2);
  }

  @Test
  void aVpcCutFromTheFabricIsRepairedByOneCreateAndReachesThePeerAgain() throws IOException {
    InMemoryNetworkDriver.Underlay underlay = new InMemoryNetworkDriver.Underlay();
    java.net.Inet4Address ua = dev.pods.spi.Cidr.parseAddress("10.250.0.1");
    java.net.Inet4Address ub = dev.pods.spi.Cidr.parseAddress("10.250.0.2");
    InMemoryNetworkDriver fa = new InMemoryNetworkDriver(underlay, ua);
    InMemoryNetworkDriver fb = new InMemoryNetworkDriver(underlay, ub);
    fa.fabric().orElseThrow().peers(java.util.Set.of(ub));
    fb.fabric().orElseThrow().peers(java.util.Set.of(ua));
    Counting countingA = new Counting(fa);
    Path dir = java.nio.file.Files.createDirectories(tmp.resolve("fabric"));
    try (DefaultPodRuntime ra = (DefaultPodRuntime) FakeRuntimes.builder(dir, hv, countingA,
        FakeRuntimes.bootImage(dir)).owner("test/probe-fabric").executor(Runnable::run).clock(clock).build()) {
      Deployment q = ra.deploy(Pod.builder().name("q")
          .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192).build())
          .build());
      try {
        Instance web0 = q.instance("web", 0);
        Instance web1 = q.instance("web", 1);
        NetworkSpec mine = fa.find(web0.id()).orElseThrow().spec();
        // an instance of the same VPC on the peer "host"
        NetworkInstance remote = fb.create(NetworkSpec.builder().instanceId("remote").owner("peer")
            .mac("52:54:00:fb:00:01").subnet(dev.pods.spi.Cidr.parse("10.98.250.0/30")).vpc(mine.vpc()).build());
        assertThat(fa.vpcReaches(web0.id(), fb, remote.instanceId(), dev.pods.spi.NetworkProtocol.TCP, 80))
            .as("before").isTrue();
        ImdsServer imds = ((DefaultInstance) web0).imds();
        int creates = countingA.creates.get();

        fa.breakBehindItsBack(web0.id(), InMemoryNetworkDriver.Part.FABRIC);
        assertThat(fa.probe(web1.id())).as("shared by the VPC's members").isNotEmpty();
        assertThat(fa.vpcReaches(web1.id(), fb, remote.instanceId(), dev.pods.spi.NetworkProtocol.TCP, 80))
            .as("cut").isFalse();
        clock.advance(Duration.ofSeconds(5));
        ra.tick(true);
        assertThat(countingA.creates.get()).as("one create mends it for both members").isEqualTo(creates + 1);
        assertThat(fa.probe(web0.id())).isEmpty();
        assertThat(fa.probe(web1.id())).isEmpty();
        assertThat(fa.vpcReaches(web1.id(), fb, remote.instanceId(), dev.pods.spi.NetworkProtocol.TCP, 80))
            .as("across hosts again").isTrue();
        assertThat(((DefaultInstance) web0).imds()).as("no namespace lost: its metadata service stays")
            .isSameAs(imds);
        fb.delete(remote.instanceId());
      } finally {
        q.destroy();
      }
    } finally {
      fa.close();
      fb.close();
    }
  }

  /** The in-memory driver, counting creates and probes. */
  private static final class Counting extends ForwardingNetworkDriver {
    final AtomicInteger creates = new AtomicInteger();
    final AtomicInteger probes = new AtomicInteger();

    Counting(NetworkDriver d) {
      super(d);
    }

    @Override
    public NetworkInstance create(NetworkSpec spec) {
      creates.incrementAndGet();
      return super.create(spec);
    }

    @Override
    public List<String> probe(String instanceId) {
      probes.incrementAndGet();
      return super.probe(instanceId);
    }
  }

}
