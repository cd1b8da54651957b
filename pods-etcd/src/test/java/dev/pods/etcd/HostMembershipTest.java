package dev.pods.etcd;

import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.PodMembership;
import dev.pods.spi.PodMembershipContract;
import io.etcd.jetcd.Client;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * A cluster node's membership ({@link HostMembership}) passes the membership contract on a real etcd member: hosting
 * is what the node starts and gives up, remote peers are the status records other nodes write (and delete).
 */
class HostMembershipTest extends PodMembershipContract {
  private static EtcdCluster etcd;
  private static Client client;
  private static int runs;

  @BeforeAll
  static void start() {
    etcd = EtcdCluster.start(1);
    client = etcd.client();
  }

  @AfterAll
  static void stop() {
    client.close();
    etcd.close();
  }

  @Override
  protected Cluster createCluster() {
    EtcdKeyspace space = EtcdKeyspace.of(client, "/pods-test/membership-" + runs++);
    HostMembership m = new HostMembership(space, "h1");
    m.start();
    m.settle(Set.of());
    return new Cluster() {
      @Override
      public PodMembership membership() {
        return m;
      }

      @Override
      public void host(String pod, String instance) {
        m.host(pod + "/" + instance);
      }

      @Override
      public void unhost(String pod, String instance) {
        m.unhost(pod + "/" + instance);
      }

      @Override
      public void runElsewhere(String pod, PodMembership.RemotePeer peer) {
        StatusRecord s = new StatusRecord("h2", peer.state().name(), "", 1L,
            peer.privateAddress().getHostAddress(),
            peer.publicAddress() == null ? null : peer.publicAddress().getHostAddress(), "v", "h2-" + peer.name());
        space.call("test writing a status", () -> space.kv().put(space.key(ClusterKeys.STATUS + pod + "/"
            + peer.name()), ClusterKeys.json(s)));
      }

      @Override
      public void goneElsewhere(String pod, String instance) {
        space.call("test removing a status", () -> space.kv().delete(space.key(ClusterKeys.STATUS + pod + "/"
            + instance)));
      }

      @Override
      public void close() {
        m.close();
      }
    };
  }
}
