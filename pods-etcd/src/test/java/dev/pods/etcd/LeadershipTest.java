package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.etcd.Assignment.State;
import dev.pods.etcd.PlacementLeader.Change;
import dev.pods.etcd.PlacementLeader.Write;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.kv.TxnResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The leader's writes are guarded by its leadership (the election key's create revision): once another node leads,
 * a write of the deposed leader fails, including one it sent while it led that reaches etcd only later.
 */
class LeadershipTest {

  @Test
  void aDeposedLeadersWritesFailEvenOneSentWhileItLedThatArrivesLate() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(1); Client a = etcd.client(); Client b = etcd.client()) {
      String prefix = "/pods-test/leadership";
      EtcdLateWrites.HoldFirst held = new EtcdLateWrites.HoldFirst();
      EtcdKeyspace spaceA = EtcdKeyspace.of(a, prefix).withSender(held);
      EtcdKeyspace spaceB = EtcdKeyspace.of(b, prefix);
      ClusterKeys keys = new ClusterKeys(spaceB);
      ByteSequence election = keys.key(ClusterKeys.LEADER);

      long leaseA = a.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
      LeaderKey keyA = a.getElectionClient().campaign(election, leaseA, bytes("a")).get(10, TimeUnit.SECONDS)
          .getLeader();
      PlacementLeader leaderA = new PlacementLeader(spaceA, new ClusterKeys(spaceA), "a", leaseA);
      Assignment onH1 = new Assignment("shop/web-0", "h1", State.PLACED, "web-0 on h1: test");
      held.holdNext("leader 'a' writing 1 assignment(s)");
      assertThat(leaderA.write(keyA, List.of(new Change("shop/web-0", onH1, null)),
          ClusterSnapshot.read(spaceB, keys, "test"))).isEqualTo(Write.DONE); // its second attempt
      assertThat(new ClusterPods(spaceB).assignments()).containsEntry("shop/web-0", onH1);

      // a's lease ends (as when it expires), b is elected and moves web-0 (h1 has no record: it may).
      a.getLeaseClient().revoke(leaseA).get(10, TimeUnit.SECONDS);
      long leaseB = b.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
      LeaderKey keyB = b.getElectionClient().campaign(election, leaseB, bytes("b")).get(10, TimeUnit.SECONDS)
          .getLeader();
      PlacementLeader leaderB = new PlacementLeader(spaceB, keys, "b", leaseB);
      Assignment onH2 = new Assignment("shop/web-0", "h2", State.PLACED, "web-0 on h2: test");
      assertThat(leaderB.write(keyB, List.of(new Change("shop/web-0", onH2, onH1)),
          ClusterSnapshot.read(spaceB, keys, "test"))).isEqualTo(Write.DONE);

      // a's first attempt, sent while it led, reaches etcd now; then a writes again, not knowing it was deposed.
      TxnResponse late = (TxnResponse) held.sendHeld();
      assertThat(late.isSucceeded()).isFalse();
      Write again = leaderA.write(keyA, List.of(new Change("shop/web-0", onH1, onH2)),
          ClusterSnapshot.read(spaceB, keys, "test"));
      assertThat(again).isEqualTo(Write.DEPOSED);
      assertThat(new ClusterPods(spaceB).assignments()).containsOnlyKeys("shop/web-0")
          .containsEntry("shop/web-0", onH2);
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
