package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodSpecException;
import dev.pods.SourceLocation;
import dev.pods.Unit;
import dev.pods.spec.DomainRecord;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.RecordType;
import dev.pods.spec.Reference;
import dev.pods.spi.Cidr;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryDnsProvider;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DNS records ({@code kind: domain}) on the in-memory fakes: every instance's resolver answers the pod's names, the
 * registered provider holds them, both follow scale, failures and template changes, a destroy withdraws them, and
 * records the runtime cannot publish fail the deploy naming the record.
 */
class PodDnsTest {
  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private final InMemoryDnsProvider provider = InMemoryDnsProvider.serving("example.test");
  private BootImage image;

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
  }

  @AfterEach
  void tearDown() {
    hv.close();
    net.close();
  }

  private PodRuntime.Builder builder() {
    return PodRuntime.builder().hypervisor(hv).networkDriver(net)
        .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances"))).images(name -> image)
        .stateDir(tmp.resolve("state")).namePrefix("t-").owner("dev.pods/test=dns")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .executor(Runnable::run);
  }

  private static DomainRecord record(String name, String domain, RecordType type, @Nullable String select) {
    return new DomainRecord(name, Reference.of("domain", domain), type, select,
        new SourceLocation("api.md", 12, 5));
  }

  private static Unit api(int count, DomainRecord... records) {
    return Unit.builder().name("api").image("tiny").memoryMib(192).count(count)
        .domain(new DomainRecords("api-dns", List.of(records))).build();
  }

  private static Pod pod(Unit api) {
    return Pod.builder().name("shop").unit(api)
        .unit(Unit.builder().name("client").image("tiny").memoryMib(192).build()).build();
  }

  private List<Inet4Address> resolve(Instance i, String name) {
    return net.resolve(((DefaultInstance) i).id(), name);
  }

  private static Inet4Address priv(Instance i) {
    return i.privateAddress();
  }

  @Test
  void everyResolverAndTheProviderAnswerTheLiveAddressesAndFollowAScale() {
    try (PodRuntime rt = builder().domain("example", "example.test", provider).build()) {
      Deployment d = rt.deploy(pod(api(2, record("api", "example", RecordType.PRIVATE, null))));
      Instance a0 = d.instance("api", 0);
      Instance a1 = d.instance("api", 1);
      Instance client = d.instance("client", 0);
      for (Instance i : d.instances()) {
        assertThat(resolve(i, "api.example.test")).as(i.name()).containsExactly(priv(a0), priv(a1));
      }
      assertThat(resolve(client, "API.example.test.")).containsExactly(priv(a0), priv(a1));
      assertThat(provider.addresses("example.test", "api")).containsExactlyInAnyOrder(priv(a0), priv(a1));

      d.scale("api", 3);
      Instance a2 = d.instance("api", 2);
      for (Instance i : d.instances()) {
        assertThat(resolve(i, "api.example.test")).as(i.name()).containsExactly(priv(a0), priv(a1), priv(a2));
      }
      assertThat(provider.addresses("example.test", "api")).containsExactlyInAnyOrder(priv(a0), priv(a1), priv(a2));

      d.scale("api", 1);
      assertThat(resolve(client, "api.example.test")).containsExactly(priv(a0));
      assertThat(provider.addresses("example.test", "api")).containsExactly(priv(a0));

      d.scale("api", 0);
      assertThat(resolve(client, "api.example.test")).isEmpty();
      assertThat(provider.names()).isEmpty();

      d.destroy();
      assertThat(provider.names()).isEmpty();
    }
  }

  @Test
  void primaryPublishesTheLowestLiveIndexAndPublicRecordsThePublicAddress() {
    try (PodRuntime rt = builder().publicNetwork(new PodRuntime.PublicNetwork("up", Cidr.parse("10.99.0.0/24"),
        Cidr.parseAddress("10.99.0.1"))).domain("example", "example.test", provider).build()) {
      Unit web = Unit.builder().name("api").image("tiny").memoryMib(192).count(2).publicAddress(true)
          .domain(new DomainRecords("api-dns", List.of(record("lead", "example", RecordType.PRIVATE, "primary"),
              record("www", "example", RecordType.PUBLIC, null)))).build();
      Deployment d = rt.deploy(pod(web));
      Instance a0 = d.instance("api", 0);
      Instance a1 = d.instance("api", 1);
      Instance client = d.instance("client", 0);
      assertThat(resolve(client, "lead.example.test")).containsExactly(priv(a0));
      assertThat(resolve(client, "www.example.test"))
          .containsExactly(a0.publicAddress().orElseThrow(), a1.publicAddress().orElseThrow());
      assertThat(provider.addresses("example.test", "www"))
          .containsExactlyInAnyOrder(a0.publicAddress().orElseThrow(), a1.publicAddress().orElseThrow());
      d.destroy();
      assertThat(provider.names()).isEmpty();
    }
  }

  @Test
  void aDomainWithoutProviderIsAnsweredInsideThePodOnly() {
    try (PodRuntime rt = builder().domain("internal", "pod.internal").build()) {
      Deployment d = rt.deploy(pod(api(1, record("api", "internal", RecordType.PRIVATE, null))));
      assertThat(resolve(d.instance("client", 0), "api.pod.internal")).containsExactly(priv(d.instance("api", 0)));
      d.destroy();
    }
  }

  @Test
  void aTemplateChangeThatAddsARecordIsLiveAndReachesEveryResolver() {
    try (PodRuntime rt = builder().domain("example", "example.test", provider).build()) {
      Pod before = pod(api(1, record("api", "example", RecordType.PRIVATE, null)));
      Deployment d = rt.deploy(before);
      Instance client = d.instance("client", 0);
      Pod after = pod(api(1, record("api", "example", RecordType.PRIVATE, null),
          record("v2", "example", RecordType.PRIVATE, null)));
      d.plan(after).apply();
      assertThat(d.instance("client", 0)).isSameAs(client); // live: not recreated
      assertThat(resolve(client, "v2.example.test")).containsExactly(priv(d.instance("api", 0)));
      assertThat(provider.addresses("example.test", "v2")).containsExactly(priv(d.instance("api", 0)));
      d.plan(pod(api(1, record("v2", "example", RecordType.PRIVATE, null)))).apply();
      assertThat(resolve(client, "api.example.test")).isEmpty();
      assertThat(provider.addresses("example.test", "api")).isEmpty();
      d.destroy();
    }
  }

  @Test
  void unchangedNamesAreNotPublishedAgain() {
    try (PodRuntime rt = builder().domain("example", "example.test", provider).build()) {
      Deployment d = rt.deploy(Pod.builder().name("shop").unit(api(1, record("api", "example", RecordType.PRIVATE,
          null))).unit(Unit.builder().name("client").image("tiny").memoryMib(192).build()).build());
      int updates = provider.updates();
      d.scale("client", 3);
      assertThat(provider.updates()).isEqualTo(updates);
      d.destroy();
      assertThat(provider.updates()).isEqualTo(updates + 1);
    }
  }

  @Test
  void recordsTheRuntimeCannotPublishFailTheDeployNamingTheRecordAndBuildNothing() {
    try (PodRuntime rt = builder().domain("example", "example.test", provider).build()) {
      Pod bad = pod(api(1, record("api", "nowhere", RecordType.PRIVATE, null),
          record("www", "example", RecordType.PUBLIC, null), record("v6", "example", RecordType.PRIVATE6, null),
          record("*", "example", RecordType.PRIVATE, null)));
      assertThatThrownBy(() -> rt.deploy(bad))
          .isInstanceOf(PodSpecException.class)
          .hasMessageContaining("api.md:12:5: error: units[api].domains[api-dns].records[0].domain: domain "
              + "'nowhere' is not registered with the runtime (registered: example): register it with "
              + "PodRuntime.Builder.domain(\"nowhere\", ZONE[, provider]), or pods up --domain nowhere=ZONE")
          .hasMessageContaining("records[1].type: a public record needs a public address")
          .hasMessageContaining("records[2].type: record type 'private6' cannot be published")
          .hasMessageContaining("records[3].name: wildcard record '*' cannot be answered by the instances'"
              + " resolvers");
      assertThat(net.list(rt.owner())).isEmpty();
      assertThat(hv.list(rt.owner())).isEmpty();
      assertThat(provider.names()).isEmpty();
      assertThat(rt.deployment("shop")).isEmpty();
    }
  }

  @Test
  void aPlanWithAnUnregisteredDomainIsRefused() {
    try (PodRuntime rt = builder().domain("example", "example.test", provider).build()) {
      Deployment d = rt.deploy(pod(api(1)));
      assertThatThrownBy(() -> d.plan(pod(api(1, record("api", "other", RecordType.PRIVATE, null)))))
          .isInstanceOf(PodSpecException.class).hasMessageContaining("domain 'other' is not registered");
      d.destroy();
    }
  }

  @Test
  void aDomainIsRegisteredOnceWithAValidZone() {
    PodRuntime.Builder b = builder().domain("example", "example.test");
    assertThatThrownBy(() -> b.domain("example", "other.test")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("example");
    assertThatThrownBy(() -> b.domain("x", "bad zone.")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad zone");
  }

  @Test
  void aProviderThatFailsIsRetriedAtTheNextChange() {
    try (PodRuntime rt = builder().domain("example", "example.test", provider).build()) {
      provider.failNext(1);
      Deployment d = rt.deploy(pod(api(1, record("api", "example", RecordType.PRIVATE, null))));
      assertThat(provider.names()).isEmpty();
      assertThat(resolve(d.instance("client", 0), "api.example.test")).containsExactly(priv(d.instance("api", 0)));
      d.scale("api", 2);
      assertThat(provider.addresses("example.test", "api"))
          .containsExactlyInAnyOrder(priv(d.instance("api", 0)), priv(d.instance("api", 1)));
      d.destroy();
      assertThat(provider.names()).isEmpty();
    }
  }

  @Test
  void aDestroyThatACrashInterruptedWithdrawsTheNamesInTheNextRuntime() {
    PodRuntime first = builder().domain("example", "example.test", provider).build();
    Deployment d = first.deploy(pod(api(2, record("api", "example", RecordType.PRIVATE, null))));
    assertThat(provider.names()).containsExactly("api.example.test");
    provider.failNext(1);
    net.failNext(InMemoryNetworkDriver.Operation.DELETE);
    assertThatThrownBy(d::destroy).isInstanceOf(dev.pods.PodsException.class);
    first.close();
    assertThat(provider.names()).containsExactly("api.example.test");

    try (PodRuntime second = builder().domain("example", "example.test", provider).build()) {
      assertThat(second.deployment("shop")).isEmpty();
      assertThat(provider.names()).isEmpty();
    }
  }
}
