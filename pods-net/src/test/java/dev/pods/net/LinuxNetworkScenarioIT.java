package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.imds.ImdsBinding;
import dev.pods.imds.ImdsProtocol;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.InstanceView;
import dev.pods.imds.NamespaceRunner;
import dev.pods.net.internal.Netns;
import dev.pods.net.internal.Processes;
import dev.pods.net.internal.Programs;
import dev.pods.spi.Cidr;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Four instance networks with stand-in VMs (a namespace with a veth carrying the VM's MAC, busybox udhcpc and
 * httpd), an outside namespace on the uplink, all in this run's namespaces: web, db and spy share VPC a, other is
 * alone in VPC b (same range: only the separate segment keeps them apart); db admits port 80 from web only.
 */
@Tag("system")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LinuxNetworkScenarioIT {
  private static final Duration QUICK = Duration.ofSeconds(2);
  private static final Duration REFUSED = Duration.ofMillis(800);
  private static NetTestEnv env;
  private static LinuxNetworkDriver driver;
  private static final Map<String, NetworkInstance> NETS = new LinkedHashMap<>();
  private static final Map<String, NetTestEnv.Lease> LEASES = new LinkedHashMap<>();

  @BeforeAll
  static void world() throws Exception {
    NetTestEnv.assumeCapable();
    env = new NetTestEnv();
    driver = env.driver();
    NetworkVpc a = new NetworkVpc("a", Cidr.parse("10.98.0.0/16"));
    NetworkVpc b = new NetworkVpc("b", Cidr.parse("10.98.0.0/16"));
    create("web", 1, a, NetworkFirewall.open());
    create("db", 2, a, NetworkFirewall.rules(FirewallRuleSpec.tcp(80, Cidr.parse("10.98.1.2/32"))));
    create("spy", 3, a, NetworkFirewall.open());
    create("other", 4, b, NetworkFirewall.open());
    for (Map.Entry<String, NetworkInstance> e : NETS.entrySet()) {
      int[] ports = e.getKey().equals("web") ? new int[] {80, 8022, 5900} : new int[] {80};
      LEASES.put(e.getKey(), env.standIn(e.getKey(), e.getValue().spec().mac(), e.getValue().vmBridge(), ports));
    }
  }

  private static void create(String name, int i, NetworkVpc vpc, NetworkFirewall fw) {
    NetworkSpec s = NetworkSpec.builder().instanceId(name).owner("dev.pods/session=" + env.prefix)
        .mac("52:54:00:5c:00:0" + i).subnet(Cidr.parse("10.98." + i + ".0/30"))
        .dnsServer(Cidr.parseAddress("10.99.0.53"), Cidr.parseAddress("10.99.0.54"))
        .searchDomain(name + ".pods.internal", "pods.internal").vpc(vpc).hostNamespace(env.hostNs)
        .uplink(new NetworkUplink(env.uplinkBridge, pub(name, i), 16, Cidr.parseAddress(NetTestEnv.GATEWAY)))
        .keptBackPort(5900).firewall(fw).build();
    NETS.put(name, driver.create(s));
  }

  private static java.net.Inet4Address pub(String name, int i) {
    return Cidr.parseAddress("10.99.1." + i);
  }

  @AfterAll
  static void endWorld() throws Exception {
    try {
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

  private static String priv(String name) {
    return Cidr.dotted(NETS.get(name).spec().privateAddress());
  }

  private static String pubOf(String name) {
    return Cidr.dotted(NETS.get(name).spec().uplink().address());
  }

  private static String fromVm(String vm, String host, int port, Duration timeout) throws Exception {
    return NetTestEnv.get(env.standInNs(vm), host, port, timeout);
  }

  @Test
  @Order(1)
  void standInsGetAddressGatewayDnsAndSearchDomainsByDhcp() {
    NetTestEnv.Lease web = LEASES.get("web");
    assertThat(web.field("ip")).isEqualTo("10.98.1.2");
    assertThat(web.field("mask")).isEqualTo("30");
    assertThat(web.field("router")).isEqualTo("10.98.1.1");
    assertThat(web.field("dns")).isEqualTo("10.99.0.53 10.99.0.54");
    assertThat(web.field("search")).isEqualTo("web.pods.internal pods.internal");
    assertThat(web.field("host")).isEqualTo("web");
    for (String name : NETS.keySet()) {
      assertThat(LEASES.get(name).field("ip")).as(name).isEqualTo(priv(name));
    }
  }

  @Test
  @Order(2)
  void thePublicAddressReachesTheVmOnEveryPortButTheKeptBackOne() throws Exception {
    assertThat(NetTestEnv.get(env.outsideNs, pubOf("web"), 80, QUICK)).isEqualTo("hello from web");
    assertThat(NetTestEnv.get(env.outsideNs, pubOf("web"), 8022, QUICK)).isEqualTo("hello from web");
    // 5900 stays in the instance namespace (a console proxy would listen there); the VM's own :5900 is not reached
    Thread serving;
    try (ServerSocket console = driver.bindInNamespace("web", new InetSocketAddress(pub("web", 1), 5900))) {
      serving = NetTestEnv.serve(console, "console of web");
      assertThat(NetTestEnv.get(env.outsideNs, pubOf("web"), 5900, QUICK)).isEqualTo("console of web");
    }
    serving.join(5000);
    assertThat(NetTestEnv.get(env.outsideNs, pubOf("web"), 5900, REFUSED)).startsWith("ERR");
    assertThat(fromVm("web", "127.0.0.1", 5900, QUICK)).as("the decoy is up").isEqualTo("hello from web");
  }

  @Test
  @Order(3)
  void outboundTrafficLeavesWithThePublicAddress() throws Exception {
    ServerSocket echo = Netns.call(Netns.path(env.outsideNs), () -> {
      ServerSocket s = new ServerSocket();
      s.bind(new InetSocketAddress(Cidr.parseAddress(NetTestEnv.OUTSIDE), 7000));
      return s;
    });
    try (echo) {
      NetTestEnv.serve(echo, "{peer}");
      assertThat(fromVm("web", NetTestEnv.OUTSIDE, 7000, QUICK)).isEqualTo(pubOf("web"));
      assertThat(fromVm("other", NetTestEnv.OUTSIDE, 7000, QUICK)).isEqualTo(pubOf("other"));
    }
  }

  @Test
  @Order(4)
  void theFirewallAdmitsOnlyTheWebUnitAndIsReplacedAtomically() throws Exception {
    assertThat(fromVm("web", priv("db"), 80, QUICK)).isEqualTo("hello from db");
    assertThat(fromVm("spy", priv("db"), 80, REFUSED)).startsWith("ERR");
    assertThat(NetTestEnv.get(env.outsideNs, pubOf("db"), 80, REFUSED)).startsWith("ERR");
    NetworkSpec db = NETS.get("db").spec();
    NetworkFirewall both = NetworkFirewall.rules(
        FirewallRuleSpec.tcp(80, Cidr.parse("10.98.1.2/32"), Cidr.parse(priv("spy") + "/32")));
    driver.update(db.withFirewall(both));
    assertThat(fromVm("spy", priv("db"), 80, QUICK)).isEqualTo("hello from db");
    assertThat(fromVm("web", priv("db"), 80, QUICK)).isEqualTo("hello from db");
    driver.update(db);
    assertThat(fromVm("spy", priv("db"), 80, REFUSED)).startsWith("ERR");
    assertThat(driver.find("db").orElseThrow().spec()).isEqualTo(db);
  }

  @Test
  @Order(5)
  void membersOfOneVpcReachEachOtherAndOtherVpcsDoNot() throws Exception {
    assertThat(fromVm("web", priv("spy"), 80, QUICK)).isEqualTo("hello from spy");
    assertThat(fromVm("spy", priv("web"), 80, QUICK)).isEqualTo("hello from web");
    assertThat(fromVm("web", priv("other"), 80, REFUSED)).startsWith("ERR");
    assertThat(fromVm("other", priv("web"), 80, REFUSED)).startsWith("ERR");
    // nor from the outside, even with a route to the private address through the public one
    NetTestEnv.ipIn(env.outsideNs, "route add 10.98.1.0/30 via " + pubOf("web") + "\n");
    try {
      assertThat(NetTestEnv.get(env.outsideNs, priv("web"), 80, REFUSED)).startsWith("ERR");
    } finally {
      NetTestEnv.ipIn(env.outsideNs, "route del 10.98.1.0/30\n");
    }
  }

  @Test
  @Order(6)
  void eachInstanceReachesOnlyItsOwnMetadataAddress() throws Exception {
    InetSocketAddress imds = new InetSocketAddress(Cidr.parseAddress("169.254.169.254"), 80);
    try (ServerSocket web = driver.bindInNamespace("web", imds)) {
      NetTestEnv.serve(web, "i-web for {peer}");
      assertThat(fromVm("web", "169.254.169.254", 80, QUICK)).isEqualTo("i-web for 10.98.1.2");
      // spy's namespace has the address but no listener: it gets a refusal, never web's answer
      assertThat(fromVm("spy", "169.254.169.254", 80, REFUSED)).startsWith("ERR");
      assertThat(fromVm("other", "169.254.169.254", 80, REFUSED)).startsWith("ERR");
      NetTestEnv.ipIn(env.outsideNs, "route add 169.254.169.254/32 via " + pubOf("web") + "\n");
      try {
        assertThat(NetTestEnv.get(env.outsideNs, "169.254.169.254", 80, REFUSED)).startsWith("ERR");
      } finally {
        NetTestEnv.ipIn(env.outsideNs, "route del 169.254.169.254/32\n");
      }
      // and the runtime reaches it from inside the namespace
      try (var s = driver.connectInNamespace("web", imds, QUICK)) {
        assertThat(s.isConnected()).isTrue();
      }
    }
  }

  @Test
  @Order(7)
  void tighteningTheFirewallCutsTheConnectionsItNoLongerAdmitsAndRepliesStillPass() throws Exception {
    NetworkSpec web = NETS.get("web").spec();
    ServerSocket server = Netns.call(Netns.path(env.standInNs("web")), () -> new ServerSocket(7007));
    echo(server);
    ServerSocket outsideServer = Netns.call(Netns.path(env.outsideNs), () -> {
      ServerSocket s = new ServerSocket();
      s.bind(new InetSocketAddress(Cidr.parseAddress(NetTestEnv.OUTSIDE), 7001));
      return s;
    });
    try (server; outsideServer; Socket client = Netns.call(Netns.path(env.outsideNs), () -> {
      Socket c = new Socket();
      c.connect(new InetSocketAddress(pub("web", 1), 7007), 2000);
      return c;
    })) {
      NetTestEnv.serve(outsideServer, "{peer}");
      client.setSoTimeout(1500);
      assertThat(roundTrip(client, "one")).isEqualTo("one");
      driver.update(web.withFirewall(NetworkFirewall.rules(FirewallRuleSpec.tcp(80, Cidr.parse("0.0.0.0/0")))));
      assertThatThrownBy(() -> roundTrip(client, "two")).as("the established connection is cut")
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(NetTestEnv.get(env.outsideNs, pubOf("web"), 7007, REFUSED)).startsWith("ERR");
      assertThat(NetTestEnv.get(env.outsideNs, pubOf("web"), 80, QUICK)).isEqualTo("hello from web");
      assertThat(fromVm("web", NetTestEnv.OUTSIDE, 7001, QUICK)).as("replies to the VM's own connections")
          .isEqualTo(pubOf("web"));
    } finally {
      driver.update(web);
    }
  }

  private static String roundTrip(Socket s, String line) throws IOException {
    s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
  }

  /** Echoes the lines of one connection accepted on {@code server}, in a daemon thread. */
  private static void echo(ServerSocket server) {
    Thread t = new Thread(() -> {
      try (Socket s = server.accept()) {
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        for (String l = in.readLine(); l != null; l = in.readLine()) {
          s.getOutputStream().write((l + "\n").getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        }
      } catch (IOException e) {
        // the connection ended: what the test asserts about it is checked on the client's side
      }
    }, "test-echo");
    t.setDaemon(true);
    t.start();
  }

  /**
   * A guest holds {@value Programs#IMDS_MAX_CONNECTIONS} connections to its metadata service: the next one is reset
   * by its namespace's nftables table (and counted), while the held ones are still served, and so is another
   * instance whose guest connects at the same time. Once the guest lets go, it connects again.
   */
  @Test
  @Order(8)
  void aGuestHoldsAtMostTheCappedNumberOfMetadataConnectionsAndTheExcessIsResetAndCounted() throws Exception {
    assertThat(Programs.IMDS_MAX_CONNECTIONS).isEqualTo(ImdsProtocol.MAX_CONNECTIONS);
    String token = "cap-token-0123456789";
    InetSocketAddress at = ImdsProtocol.METADATA_ADDRESS;
    try (ImdsServer web = imds("web", token); ImdsServer spy = imds("spy", token)) {
      List<Socket> held = Netns.call(Netns.path(env.standInNs("web")), () -> {
        List<Socket> l = new ArrayList<>();
        for (int i = 0; i < Programs.IMDS_MAX_CONNECTIONS; i++) {
          Socket s = new Socket();
          s.connect(at, 2000);
          l.add(s);
        }
        return l;
      });
      try {
        String refused = Netns.call(Netns.path(env.standInNs("web")), () -> {
          try (Socket s = new Socket()) {
            s.connect(at, 2000);
            return "connected";
          } catch (IOException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
          }
        });
        assertThat(refused).isEqualTo("ConnectException: Connection refused");
        assertThat(driver.imdsConnectionsRefused("web")).isEqualTo(1);
        assertThat(driver.imdsConnectionsRefused("spy")).isZero();
        // logged once: a driver on the same state (whose watcher has not read the counters yet) reads them now
        try (LinuxNetworkDriver again = env.driver()) {
          assertThat(again.logImdsRefusals()).singleElement().asString()
              .contains("instance web:", "more than " + ImdsProtocol.MAX_CONNECTIONS + " connections", "1 more refused");
          assertThat(again.logImdsRefusals()).as("nothing new since").isEmpty();
        }
        // the held connections are served, and another instance's guest is served at the same time
        assertThat(spec(held.get(0), token)).startsWith("HTTP/1.1 200").contains("instance cap-web-0");
        assertThat(spec(held.get(held.size() - 1), token)).startsWith("HTTP/1.1 200");
        String other = Netns.call(Netns.path(env.standInNs("spy")), () -> {
          try (Socket s = new Socket()) {
            s.connect(at, 2000);
            return spec(s, token);
          }
        });
        assertThat(other).startsWith("HTTP/1.1 200").contains("instance cap-spy-0");
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }
      // the kernel forgets connections once both sides closed them: the guest connects again (until the server
      // has closed its ends of the held ones, and while it is busy with them, the guest is refused or answered
      // 503 for a moment, which the agent retries as this does)
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      String again;
      do {
        again = Netns.call(Netns.path(env.standInNs("web")), () -> {
          try (Socket s = new Socket()) {
            s.connect(at, 2000);
            return spec(s, token);
          } catch (IOException e) {
            return "ERR " + e;
          }
        });
      } while (!again.startsWith("HTTP/1.1 200") && System.nanoTime() < deadline);
      assertThat(again).startsWith("HTTP/1.1 200");
      assertThat(web.lastContact()).isPresent();
      assertThat(spy.lastContact()).isPresent();
    }
  }

  private static ImdsServer imds(String name, String token) {
    dev.pods.Unit u = dev.pods.Unit.builder().name(name).image("tiny").build();
    return ImdsServer.builder()
        .binding(ImdsBinding.inNamespace(NamespaceRunner.of(driver, name), ImdsProtocol.METADATA_ADDRESS))
        .view(InstanceView.builder().pod("cap").unit(name).spec(u, "1").privateIps(List.of(priv(name))).build())
        .token(token).start();
  }

  /** GET /v1/spec on an open connection (keep-alive), its answer's head line and body. */
  private static String spec(Socket s, String token) throws IOException {
    s.setSoTimeout(5000);
    OutputStream out = s.getOutputStream();
    out.write(("GET /v1/spec HTTP/1.1\r\nHost: imds\r\n" + ImdsProtocol.TOKEN_HEADER + ": " + token
        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder b = new StringBuilder(in.readLine()).append('\n');
    int length = 0;
    for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
      if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(h.substring(15).trim());
      }
    }
    char[] body = new char[length];
    int n = 0;
    while (n < length) {
      int r = in.read(body, n, length - n);
      if (r < 0) {
        break;
      }
      n += r;
    }
    return b.append(body, 0, n).toString();
  }

  @Test
  @Order(9)
  void deletingLeavesNoNamespaceLinkTableProcessOrFile() throws Exception {
    List<Long> pids = new ArrayList<>();
    for (NetworkInstance n : NETS.values()) {
      pids.addAll(Processes.inNamespace(Netns.inode(n.namespace())));
    }
    assertThat(pids).hasSize(4);
    for (String name : NETS.keySet()) {
      driver.delete(name);
    }
    assertThat(NetTestEnv.namespaces(env.prefix + "-")).isEmpty();
    assertThat(pids).noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    // only the test's own links remain: the uplink bridge, the outside veth, the stand-ins' veths
    assertThat(NetTestEnv.links(env.vmNs, env.prefix)).allMatch(l -> l.startsWith(env.prefix + "s"));
    assertThat(NetTestEnv.links(env.hostNs, env.prefix)).containsExactlyInAnyOrder(env.uplinkBridge,
        env.prefix + "O");
    try (var files = Files.list(driver.stateDir().resolve("instances"))) {
      assertThat(files).isEmpty();
    }
    assertThat(driver.list("dev.pods/session=" + env.prefix)).isEmpty();
  }
}
