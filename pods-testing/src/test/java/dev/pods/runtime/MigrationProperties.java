package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.MigrationPlan;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.imds.ImdsServer;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpPoolSpec;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * For random pods and random changes of them (counts, units added and removed, scripts, memory, processors):
 * plan, apply, and the plan of the same pod is then empty, with the instances, domains, networks and address
 * allocations the new pod asks for. In-memory hypervisor and network driver, real metadata services on loopback,
 * {@link FakeAgents} for the guests; creations run on the applying thread.
 */
class MigrationProperties {
  private static final Cidr RANGE = Cidr.parse("10.98.0.0/16");

  @Provide
  Arbitrary<Pod> pods() {
    return Combinators.combine(unit("a").injectNull(0.3), unit("b").injectNull(0.3), unit("c").injectNull(0.5))
        .as((a, b, c) -> Stream.of(a, b, c).filter(Objects::nonNull).toList())
        .filter(units -> !units.isEmpty())
        .map(units -> Pod.builder().name("p").units(units).build());
  }

  @Provide
  Arbitrary<List<Pod>> changes() {
    return pods().list().ofMinSize(1).ofMaxSize(3);
  }

  private static Arbitrary<Unit> unit(String name) {
    return Combinators.combine(
            Arbitraries.integers().between(0, 3),
            // mostly the same size, so that live changes and kept instances come up as well as recreations
            Arbitraries.frequency(Tuple.of(4, 128), Tuple.of(1, 192)),
            Arbitraries.frequency(Tuple.of(4, 1), Tuple.of(1, 2)),
            Arbitraries.integers().between(0, 2),
            Arbitraries.of("", "echo first boot\n"))
        .as((count, memory, cpus, reload, initial) -> {
          Unit.Builder b = Unit.builder().name(name).image("tiny").count(count).memoryMib(memory).processors(cpus);
          if (!initial.isEmpty()) {
            b.script(Script.shell(Phase.INITIAL, initial));
          }
          for (int i = 0; i < reload; i++) {
            b.script(Script.shell(Phase.RELOAD, "echo reload " + i + " of " + name + "\n"));
          }
          return b.build();
        });
  }

  @Property(tries = 40)
  void planApplyPlanIsEmptyAndTheInstancesAreWhatThePodAsks(
      @ForAll("pods") Pod first, @ForAll("changes") List<Pod> nexts) throws IOException {
    Path tmp = Files.createTempDirectory("pods-migration-props-");
    InMemoryHypervisor hv = InMemoryHypervisor.create();
    InMemoryNetworkDriver net = new InMemoryNetworkDriver();
    BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
    PodRuntime runtime = PodRuntime.builder()
        .hypervisor(hv)
        .networkDriver(net)
        .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances")))
        .images(name -> image)
        .stateDir(tmp.resolve("state"))
        .namePrefix("t-")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .executor(Runnable::run)
        .build();
    try {
      Deployment d = runtime.deploy(first);
      FakeAgents agents = new FakeAgents(d);
      try {
        d.awaitReady(Duration.ofSeconds(10));
        for (Pod next : nexts) {
          MigrationPlan plan = d.plan(next);
          Statistics.label("actions").collect(plan.steps().stream().map(s -> s.action().name()).distinct()
              .sorted().collect(Collectors.joining(",")));

          plan.apply(Duration.ofSeconds(10));

          assertThat(d.pod()).isEqualTo(next);
          MigrationPlan again = d.plan(next);
          assertThat(again.isEmpty()).as("after applying\n%s\nthe plan is\n%s", plan.toText(), again.toText())
              .isTrue();
          d.awaitReady(Duration.ofSeconds(10));
          check(d, next, hv, net);
        }
      } finally {
        agents.close();
      }
      d.destroy();
      assertThat(hv.domainNames()).isEmpty();
      assertThat(net.list(runtime.owner())).isEmpty();
      assertThat(net.pool(IpPoolSpec.subnets("priv-10-98-0-0-16", RANGE, 30)).allocations()).isEmpty();
    } finally {
      runtime.close();
      hv.close();
      net.close();
      try (Stream<Path> s = Files.walk(tmp)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  private static void check(Deployment d, Pod pod, InMemoryHypervisor hv, InMemoryNetworkDriver net) {
    Map<String, Long> counts = d.instances().stream()
        .collect(Collectors.groupingBy(Instance::unit, Collectors.counting()));
    for (Unit u : pod.units()) {
      assertThat(counts.getOrDefault(u.name(), 0L)).as("instances of %s", u.name()).isEqualTo(u.count());
    }
    assertThat(counts.keySet()).allMatch(n -> pod.unit(n).isPresent());
    assertThat(hv.domainNames()).containsExactlyInAnyOrderElementsOf(
        d.instances().stream().map(Instance::domainName).toList());
    assertThat(net.pool(IpPoolSpec.subnets("priv-10-98-0-0-16", RANGE, 30)).allocations().keySet())
        .containsExactlyInAnyOrderElementsOf(d.instances().stream().map(Instance::id).toList());
    for (Instance i : d.instances()) {
      Unit u = pod.unit(i.unit()).orElseThrow();
      var spec = hv.find(i.domainName()).orElseThrow().spec();
      assertThat(spec.memoryMib()).as("memory of %s", i.name()).isEqualTo(u.memoryMib());
      assertThat(spec.vcpus()).as("processors of %s", i.name()).isEqualTo(u.processors());
      ImdsServer imds = Objects.requireNonNull(((DefaultInstance) i).imds());
      assertThat(imds.view().spec()).as("spec served to %s", i.name()).isEqualTo(u);
      assertThat(imds.view().units().get(i.unit())).hasSize(u.count());
      assertThat(net.find(i.id()).orElseThrow().spec().privateAddress()).isEqualTo(i.privateAddress());
    }
  }
}
