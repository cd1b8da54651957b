package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the nodes report (statuses, events, exec requests and answers) does not wake the placement leader: a stream
 * of reports costs it no request, so a deploy during one costs what a quiet one does.
 */
class LeaderWakeTest {

  @Test
  void reportsCostTheLeaderNoRequest() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(1); Client c = etcd.client(); Client observer = etcd.client()) {
      String prefix = "/pods-test/leader-wake";
      EtcdKeyspace view = EtcdKeyspace.of(observer, prefix);
      RecordingInstances host = new RecordingInstances();
      try (ClusterNode n = ClusterNode.join(EtcdKeyspace.of(c, prefix), new NodeSpec("h1", "h1", 8, 8192), host,
          ClusterTest.LEASE)) {
        ClusterPods pods = new ClusterPods(view);
        Waits.until(view, "h1 leads", Duration.ofSeconds(30), n::leads);
        pods.put(pod("a", 1));
        Waits.until(view, "a placed", Duration.ofSeconds(30), () -> host.running().size() == 1);

        long q0 = n.leaderRequests();
        pods.put(pod("b", 1));
        Waits.until(view, "b placed", Duration.ofSeconds(30), () -> host.running().size() == 2);
        long quiet = n.leaderRequests() - q0;

        long r0 = n.leaderRequests();
        for (int i = 0; i < 100; i++) {
          String dir = i % 2 == 0 ? ClusterKeys.STATUS + "a/web-0" : ClusterKeys.EVENTS + "a/h1-" + i;
          observer.getKVClient().put(ByteSequence.from(prefix + "/" + dir, StandardCharsets.UTF_8),
              ByteSequence.from("{}", StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
        }
        pods.put(pod("c", 1));
        Waits.until(view, "c placed", Duration.ofSeconds(30), () -> host.running().size() == 3);
        long noisy = n.leaderRequests() - r0;

        System.out.printf("leader requests per deploy of one instance: quiet %d, after 100 reports %d%n", quiet,
            noisy);
        assertThat(noisy).as("100 reports then a deploy (a quiet deploy: %d requests)", quiet)
            .isLessThanOrEqualTo(quiet + 2);
      }
    }
  }

  private static dev.pods.Pod pod(String name, int count) {
    return dev.pods.Pod.builder().name(name).unit(dev.pods.Unit.builder().name("web").image("tiny").count(count)
        .memoryMib(256).build()).build();
  }
}
