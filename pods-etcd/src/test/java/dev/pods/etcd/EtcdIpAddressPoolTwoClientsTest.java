package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import io.etcd.jetcd.Client;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two client processes (two JVMs, each with its own etcd connection) allocate from one pool at the same time,
 * partly for the same holders: no block goes to two holders, a holder both ask for gets one block, and the pool
 * lists exactly what the two were handed.
 */
class EtcdIpAddressPoolTwoClientsTest {

  @Test
  void twoProcessesAllocatingAtOnceNeverShareABlock() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(1)) {
      String endpoint = etcd.endpoints()[0];
      List<String> a = new ArrayList<>();
      List<String> b = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        a.add("a-" + i);
        b.add("b-" + i);
        if (i % 3 == 0) { // 20 holders both ask for, in the same order
          a.add("both-" + i);
          b.add("both-" + i);
        }
      }
      Process one = claimer(endpoint, a);
      Process two = claimer(endpoint, b);
      try {
        BufferedReader outOne = reader(one);
        BufferedReader outTwo = reader(two);
        assertThat(outOne.readLine()).isEqualTo("ready");
        assertThat(outTwo.readLine()).isEqualTo("ready");
        go(one);
        go(two);
        Map<String, String> gotOne = results(outOne);
        Map<String, String> gotTwo = results(outTwo);
        assertThat(one.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(two.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(gotOne).hasSize(80);
        assertThat(gotTwo).hasSize(80);

        Map<String, String> all = new HashMap<>(gotOne);
        gotTwo.forEach((holder, block) -> {
          if (holder.startsWith("both-")) {
            assertThat(block).as("%s from both clients", holder).isEqualTo(gotOne.get(holder));
          }
          all.put(holder, block);
        });
        assertThat(all).hasSize(140);
        assertThat(new HashSet<>(all.values())).as("distinct blocks").hasSize(140);

        try (Client c = etcd.client()) {
          IpAddressPool pool = new EtcdIpAddressPool(EtcdKeyspace.of(c, "/pods-test/two"),
              IpPoolSpec.addresses("shared", Cidr.parse("10.80.0.0/24")));
          Map<String, String> listed = new HashMap<>();
          pool.allocations().forEach((h, blk) -> listed.put(h, blk.toString()));
          assertThat(listed).isEqualTo(all);
        }
      } finally {
        one.destroyForcibly();
        two.destroyForcibly();
      }
    }
  }

  private static Process claimer(String endpoint, List<String> holders) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), ClaimMain.class.getName(),
        endpoint, "/pods-test/two", "shared", "10.80.0.0/24"));
    cmd.addAll(holders);
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static BufferedReader reader(Process p) {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  private static void go(Process p) throws IOException {
    OutputStream in = p.getOutputStream();
    in.write("go\n".getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  /** HOLDER BLOCK lines up to {@code done}. */
  private static Map<String, String> results(BufferedReader r) throws IOException {
    Map<String, String> got = new HashMap<>();
    for (String line = r.readLine(); line != null && !line.equals("done"); line = r.readLine()) {
      String[] f = line.split(" ");
      got.put(f[0], f[1]);
    }
    return got;
  }
}
