package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.net.internal.AtomicFiles;
import dev.pods.net.internal.Exec;
import dev.pods.net.internal.IpJson;
import dev.pods.net.internal.Netns;
import dev.pods.net.internal.Processes;
import dev.pods.spi.Cidr;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The world of a system test, all inside namespaces this run creates: a host namespace with the uplink bridge
 * (10.99.0.1/16, the instances' gateway), an outside namespace on that bridge (10.99.0.9/16), a VM namespace (what
 * libvirt would see) and stand-in VMs. Every name starts with a per-run prefix {@code pt????}; the driver's
 * namespaces are {@code <prefix>-<id>}, this class's are {@code <prefix>x-<role>} (so the driver's reaping never
 * touches them). Leftovers of earlier runs whose JVM is gone are removed on start.
 */
final class NetTestEnv {
  private static final Logger LOG = LoggerFactory.getLogger(NetTestEnv.class);
  static final Path ROOT = Path.of("/tmp/pods-net-it");
  static final String BUSYBOX = "/bin/busybox";
  static final Cidr PUBLIC = Cidr.parse("10.99.0.0/16");
  static final String GATEWAY = "10.99.0.1";
  static final String OUTSIDE = "10.99.0.9";

  final String prefix;
  final Path dir;
  final String hostNs;
  final String vmNs;
  final String outsideNs;
  final String uplinkBridge;
  private final List<Process> processes = new ArrayList<>();
  private final List<String> standIns = new ArrayList<>();
  private int links;

