package dev.pods.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.InstanceState;
import dev.pods.spi.Cidr;
import dev.pods.spi.PodMembership;
import dev.pods.spi.PodMembership.RemotePeer;
import dev.pods.spi.PodMembershipContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link InMemoryMembership} passes the membership contract, and refuses what a cluster cannot say. */
class InMemoryMembershipTest extends PodMembershipContract {

  @Override
  protected Cluster createCluster() {
    InMemoryMembership m = new InMemoryMembership();
    return new Cluster() {
      @Override
      public PodMembership membership() {
        return m;
      }

      @Override
      public void host(String pod, String instance) {
        m.host(pod, instance);
      }

      @Override
      public void unhost(String pod, String instance) {
        m.unhost(pod, instance);
      }

      @Override
      public void runElsewhere(String pod, RemotePeer peer) {
        m.putPeer(pod, peer);
      }

      @Override
      public void goneElsewhere(String pod, String instance) {
        m.removePeer(pod, instance);
      }

      @Override
      public void close() {}
    };
  }

  private static RemotePeer peer(int index) {
    return new RemotePeer("web", index, Cidr.parseAddress("10.99.0.6"), null, InstanceState.READY);
  }

  @Test
  void aRemotePeerOfAnInstanceHostedHereIsRefused() {
    InMemoryMembership m = new InMemoryMembership();
    m.host("shop", "web-1");
    assertThatThrownBy(() -> m.putPeer("shop", peer(1))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("web-1").hasMessageContaining("hosted here");
    assertThat(m.remotePeers("shop")).isEmpty();
  }

  @Test
  void hostingAnInstanceDropsItsRemotePeer() {
    InMemoryMembership m = new InMemoryMembership();
    m.putPeer("shop", peer(1));
    m.host("shop", "web-1");
    assertThat(m.remotePeers("shop")).isEmpty();
    assertThat(m.hosts("shop", "web-1")).isTrue();
  }

  @Test
  void aNameThatIsNotUnitIndexIsRefused() {
    InMemoryMembership m = new InMemoryMembership();
    assertThatThrownBy(() -> m.host("shop", "web")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'web'").hasMessageContaining("UNIT-INDEX");
    assertThatThrownBy(() -> m.host("shop", "web-01")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> m.host(" ", "web-0")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pod name");
  }

  @Test
  void aChangeThatAltersNothingTellsNoOne() throws Exception {
    InMemoryMembership m = new InMemoryMembership();
    List<String> told = new ArrayList<>();
    AutoCloseable h = m.listen(told::add);
    m.host("shop", "web-0");
    m.host("shop", "web-0");
    m.unhost("shop", "web-9");
    m.putPeer("shop", peer(1));
    m.putPeer("shop", peer(1));
    m.removePeer("shop", "web-5");
    assertThat(told).containsExactly("shop", "shop");
    assertThat(m.listeners()).isEqualTo(1);
    h.close();
    assertThat(m.listeners()).isZero();
  }
}
