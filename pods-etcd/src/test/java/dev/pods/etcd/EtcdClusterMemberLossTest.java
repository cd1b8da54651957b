package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.StateStore;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A three-member etcd cluster on loopback loses its leader (killed by pid): the state store and an address pool
 * on a client that knows all three members keep working, with what was written before the loss intact.
 */
class EtcdClusterMemberLossTest {

  @Test
  void storeAndPoolKeepWorkingWhenTheLeaderDies() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(3); Client client = etcd.client()) {
      EtcdKeyspace space = EtcdKeyspace.of(client, "/pods-test/loss");
      StateStore store = new EtcdStateStore(space);
      IpAddressPool pool = new EtcdIpAddressPool(space, IpPoolSpec.addresses("public", Cidr.parse("10.81.0.0/24")));
      store.put("shop", "before".getBytes(StandardCharsets.UTF_8));
      Cidr web0 = pool.allocate("web-0");

      int leader = leaderIndex(etcd, client);
      etcd.kill(leader);

      store.put("shop", "after".getBytes(StandardCharsets.UTF_8));
      store.put("blog", "new".getBytes(StandardCharsets.UTF_8));
      Cidr web1 = pool.allocate("web-1");
      assertThat(pool.release("web-0")).isTrue();
      Cidr web2 = pool.allocate("web-2");
      assertThat(new HashSet<>(List.of(web0, web1, web2))).hasSize(3);
      assertThat(pool.allocations()).containsOnlyKeys("web-1", "web-2");
      assertThat(store.all()).extracting(e -> new String(e.value(), StandardCharsets.UTF_8))
          .containsExactlyInAnyOrder("after", "new");

      // A client that reaches only the survivors, as a runtime started after the loss would, sees the same.
      String[] survivors = etcd.members().stream().filter(m -> m != etcd.members().get(leader))
          .map(EtcdCluster.Member::clientUrl).toArray(String[]::new);
      try (Client later = Client.builder().endpoints(survivors).build()) {
        EtcdKeyspace again = EtcdKeyspace.of(later, "/pods-test/loss");
        assertThat(new EtcdStateStore(again).all()).hasSize(2);
        assertThat(new EtcdIpAddressPool(again, pool.spec()).allocations()).isEqualTo(pool.allocations());
      }
    }
  }

  /** The index of the member that leads, asked of the first member. */
  private static int leaderIndex(EtcdCluster etcd, Client client) throws Exception {
    String first = etcd.members().get(0).clientUrl();
    long leaderId = client.getMaintenanceClient().statusMember(first).get(10, TimeUnit.SECONDS).getLeader();
    for (int i = 0; i < etcd.members().size(); i++) {
      long id = client.getMaintenanceClient().statusMember(etcd.members().get(i).clientUrl())
          .get(10, TimeUnit.SECONDS).getHeader().getMemberId();
      if (id == leaderId) {
        return i;
      }
    }
    throw new AssertionError("no member of " + etcd + " is the leader " + leaderId);
  }
}