  /** Skips the calling test unless this host can create namespaces and has the commands. */
  static void assumeCapable() {
    Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"),
        "network namespaces need Linux");
    boolean root;
    try {
      root = Files.readAllLines(Path.of("/proc/self/status")).stream()
          .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0"));
    } catch (IOException e) {
      root = false;
    }
    Assumptions.assumeTrue(root, "network namespace tests need root (CAP_NET_ADMIN + CAP_SYS_ADMIN)");
    for (String cmd : List.of("ip", "nft", "dnsmasq")) {
      Assumptions.assumeTrue(onPath(cmd), cmd + " is not installed (apt-get install iproute2 nftables dnsmasq-base)");
    }
    Assumptions.assumeTrue(Files.isExecutable(Path.of(BUSYBOX)), BUSYBOX + " is missing (apt-get install busybox-static)");
  }

  private static boolean onPath(String cmd) {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(d, cmd))) {
        return true;
      }
    }
    return false;
  }

  /** Where the drivers of the tests claim link indexes (the default, host-wide; one file per run prefix). */
  static final Path LINK_INDEXES = Path.of("/run/pods/net");

  NetTestEnv() throws Exception {
    reapEarlierRuns();
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    prefix = "pt" + "0000".substring(rnd.length()) + rnd;
    dir = ROOT.resolve(prefix);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    hostNs = prefix + "x-host";
    vmNs = prefix + "x-lv";
    outsideNs = prefix + "x-out";
    uplinkBridge = prefix + "UP";
    Exec.check(List.of("ip", "netns", "add", hostNs), null, Duration.ofSeconds(10));
    Exec.check(List.of("ip", "netns", "add", vmNs), null, Duration.ofSeconds(10));
    Exec.check(List.of("ip", "netns", "add", outsideNs), null, Duration.ofSeconds(10));
    ipIn(hostNs, "link set lo up\nlink add " + uplinkBridge + " type bridge\naddr add " + GATEWAY + "/16 dev "
        + uplinkBridge + "\nlink set " + uplinkBridge + " up\n"
        + "link add " + prefix + "O type veth peer name eth0 netns " + outsideNs + "\nlink set " + prefix + "O master "
        + uplinkBridge + "\nlink set " + prefix + "O up\n");
    ipIn(outsideNs, "link set lo up\naddr add " + OUTSIDE + "/16 dev eth0\nlink set eth0 up\n");
    ipIn(vmNs, "link set lo up\n");
    Files.writeString(dir.resolve("udhcpc.script"), """
        #!/bin/sh
        case "$1" in
          deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
          bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface"
            if [ -n "$mtu" ]; then ip link set "$interface" mtu "$mtu"; fi
            ip route replace default via "$router" dev "$interface"
            echo "LEASE ip=$ip mask=$mask router=$router dns=$dns search=$search domain=$domain host=$hostname mtu=$mtu" ;;
        esac
        """);
    dir.resolve("udhcpc.script").toFile().setExecutable(true);
  }

  /** A driver on this run's state whose VM side is in the VM namespace (apart from the uplink). */
  LinuxNetworkDriver driver() {
    return LinuxNetworkDriver.builder().stateDir(dir.resolve("state")).prefix(prefix).vmNamespace(vmNs).build();
  }

  /** A driver whose VM side shares the host namespace with the uplink, as libvirt and the bridges do in production. */
  LinuxNetworkDriver sharedDriver() {
    return LinuxNetworkDriver.builder().stateDir(dir.resolve("state")).prefix(prefix).vmNamespace(hostNs).build();
  }

  static void ipIn(String ns, String batch) throws Exception {
    Netns.call(Netns.path(ns), () -> Exec.check(List.of("ip", "-batch", "-"), batch, Duration.ofSeconds(10)));
  }

  /** The outcome of a stand-in's DHCP: the script's LEASE line. */
  record Lease(String line) {
    String field(String name) {
      for (String part : line.split(" (?=[a-z]+=)")) {
        if (part.startsWith(name + "=")) {
          return part.substring(name.length() + 1).strip();
        }
      }
      return "";
    }
  }

  /**
   * A stand-in VM: a namespace with a veth {@code eth0} carrying {@code mac}, whose other end is on
   * {@code vmBridge}; it runs {@code udhcpc}, and httpd on each port with body {@code hello from <name>}.
   */
  Lease standIn(String name, String mac, String vmBridge, int... httpPorts) throws Exception {
    return standIn(name, mac, vmNs, vmBridge, httpPorts);
  }

  /** A stand-in VM whose veth goes to {@code vmBridge} in namespace {@code bridgeNs}. */
  Lease standIn(String name, String mac, String bridgeNs, String vmBridge, int... httpPorts) throws Exception {
    String ns = prefix + "x-vm-" + name;
    String peer = prefix + "s" + (links++);
    Exec.check(List.of("ip", "netns", "add", ns), null, Duration.ofSeconds(10));
    standIns.add(ns);
    Netns.call(Netns.path(ns), () -> {
      Files.writeString(Path.of("/proc/sys/net/ipv6/conf/all/disable_ipv6"), "1");
      Files.writeString(Path.of("/proc/sys/net/ipv6/conf/default/disable_ipv6"), "1");
      return null;
    });
    ipIn(ns, "link set lo up\nlink add eth0 address " + mac + " type veth peer name " + peer + " netns " + bridgeNs
        + "\n");
    ipIn(bridgeNs, "link set " + peer + " master " + vmBridge + "\nlink set " + peer + " up\n");
    Lease lease = dhcp(name);
    Path www = dir.resolve("www-" + name);
    Files.createDirectories(www);
    Files.writeString(www.resolve("index.html"), "hello from " + name + "\n");
    for (int port : httpPorts) {
      processes.add(Netns.call(Netns.path(ns), () -> new ProcessBuilder(BUSYBOX, "httpd", "-f", "-p",
          "0.0.0.0:" + port, "-h", www.toString()).redirectErrorStream(true)
          .redirectOutput(dir.resolve("httpd-" + name + "-" + port + ".log").toFile()).start()));
    }
    for (int port : httpPorts) {
      awaitListening(ns, port);
    }
    return lease;
  }

  /** Runs the stand-in's DHCP client once more (a new DISCOVER); the lease it got. */
  Lease renew(String name) throws Exception {
    return dhcp(name);
  }

  private Lease dhcp(String name) throws Exception {
    String ns = standInNs(name);
    Exec.Result r = Netns.call(Netns.path(ns), () -> Exec.check(List.of(BUSYBOX, "udhcpc", "-i", "eth0", "-s",
        dir.resolve("udhcpc.script").toString(), "-O", "search", "-O", "mtu", "-t", "5", "-T", "1", "-n", "-q", "-f"), null,
        Duration.ofSeconds(30)));
    String line = r.stdout().lines().filter(l -> l.startsWith("LEASE ")).findFirst()
        .orElseThrow(() -> new AssertionError("no lease for " + name + ": " + r.stdout() + r.stderr()));
    return new Lease(line.substring("LEASE ".length()));
  }

  /** Ends a stand-in's processes and removes its namespace, with its veth (whose peer goes too). */
  void removeStandIn(String name) throws Exception {
    String ns = standInNs(name);
    standIns.remove(ns);
    removeNamespace(ns);
  }

  String standInNs(String name) {
    return prefix + "x-vm-" + name;
  }

  private static void awaitListening(String ns, int port) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      if (get(ns, "127.0.0.1", port, Duration.ofMillis(500)).startsWith("hello")) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("httpd on port " + port + " in " + ns + " did not come up");
  }

  /**
   * An HTTP GET from inside namespace {@code ns}; the body, or {@code "ERR <reason>"} when the connection is
   * refused, times out or is reset.
   */
  static String get(String ns, String host, int port, Duration timeout) throws Exception {
    return Netns.call(Netns.path(ns), () -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(Cidr.parseAddress(host), port), (int) timeout.toMillis());
        s.setSoTimeout((int) timeout.toMillis());
        OutputStream out = s.getOutputStream();
        out.write(("GET / HTTP/1.0\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String resp = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int body = resp.indexOf("\r\n\r\n");
        return body < 0 ? resp.strip() : resp.substring(body + 4).strip();
      } catch (IOException e) {
        return "ERR " + e.getClass().getSimpleName() + ": " + e.getMessage();
      }
    });
  }

  /**
   * Serves {@code body} to every connection on {@code server}, in a daemon thread, until it is closed; the caller
   * joins the returned thread after closing the socket before relying on it being gone (an accept that is blocked
   * while the socket closes may still take one more connection).
   */
  static Thread serve(ServerSocket server, String body) {
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
          s.setSoTimeout(2000);
          byte[] buf = new byte[1024];
          int n = in.read(buf);
          String peer = s.getInetAddress().getHostAddress();
          String text = body.replace("{peer}", peer);
          out.write(("HTTP/1.0 200 OK\r\nContent-Length: " + text.length() + "\r\n\r\n" + text)
              .getBytes(StandardCharsets.UTF_8));
          if (n < 0) {
            LOG.debug("client sent nothing");
          }
        } catch (IOException e) {
          LOG.debug("serve loop ended", e);
        }
      }
    }, "test-serve");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** The links of namespace {@code ns} whose names start with {@code namePrefix}. */
  static List<String> links(String ns, String namePrefix) throws Exception {
    String json = Netns.call(Netns.path(ns), () -> Exec.check(List.of("ip", "-j", "-d", "link", "show"), null,
        Duration.ofSeconds(10)).stdout());
    return IpJson.links(json).stream().map(IpJson.Link::name).filter(n -> n.startsWith(namePrefix)).toList();
  }

  /** The named namespaces whose names start with {@code namePrefix}. */
  static List<String> namespaces(String namePrefix) throws IOException {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(Netns.RUN_NETNS, namePrefix + "*")) {
      ds.forEach(p -> out.add(p.getFileName().toString()));
    }
    return out;
  }

  /** The link prefix of a second "host" driver of run {@code runPrefix} (its namespaces: {@code <runPrefix>b-<id>}). */
  static String secondLinkPrefix(String runPrefix) {
    return "pb" + runPrefix.substring(2);
  }

  /** Ends the stand-ins' processes and removes every namespace and file of this run. */
  void destroy() throws Exception {
    for (Process p : processes) {
      p.destroy();
      p.waitFor();
    }
    for (String ns : standIns) {
      removeNamespace(ns);
    }
    removeNamespace(outsideNs);
    removeNamespace(vmNs);
    removeNamespace(hostNs);
    List<String> left = namespaces(prefix);
    for (String ns : left) {
      removeNamespace(ns);
    }
    AtomicFiles.deleteTree(dir);
    // the run's host-wide link index claims: gone with its last network, unless a test failed half-way
    Files.deleteIfExists(LINK_INDEXES.resolve(prefix + ".json"));
    Files.deleteIfExists(LINK_INDEXES.resolve(secondLinkPrefix(prefix) + ".json"));
    assertThat(left).as("namespaces left by run " + prefix).isEmpty();
  }

  private static void removeNamespace(String ns) throws Exception {
    if (!Netns.exists(ns)) {
      return;
    }
    Processes.end(Processes.inNamespace(Netns.inode(ns)), Duration.ofSeconds(2));
    // delete every link first: namespace removal is asynchronous and would leave veth peers for a while
    String json = Netns.call(Netns.path(ns), () -> Exec.check(List.of("ip", "-j", "link", "show"), null,
        Duration.ofSeconds(10)).stdout());
    StringBuilder del = new StringBuilder();
    for (IpJson.Link l : IpJson.links(json)) {
      if (!l.name().equals("lo")) {
        del.append("link del ").append(l.name()).append('\n');
      }
    }
    if (del.length() > 0) {
      Netns.call(Netns.path(ns), () -> Exec.run(List.of("ip", "-force", "-batch", "-"), del.toString(),
          Duration.ofSeconds(10)));
    }
    Exec.check(List.of("ip", "netns", "del", ns), null, Duration.ofSeconds(10));
  }

  /** Removes what earlier runs left when their JVM died: their namespaces (after their processes) and files. */
  static void reapEarlierRuns() throws Exception {
    // namespaces of runs whose directory is gone (a run that died while removing it)
    for (String ns : namespaces("pt")) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(pt[0-9a-z]{4})[xb]?-.*").matcher(ns);
      if (m.matches() && !Files.isDirectory(ROOT.resolve(m.group(1)))) {
        LOG.warn("removing namespace {} of a finished test run", ns);
        removeNamespace(ns);
      }
    }
    if (!Files.isDirectory(ROOT)) {
      return;
    }
    try (DirectoryStream<Path> runs = Files.newDirectoryStream(ROOT, "pt????")) {
      for (Path run : runs) {
        long pid = -1;
        try {
          pid = Long.parseLong(Files.readString(run.resolve("pid")).strip());
        } catch (IOException | NumberFormatException e) {
          // no pid: a run that died while starting
        }
        if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        String p = run.getFileName().toString();
        LOG.warn("removing leftovers of crashed test run {}", p);
        for (String ns : namespaces(p + "-")) {
          removeNamespace(ns);
        }
        for (String ns : namespaces(p + "x-")) {
          removeNamespace(ns);
        }
        for (String ns : namespaces(p + "b-")) {
          removeNamespace(ns);
        }
        AtomicFiles.deleteTree(run);
        Files.deleteIfExists(LINK_INDEXES.resolve(p + ".json"));
        Files.deleteIfExists(LINK_INDEXES.resolve(secondLinkPrefix(p) + ".json"));
      }
    }
  }
}
