package dev.pods.examples;

import static dev.pods.examples.HostTools.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.etcd.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The environment of the cluster's system tests on its own ({@link SimulatedHosts}): three host namespaces reach
 * each other's underlay addresses over the datacenter bridge, a cut link isolates its host until it is restored,
 * each host has its uplink bridge, the three etcd members form one cluster, and closing leaves nothing.
 */
@Tag("system")
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SimulatedHostsIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-cluster-it");

  @Test
  void threeHostsShareADatacenterAndAnEtcdClusterAndLeaveNothing() throws Exception {
    HostTools.assumeVmHost();
    org.junit.jupiter.api.Assumptions.assumeTrue(EtcdCluster.available(), "etcd-server is not installed");
    SimulatedHosts hosts = SimulatedHosts.start(RUN_ROOT, "sh", 3);
    try {
      SimulatedHosts.Host h1 = hosts.host("h1");
      SimulatedHosts.Host h3 = hosts.host("h3");
      assertThat(hosts.hosts).extracting(SimulatedHosts.Host::namespace)
          .containsExactly(hosts.prefix + "h1", hosts.prefix + "h2", hosts.prefix + "h3");
      for (SimulatedHosts.Host h : hosts.hosts) {
        assertThat(run("ip", "-n", h.namespace(), "-br", "addr", "show", SimulatedHosts.UPLINK).out())
            .contains(h.publicGateway() + "/24");
        for (SimulatedHosts.Host to : hosts.hosts) {
          assertThat(ping(h, to.underlay())).as("%s -> %s", h.name(), to.underlay()).isTrue();
        }
      }
      hosts.cutLink(h3);
      assertThat(ping(h1, h3.underlay())).as("h1 -> h3 with h3's link cut").isFalse();
      assertThat(ping(hosts.host("h2"), h1.underlay())).as("h2 -> h1 with h3's link cut").isTrue();
      hosts.restoreLink(h3);
      assertThat(ping(h1, h3.underlay())).as("h1 -> h3 with h3's link restored").isTrue();

      assertThat(hosts.etcd.members()).hasSize(3);
      ByteSequence key = ByteSequence.from("/sh-test/" + hosts.prefix, StandardCharsets.UTF_8);
      try (Client a = Client.builder().endpoints(hosts.etcd.members().get(0).clientUrl()).build();
          Client c = Client.builder().endpoints(hosts.etcd.members().get(2).clientUrl()).build()) {
        a.getKVClient().put(key, ByteSequence.from("x", StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
        assertThat(c.getKVClient().get(key).get(10, TimeUnit.SECONDS).getKvs()).hasSize(1);
      }
    } finally {
      hosts.close();
    }
    assertThat(hosts.leftovers()).isEmpty();
  }

  /** Whether one ping from {@code from}'s namespace to {@code address} is answered within 2 s. */
  private static boolean ping(SimulatedHosts.Host from, String address) throws Exception {
    return run("ip", "netns", "exec", from.namespace(), "busybox", "ping", "-c", "1", "-W", "2", address).ok();
  }
}
