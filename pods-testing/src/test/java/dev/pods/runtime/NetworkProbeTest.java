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
