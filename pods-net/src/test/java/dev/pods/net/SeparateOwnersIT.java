package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.net.internal.Exec;
import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two drivers with the same name prefix and different state folders, as two {@code pods up} with different
 * {@code --data-dir}: reaping by one never touches the other's networks; a namespace without a record is removed only
 * by the owner its mark names; in one VM-side namespace their links take different names (indexes are claimed
 * host-wide) and both networks work side by side.
 */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SeparateOwnersIT {
  private NetTestEnv env;
  private String otherVmNs;
  private LinuxNetworkDriver a;
  private LinuxNetworkDriver b;
  private static final String OWNER_A = "dev.pods/up=/data/a#shop";
  private static final String OWNER_B = "dev.pods/up=/data/b#shop";

  @BeforeAll
  void world() throws Exception {
    NetTestEnv.assumeCapable();
    env = new NetTestEnv();
    otherVmNs = env.prefix + "x-lv2";
    Exec.check(List.of("ip", "netns", "add", otherVmNs), null, Duration.ofSeconds(10));
    a = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("data-a/net")).prefix(env.prefix)
        .vmNamespace(env.vmNs).build();
    b = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("data-b/net")).prefix(env.prefix)
        .vmNamespace(otherVmNs).build();
  }

  @AfterAll
  void endWorld() throws Exception {
    try {
      if (a != null) {
        a.reap(OWNER_A);
        a.close();
      }
      if (b != null) {
        b.reap(OWNER_B);
        b.close();
      }
      if (otherVmNs != null) {
        Exec.run(List.of("ip", "netns", "del", otherVmNs), null, Duration.ofSeconds(10));
      }
    } finally {
      if (env != null) {
        env.destroy();
      }
    }
  }

  private NetworkSpec spec(String id, int index, String owner) {
    return NetworkSpec.builder().instanceId(id).owner(owner)
        .hostNamespace(owner.equals(OWNER_A) ? env.vmNs : otherVmNs)
        .mac(String.format("52:54:00:c1:00:%02x", index))
        .subnet(Cidr.parse("10.97." + index + ".0/30"))
        .build();
  }

  @Test
  void neitherReapTouchesTheOthersNetworksAndOrphansGoOnlyToTheirMarkedOwner() throws Exception {
    a.create(spec("shop-a-0", 1, OWNER_A));
    a.create(spec("shop-a-1", 3, OWNER_A));
    b.create(spec("shop-b-0", 2, OWNER_B));

    // b reaps its owner (as pods up does before it deploys): all of b goes, nothing of a, which b has no record of
    assertThat(b.reap(OWNER_B)).containsExactly("shop-b-0");
    assertThat(a.find("shop-a-0")).isPresent();
    assertThat(a.find("shop-a-1")).isPresent();
    assertThat(b.reap("dev.pods/up=/data/c#shop")).isEmpty();
    assertThat(a.find("shop-a-0")).isPresent();

    // an orphan of a (its record lost: a crash, a hand-made mess) is removed only by a's reap, which its mark names
    b.create(spec("shop-b-0", 2, OWNER_B));
    Files.delete(env.dir.resolve("data-a/net/instances/shop-a-1/record.json"));
    assertThat(b.reap(OWNER_B)).containsExactly("shop-b-0");
    assertThat(Netns.exists(env.prefix + "-shop-a-1")).isTrue();
    b.create(spec("shop-b-0", 2, OWNER_B));
    assertThat(a.reap(OWNER_A)).containsExactlyInAnyOrder("shop-a-0", "shop-a-1");
    assertThat(Netns.exists(env.prefix + "-shop-a-1")).isFalse();
    assertThat(Netns.exists(env.prefix + "-shop-a-0")).isFalse();
    assertThat(b.find("shop-b-0")).isPresent();

    // a namespace of the prefix without a mark (not made by pods) is left alone by both
    String stranger = env.prefix + "-stranger";
    Exec.check(List.of("ip", "netns", "add", stranger), null, Duration.ofSeconds(10));
    try {
      assertThat(a.reap(OWNER_A)).isEmpty();
      assertThat(b.find("shop-b-0")).isPresent();
      assertThat(b.reap(OWNER_B)).containsExactly("shop-b-0");
      assertThat(Netns.exists(stranger)).isTrue();
    } finally {
      Exec.run(List.of("ip", "netns", "del", stranger), null, Duration.ofSeconds(10));
    }
    assertThat(NetTestEnv.namespaces(env.prefix + "-")).isEmpty();
  }

  @Test
  void twoStateFoldersWithOnePrefixBuildSideBySideInOneNamespaceAndSkipForeignLinks() throws Exception {
    // c shares a's VM and host namespaces: with the same prefix, the same index would mean the same link names;
    // link indexes are claimed host-wide, so c's links get names of their own
    Path cState = Files.createDirectories(env.dir.resolve("data-c/net"));
    try (LinuxNetworkDriver c = LinuxNetworkDriver.builder().stateDir(cState)
        .prefix(env.prefix).vmNamespace(env.vmNs).build()) {
      String owner = "dev.pods/up=/data/c#shop";
      NetworkSpec aSpec = spec("shop-a-0", 1, OWNER_A);
      NetworkSpec cSpec = spec("shop-c-0", 6, owner).toBuilder().hostNamespace(env.vmNs).build();
      NetworkInstance na = a.create(aSpec);
      NetworkInstance nc = c.create(cSpec);
      assertThat(nc.vmBridge()).isNotEqualTo(na.vmBridge());
      assertThat(nc.tap()).isNotEqualTo(na.tap());
      assertThat(a.probe("shop-a-0")).isEmpty();
      assertThat(c.probe("shop-c-0")).isEmpty();

      // each reaches its guest: a stand-in VM on each bridge gets its lease from its own dnsmasq and is reached
      // from its own namespace
      assertThat(env.standIn("sa", aSpec.mac(), env.vmNs, na.vmBridge(), 80).field("ip"))
          .isEqualTo(Cidr.dotted(aSpec.privateAddress()));
      assertThat(env.standIn("sc", cSpec.mac(), env.vmNs, nc.vmBridge(), 80).field("ip"))
          .isEqualTo(Cidr.dotted(cSpec.privateAddress()));
      assertThat(httpGet(a, aSpec)).contains("hello from sa");
      assertThat(httpGet(c, cSpec)).contains("hello from sc");

      // the same pod in both data folders is the same namespace name: refused, the first left alone
      assertThatThrownBy(() -> c.create(spec("shop-a-0", 5, owner).toBuilder().hostNamespace(env.vmNs).build()))
          .isInstanceOf(dev.pods.NetworkException.class)
          .hasMessageContaining("namespace " + env.prefix + "-shop-a-0 exists and is not " + owner + "'s")
          .hasMessageContaining("give each its own prefix");
      assertThat(a.probe("shop-a-0")).isEmpty();

      // links of the next index left by someone else (here: made by hand) are skipped and left alone
      long next = Long.parseLong(nc.tap().substring(env.prefix.length() + 1), 36) + 1;
      String stray = env.prefix + "b" + Long.toString(next, 36);
      NetTestEnv.ipIn(env.vmNs, "link add " + stray + " type bridge\n");
      NetworkInstance na1 = a.create(spec("shop-a-1", 3, OWNER_A));
      assertThat(na1.vmBridge()).isNotEqualTo(stray);
      assertThat(NetTestEnv.links(env.vmNs, stray)).containsExactly(stray);
      NetTestEnv.ipIn(env.vmNs, "link del " + stray + "\n");

      // neither reaps the other's
      assertThat(c.reap(owner)).containsExactly("shop-c-0");
      assertThat(a.probe("shop-a-0")).isEmpty();
      assertThat(httpGet(a, aSpec)).contains("hello from sa");
      assertThat(NetTestEnv.links(env.vmNs, nc.vmBridge())).isEmpty();
      assertThat(a.reap(OWNER_A)).containsExactlyInAnyOrder("shop-a-0", "shop-a-1");
      assertThat(NetTestEnv.links(env.vmNs, na.vmBridge())).isEmpty();
    } finally {
      env.removeStandIn("sa");
      env.removeStandIn("sc");
    }
  }

  /** A GET of / from the instance's namespace to its VM's port 80 (the stand-in's httpd). */
  private static String httpGet(LinuxNetworkDriver d, NetworkSpec s) throws Exception {
    try (java.net.Socket sock = d.connectInNamespace(s.instanceId(),
        new java.net.InetSocketAddress(s.privateAddress(), 80), Duration.ofSeconds(5))) {
      sock.setSoTimeout(5000);
      sock.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new String(sock.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }
}
