package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.NetworkException;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpAddressPoolContract;
import dev.pods.spi.IpPoolSpec;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The address pool contract against a real single-member etcd on loopback, plus what is etcd's own. */
class EtcdIpAddressPoolTest extends IpAddressPoolContract {
  private static EtcdCluster etcd;
  private static Client client;
  private static int pools;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.start(1);
    client = etcd.client();
  }

  @AfterAll
  static void stopEtcd() {
    client.close();
    etcd.close();
  }

  private static EtcdKeyspace freshSpace() {
    return EtcdKeyspace.of(client, "/pods-test/pools-" + pools++);
  }

  @Override
  protected IpAddressPool newPool(IpPoolSpec spec) {
    return new EtcdIpAddressPool(freshSpace(), spec);
  }

  @Test
  void aSecondPoolObjectOfTheSameNameSeesTheSameClaims() {
    EtcdKeyspace space = freshSpace();
    IpPoolSpec spec = IpPoolSpec.addresses("shared", Cidr.parse("10.74.0.0/29"));
    IpAddressPool one = new EtcdIpAddressPool(space, spec);
    Cidr a = one.allocate("web-0");
    IpAddressPool two = new EtcdIpAddressPool(space, spec);
    assertThat(two.lookup("web-0")).contains(a);
    assertThat(two.allocate("web-0")).isEqualTo(a);
    assertThat(two.allocate("web-1")).isNotEqualTo(a);
    assertThat(one.allocations()).containsOnlyKeys("web-0", "web-1");
  }

  @Test
  void aPoolNameTakenWithAnotherSpecIsRefusedNamingBoth() {
    EtcdKeyspace space = freshSpace();
    new EtcdIpAddressPool(space, IpPoolSpec.addresses("public", Cidr.parse("10.75.0.0/24")));
    assertThatThrownBy(() -> new EtcdIpAddressPool(space, IpPoolSpec.addresses("public", Cidr.parse("10.76.0.0/24"))))
        .isInstanceOf(NetworkException.class)
        .hasMessageContaining("pool 'public'").hasMessageContaining("10.75.0.0/24").hasMessageContaining("10.76.0.0/24");
  }

  @Test
  void eachOperationCostsTheRequestsItsJavadocSays() {
    EtcdKeyspace space = freshSpace();
    IpAddressPool p = new EtcdIpAddressPool(space, IpPoolSpec.addresses("costs", Cidr.parse("10.77.0.0/24")));
    long before = space.requests();
    p.allocate("web-0");
    assertThat(space.requests() - before).isEqualTo(2);
    p.allocate("web-0");
    assertThat(space.requests() - before).isEqualTo(3);
    p.lookup("web-0");
    assertThat(space.requests() - before).isEqualTo(4);
    p.allocations();
    assertThat(space.requests() - before).isEqualTo(5);
    assertThat(p.release("web-0")).isTrue();
    assertThat(space.requests() - before).isEqualTo(7);
    assertThat(p.release("web-0")).isFalse();
    assertThat(space.requests() - before).isEqualTo(8);
  }

  @Test
  void anUnreachableClusterFailsWithinTheTimeoutNamingThePool() {
    try (Client dead = Client.builder().endpoints("http://127.0.0.1:1").build()) {
      EtcdKeyspace space = EtcdKeyspace.of(dead, "/pods-test/dead", java.time.Duration.ofMillis(500));
      assertThatThrownBy(() -> new EtcdIpAddressPool(space, IpPoolSpec.addresses("p", Cidr.parse("10.78.0.0/24"))))
          .isInstanceOf(NetworkException.class).hasMessageContaining("pool 'p'")
          .hasMessageContaining("no answer within 500 ms");
    }
  }

  @Test
  void aMalformedPrefixIsRefused() {
    assertThatThrownBy(() -> EtcdKeyspace.of(client, "pods/"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'pods/'");
  }
}
