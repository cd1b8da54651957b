package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Pod;
import dev.pods.Unit;
import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The etcd member that leads the etcd cluster is killed (SIGKILL) under three nodes: no node is lost or fences
 * itself, the assignments stay, and a pod put afterwards is placed and started.
 */
class ClusterEtcdMemberLossTest {

  @Test
  @SuppressWarnings("try")
  void losingOneEtcdMemberOfThreeChangesNothing() throws Exception {
    List<AutoCloseable> open = new ArrayList<>();
    try (EtcdCluster etcd = EtcdCluster.start(3); Client observer = etcd.client()) {
      String prefix = "/pods-test/member-loss";
      EtcdKeyspace view = EtcdKeyspace.of(observer, prefix);
      List<ClusterNode> nodes = new ArrayList<>();
      List<RecordingInstances> hosts = new ArrayList<>();
      for (String name : List.of("h1", "h2", "h3")) {
        Client c = etcd.client();
        open.add(c);
        RecordingInstances host = new RecordingInstances();
        ClusterNode n = ClusterNode.join(EtcdKeyspace.of(c, prefix), new NodeSpec(name, name, 4, 4096), host,
            ClusterTest.LEASE);
        open.add(n);
        nodes.add(n);
        hosts.add(host);
      }
      ClusterPods pods = new ClusterPods(view);
      pods.put(pod("shop", 3));
      Waits.until(view, "3 running", Duration.ofSeconds(30),
          () -> hosts.stream().mapToInt(h -> h.running().size()).sum() == 3);
      Map<String, Assignment> before = pods.assignments();

      long leaderId = observer.getMaintenanceClient().statusMember(etcd.members().get(0).clientUrl())
          .get(10, TimeUnit.SECONDS).getLeader();
      int victim = -1;
      for (int i = 0; i < 3; i++) {
        if (observer.getMaintenanceClient().statusMember(etcd.members().get(i).clientUrl())
            .get(10, TimeUnit.SECONDS).getHeader().getMemberId() == leaderId) {
          victim = i;
        }
      }
      CountDownLatch aNodeLost = new CountDownLatch(1);
      try (AutoCloseable w = new Nodes(view).watch(l -> {
        if (l.stream().anyMatch(n -> n.health() != NodeStatus.Health.READY)) {
          aNodeLost.countDown();
        }
      })) {
        etcd.kill(victim);
        // Two lease periods: long enough for a node whose keep-alives stopped to be lost and to fence itself.
        assertThat(aNodeLost.await(ClusterTest.LEASE.multipliedBy(2).toMillis(), TimeUnit.MILLISECONDS))
            .as("a node shown lost").isFalse();
      }
      assertThat(nodes).noneMatch(ClusterNode::lost);
      assertThat(new Nodes(view).list()).allMatch(n -> n.health() == NodeStatus.Health.READY);
      assertThat(pods.assignments()).isEqualTo(before);

      pods.put(pod("blog", 2));
      Waits.until(view, "5 running", Duration.ofSeconds(30),
          () -> hosts.stream().mapToInt(h -> h.running().size()).sum() == 5);
    } finally {
      for (int i = open.size() - 1; i >= 0; i--) {
        open.get(i).close();
      }
    }
  }

  private static Pod pod(String name, int count) {
    return Pod.builder().name(name).unit(Unit.builder().name("web").image("tiny").count(count).memoryMib(256)
        .build()).build();
  }
}
