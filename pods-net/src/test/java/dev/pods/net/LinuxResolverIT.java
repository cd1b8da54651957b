package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.net.internal.Exec;
import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import dev.pods.spi.DnsHost;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The instance's resolver (the dnsmasq of its namespace, {@link NetworkSpec#resolver()}) with a stand-in VM that
 * asks it with busybox nslookup: it answers the spec's names, forwards the rest to the upstream server (a dnsmasq
 * of this test in the run's outside namespace), and follows an update of the names without a restart (same pid,
 * same lease). Everything lives in this run's namespaces.
 */
@Tag("system")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LinuxResolverIT {
  private static final Duration QUICK = Duration.ofSeconds(5);
  private static NetTestEnv env;
  private static LinuxNetworkDriver driver;
  private static NetworkInstance net;
  private static NetTestEnv.Lease lease;
  private static Process upstream;

  @BeforeAll
  static void world() throws Exception {
    NetTestEnv.assumeCapable();
    env = new NetTestEnv();
    driver = env.driver();
    Path conf = Files.createDirectories(Path.of("/tmp/pods-net-it").resolve(env.prefix).resolve("upstream"));
    upstream = Netns.call(Netns.path(env.outsideNs), () -> new ProcessBuilder("dnsmasq", "--keep-in-foreground",
        "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--listen-address=" + NetTestEnv.OUTSIDE,
        "--bind-interfaces", "--address=/up.example.org/192.0.2.7", "--pid-file=" + conf.resolve("pid"))
        .redirectErrorStream(true).redirectOutput(conf.resolve("out").toFile()).start());
    NetworkSpec s = NetworkSpec.builder().instanceId("res").owner("dev.pods/session=" + env.prefix)
        .mac("52:54:00:5d:00:07").subnet(Cidr.parse("10.98.7.0/30"))
        .dnsServer(Cidr.parseAddress(NetTestEnv.OUTSIDE)).hostNamespace(env.hostNs)
        .uplink(new NetworkUplink(env.uplinkBridge, Cidr.parseAddress("10.99.1.7"), 16,
            Cidr.parseAddress(NetTestEnv.GATEWAY)))
        .resolver(true)
        .dnsHosts(List.of(new DnsHost("api.example.test", List.of(ip("10.98.7.2"), ip("10.98.8.2")))))
        .build();
    net = driver.create(s);
    lease = env.standIn("res", net.spec().mac(), net.vmBridge());
  }

  @AfterAll
  static void endWorld() throws Exception {
    try {
      if (upstream != null) {
        upstream.destroy();
        upstream.waitFor();
      }
      if (driver != null) {
        driver.reap("dev.pods/session=" + env.prefix);
        driver.close();
      }
    } finally {
      if (env != null) {
        env.destroy();
      }
    }
  }

  static Inet4Address ip(String a) {
    return Cidr.parseAddress(a);
  }

  /** The A records busybox nslookup in the stand-in gets for {@code name} from the resolver DHCP handed it. */
  static List<String> lookup(String name) throws Exception {
    String server = lease.field("dns");
    Exec.Result r = Netns.call(Netns.path(env.standInNs("res")), () -> Exec.run(
        List.of(NetTestEnv.BUSYBOX, "nslookup", "-type=a", name, server), null, QUICK));
    List<String> out = new ArrayList<>();
    boolean answers = false;
    for (String line : r.stdout().lines().toList()) {
      if (line.startsWith("Name:")) {
        answers = true;
      } else if (answers && line.startsWith("Address:")) {
        out.add(line.substring("Address:".length()).strip());
      }
    }
    return out;
  }

  private static long dnsmasqPid() throws Exception {
    return Long.parseLong(Files.readString(env.dir.resolve("state").resolve("instances").resolve("res")
        .resolve("dnsmasq.pid")).strip());
  }

  @Test
  @Order(1)
  void dhcpHandsOutTheGatewayAsDnsServer() {
    assertThat(lease.field("dns")).isEqualTo("10.98.7.1");
  }

  @Test
  @Order(2)
  void theResolverAnswersItsNamesAndForwardsTheRest() throws Exception {
    assertThat(lookup("api.example.test")).containsExactlyInAnyOrder("10.98.7.2", "10.98.8.2");
    assertThat(lookup("API.Example.Test")).containsExactlyInAnyOrder("10.98.7.2", "10.98.8.2");
    assertThat(lookup("up.example.org")).containsExactly("192.0.2.7");
    assertThat(lookup("nowhere.example.test")).isEmpty();
  }

  @Test
  @Order(3)
  void anUpdateOfTheNamesIsAnsweredWithoutRestartingDnsmasq() throws Exception {
    long pid = dnsmasqPid();
    net = driver.update(net.spec().withDnsHosts(List.of(
        new DnsHost("api.example.test", List.of(ip("10.98.8.2"), ip("10.98.9.2"))),
        new DnsHost("db.example.test", List.of(ip("10.98.10.2"))))));
    // SIGHUP is handled by dnsmasq's event loop: wait for the new answer (bounded), there is no event to wait on
    long deadline = System.nanoTime() + QUICK.toNanos();
    List<String> api = lookup("api.example.test");
    while (!api.contains("10.98.9.2") && System.nanoTime() < deadline) {
      api = lookup("api.example.test");
    }
    assertThat(api).containsExactlyInAnyOrder("10.98.8.2", "10.98.9.2");
    assertThat(lookup("db.example.test")).containsExactly("10.98.10.2");
    assertThat(dnsmasqPid()).isEqualTo(pid);
    NetTestEnv.Lease again = env.renew("res");
    assertThat(again.field("ip")).isEqualTo(lease.field("ip"));
    assertThat(again.field("dns")).isEqualTo("10.98.7.1");
  }

  @Test
  @Order(4)
  void aRemovedNameIsNoLongerAnswered() throws Exception {
    net = driver.update(net.spec().withDnsHosts(List.of(new DnsHost("db.example.test", List.of(ip("10.98.10.2"))))));
    long deadline = System.nanoTime() + QUICK.toNanos();
    List<String> api = lookup("api.example.test");
    while (!api.isEmpty() && System.nanoTime() < deadline) {
      api = lookup("api.example.test");
    }
    assertThat(api).isEmpty();
    assertThat(lookup("db.example.test")).containsExactly("10.98.10.2");
  }

  @Test
  @Order(5)
  void aNewDriverOnTheSameStateKeepsTheNames() throws Exception {
    try (LinuxNetworkDriver again = env.driver()) {
      assertThat(again.find("res").orElseThrow().spec().dnsHosts()).isEqualTo(net.spec().dnsHosts());
      assertThat(again.create(net.spec()).spec()).isEqualTo(net.spec());
    }
    assertThat(lookup("db.example.test")).containsExactly("10.98.10.2");
  }
}
