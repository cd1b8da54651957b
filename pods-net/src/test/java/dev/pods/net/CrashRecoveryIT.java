package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.NetworkException;
import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A JVM killed while creating networks leaves leftovers that reaping by owner removes, and nothing else. */
@Tag("system")
class CrashRecoveryIT {
  private static NetTestEnv env;

  @BeforeAll
  static void world() throws Exception {
    NetTestEnv.assumeCapable();
    env = new NetTestEnv();
  }

  @AfterAll
  static void endWorld() throws Exception {
    if (env != null) {
      env.destroy();
    }
  }

  static NetworkSpec spec(String hostNs, String bridge, String owner, String id, int i) {
    return NetworkSpec.builder().instanceId(id).owner(owner).mac(String.format("52:54:00:cc:00:%02x", i))
        .subnet(Cidr.parse("10.98." + (100 + i) + ".0/30")).vpc(new NetworkVpc("crash", Cidr.parse("10.98.0.0/16")))
        .hostNamespace(hostNs).uplink(new NetworkUplink(bridge, Cidr.parseAddress("10.99.3." + (10 + i)), 16,
            Cidr.parseAddress(NetTestEnv.GATEWAY))).keptBackPort(5900).build();
  }

  @Test
  void reapingAfterAKilledJvmRemovesItsNetworksAndSparesOthers() throws Exception {
    String owner = "dev.pods/session=crashed-" + env.prefix;
    Set<String> hostLinksBefore = new HashSet<>(NetTestEnv.links(env.hostNs, env.prefix));
    try (LinuxNetworkDriver driver = env.sharedDriver()) {
      NetworkInstance keep = driver.create(spec(env.hostNs, env.uplinkBridge, "someone-else", "keep", 0));
      Set<String> withKeep = new HashSet<>(NetTestEnv.links(env.hostNs, env.prefix));
      Path out = env.dir.resolve("child.out");
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
          System.getProperty("java.class.path"), Child.class.getName(), env.dir.resolve("state").toString(),
          env.prefix, env.hostNs, env.uplinkBridge, owner).redirectErrorStream(true).redirectOutput(out.toFile())
          .start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (created(out) < 2 && child.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      child.destroyForcibly(); // SIGKILL, most likely in the middle of creating the third network
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(created(out)).as(Files.readString(out)).isGreaterThanOrEqualTo(2);
      assertThat(NetTestEnv.namespaces(env.prefix + "-n")).isNotEmpty();

      List<String> reaped = driver.reap(owner);
      assertThat(reaped).contains("n0", "n1");
      assertThat(NetTestEnv.namespaces(env.prefix + "-n")).isEmpty();
      assertThat(new HashSet<>(NetTestEnv.links(env.hostNs, env.prefix))).isEqualTo(withKeep);
      assertThat(dnsmasqOf(env.dir.resolve("state/instances"))).containsOnly("keep");
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(env.dir.resolve("state/instances"))) {
        List<String> left = new ArrayList<>();
        ds.forEach(p -> left.add(p.getFileName().toString()));
        assertThat(left).containsExactly("keep");
      }
      assertThat(driver.find("keep")).contains(keep);
      assertThat(Netns.exists(keep.namespace())).isTrue();
      driver.delete("keep");
    }
    assertThat(new HashSet<>(NetTestEnv.links(env.hostNs, env.prefix))).isEqualTo(hostLinksBefore);
  }

  @Test
  void aFailedCreateLeavesNothingBehind() throws Exception {
    Set<String> hostLinksBefore = new HashSet<>(NetTestEnv.links(env.hostNs, env.prefix));
    try (LinuxNetworkDriver broken = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("state"))
        .prefix(env.prefix).vmNamespace(env.hostNs).commands("ip", "nft", "/bin/false").build()) {
      assertThatThrownBy(() -> broken.create(spec(env.hostNs, env.uplinkBridge, "o", "fails", 9)))
          .isInstanceOf(NetworkException.class).hasMessageContaining("dnsmasq");
      assertThat(NetTestEnv.namespaces(env.prefix + "-fails")).isEmpty();
      assertThat(new HashSet<>(NetTestEnv.links(env.hostNs, env.prefix))).isEqualTo(hostLinksBefore);
      assertThat(Files.exists(env.dir.resolve("state/instances/fails"))).isFalse();
      assertThat(broken.find("fails")).isEmpty();
    }
  }

  private static int created(Path out) throws IOException {
    if (!Files.exists(out)) {
      return 0;
    }
    return (int) Files.readAllLines(out, StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("created "))
        .count();
  }

  /** The instance ids of running dnsmasq processes whose files are under {@code instances}. */
  private static Set<String> dnsmasqOf(Path instances) throws IOException {
    Set<String> ids = new HashSet<>();
    String marker = "--dhcp-leasefile=" + instances + "/";
    try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : proc) {
        try {
          String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          int at = cmd.indexOf(marker);
          if (at >= 0) {
            String rest = cmd.substring(at + marker.length());
            ids.add(rest.substring(0, rest.indexOf('/')));
          }
        } catch (IOException e) {
          // the process ended meanwhile
        }
      }
    }
    return ids;
  }

  /** The JVM that gets killed: creates networks n0, n1, ... and reports each. */
  public static final class Child {
    private Child() {}

    /** Arguments: state dir, prefix, host namespace, uplink bridge, owner. */
    public static void main(String[] args) {
      LinuxNetworkDriver driver = LinuxNetworkDriver.builder().stateDir(Path.of(args[0])).prefix(args[1])
          .vmNamespace(args[2]).build();
      for (int i = 1; i < 40; i++) {
        driver.create(spec(args[2], args[3], args[4], "n" + (i - 1), i));
        System.out.println("created n" + (i - 1));
        System.out.flush();
      }
    }
  }
}
