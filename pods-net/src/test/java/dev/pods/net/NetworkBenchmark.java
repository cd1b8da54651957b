package dev.pods.net;

import dev.pods.net.internal.Exec;
import dev.pods.net.internal.Netns;
import dev.pods.net.internal.Processes;
import dev.pods.spi.Cidr;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark (a main, not a test): create and delete of a full instance network, median of 20, against a hand-written
 * {@code ip -batch} script of the same shape as the feasibility report's {@code fbfast.sh}, in the same run; memory
 * per instance network; 300 instance networks at once. Needs root; everything lives in this run's namespaces.
 *
 * <p>Run: {@code mvn -q -pl pods-net -am test-compile} then
 * {@code java -cp "$(cat pods-net/target/cp.txt):pods-net/target/classes:pods-net/target/test-classes"
 * dev.pods.net.NetworkBenchmark [count]} (see the module README for the class path).
 */
public final class NetworkBenchmark {
  private NetworkBenchmark() {}

  /** Prints the figures; the optional argument is the number of networks for the scale run (default 300). */
  public static void main(String[] args) throws Exception {
    int scale = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    NetTestEnv env = new NetTestEnv();
    String owner = "bench-" + env.prefix;
    try {
      // the two ways the driver loads its nftables programs, one after the other in this run: in-process
      // (libnftables over JNA, the default) and by nftables' own command (netlink(false)); ip programs run by ip
      long[][] inProcess = driverRuns(env, owner, true, 20);
      long[][] commands = driverRuns(env, owner, false, 20);
      long[][] hand = handScript(env, 20);
      print("driver create, in-process", inProcess[0]);
      print("driver delete, in-process", inProcess[1]);
      print("driver create, nft command", commands[0]);
      print("driver delete, nft command", commands[1]);
      print("hand ip -batch script create", hand[0]);
      print("hand ip -batch script delete", hand[1]);
      System.out.printf(Locale.ROOT, "ratio create %.2f, delete %.2f (driver in-process / script)%n",
          median(inProcess[0]) / median(hand[0]), median(inProcess[1]) / median(hand[1]));
      System.out.printf(Locale.ROOT, "ratio create %.2f, delete %.2f (driver with nft command / in-process)%n",
          median(commands[0]) / median(inProcess[0]), median(commands[1]) / median(inProcess[1]));
      // the production layout: the hypervisor's namespace also holds the uplink and VPC bridges
      try (LinuxNetworkDriver driver = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("state"))
          .prefix(env.prefix).vmNamespace(env.hostNs).build()) {
        scale(env, driver, owner, scale);
      }
    } finally {
      env.destroy();
    }
  }

  private static void print(String what, long[] nanos) {
    System.out.printf(Locale.ROOT, "%s: median %.1f ms (min %.1f, max %.1f)%n", what, median(nanos), min(nanos),
        max(nanos));
  }

  /** Creates and deletes of one full instance network after a warm-up: {create, delete} nanoseconds. */
  private static long[][] driverRuns(NetTestEnv env, String owner, boolean netlink, int n) throws Exception {
    // the production layout: the hypervisor's namespace also holds the uplink and VPC bridges
    try (LinuxNetworkDriver driver = LinuxNetworkDriver.builder()
        .stateDir(env.dir.resolve(netlink ? "state-in-process" : "state-commands"))
        .prefix(env.prefix).vmNamespace(env.hostNs).netlink(netlink).build()) {
      // warm-up: JIT, page cache, first nft and dnsmasq starts
      for (int i = 0; i < 3; i++) {
        driver.create(spec(env, owner, "warm", 0));
        driver.delete("warm");
      }
      long[][] out = new long[2][n];
      for (int i = 0; i < n; i++) {
        NetworkSpec s = spec(env, owner, "bench", 0);
        long t0 = System.nanoTime();
        driver.create(s);
        long t1 = System.nanoTime();
        check(driver, "bench");
        long t2 = System.nanoTime();
        driver.delete("bench");
        long t3 = System.nanoTime();
        out[0][i] = t1 - t0;
        out[1][i] = t3 - t2;
      }
      return out;
    }
  }

  static NetworkSpec spec(NetTestEnv env, String owner, String id, int i) {
    Cidr subnet = new Cidr(Cidr.toInt(Cidr.parseAddress("10.98.0.0")) + 4 * i, 30);
    return NetworkSpec.builder().instanceId(id).owner(owner)
        .mac(String.format(Locale.ROOT, "52:54:00:be:%02x:%02x", i / 256, i % 256)).subnet(subnet)
        .dnsServer(Cidr.parseAddress("10.99.0.53")).searchDomain(id + ".pods.internal", "pods.internal")
        .vpc(new NetworkVpc("bench", Cidr.parse("10.98.0.0/16"))).hostNamespace(env.hostNs)
        .uplink(new NetworkUplink(env.uplinkBridge, Cidr.parseAddress("10.99." + (10 + i / 200) + "." + (10 + i % 200)),
            16, Cidr.parseAddress(NetTestEnv.GATEWAY)))
        .keptBackPort(5900)
        .firewall(NetworkFirewall.rules(FirewallRuleSpec.tcp(80, Cidr.parse("0.0.0.0/0")),
            FirewallRuleSpec.tcp(22, Cidr.parse("10.98.0.0/16")), FirewallRuleSpec.icmp(Cidr.parse("0.0.0.0/0"))))
        .build();
  }

  private static void check(LinuxNetworkDriver driver, String id) throws IOException {
    String ns = driver.find(id).orElseThrow().namespace();
    if (Processes.inNamespace(Netns.inode(ns)).size() != 1) {
      throw new IllegalStateException("dnsmasq is not running in " + ns);
    }
  }

  /**
   * The baseline: the feasibility report's {@code fbfast.sh} pod-up/pod-down with this run's names (ip netns add,
   * an ip -batch in the pod namespace with bridge and tap, one in the host namespace, one nsenter shell for sysctl,
   * nft and dnsmasq; teardown kills the namespace's processes, deletes the uplink veth, then the namespace). Its IMDS
   * busybox httpd is left out, since the driver starts no IMDS process (the IMDS is a socket in the JVM).
   */
  private static long[][] handScript(NetTestEnv env, int n) throws Exception {
    Path script = env.dir.resolve("hand.sh");
    Files.writeString(script, HAND.replace("@P@", env.prefix).replace("@HOSTNS@", env.hostNs)
        .replace("@HOSTBR@", env.uplinkBridge).replace("@DIR@", env.dir.toString()));
    long[][] out = new long[2][n];
    for (int i = 0; i < n + 3; i++) {
      long t0 = System.nanoTime();
      Exec.check(List.of("bash", script.toString(), "up"), null, Duration.ofSeconds(30));
      long t1 = System.nanoTime();
      Exec.check(List.of("bash", script.toString(), "down"), null, Duration.ofSeconds(30));
      long t2 = System.nanoTime();
      if (i >= 3) {
        out[0][i - 3] = t1 - t0;
        out[1][i - 3] = t2 - t1;
      }
    }
    return out;
  }

  private static final String HAND = """
      set -euo pipefail
      NS=@P@x-hand; HOSTNS=@HOSTNS@; DIR=@DIR@/hand; T=@P@
      up() {
        mkdir -p $DIR
        ip netns add $NS
        ip -n $NS -batch - <<B
      link set lo up
      link add gw0 type bridge
      addr add 10.98.200.1/30 dev gw0
      addr add 169.254.169.254/32 dev gw0
      tuntap add dev tap0 mode tap
      link set tap0 master gw0
      link set tap0 up
      link set gw0 up
      link add up0 address 02:00:00:00:00:02 type veth peer name @P@hu netns $HOSTNS
      addr add 10.99.200.10/16 dev up0
      link set up0 up
      route add default via 10.99.0.1
      B
        ip -n $HOSTNS -batch - <<B
      link set @P@hu master @HOSTBR@
      link set @P@hu up
      B
        nsenter --net=/run/netns/$NS /bin/sh -s <<SH
      echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
      nft -f - <<'NFT'
      table ip $T {
        chain prerouting { type nat hook prerouting priority dstnat; policy accept;
          iifname "up0" ip daddr 10.99.200.10 tcp dport 5900 return
          iifname "up0" ip daddr 10.99.200.10 dnat to 10.98.200.2
        }
        chain postrouting { type nat hook postrouting priority srcnat; policy accept;
          oifname "up0" ip saddr 10.98.200.2 snat to 10.99.200.10
        }
        chain forward { type filter hook forward priority filter; policy drop;
          ct state established,related accept
          ip daddr 169.254.0.0/16 drop
          iifname "gw0" ip saddr 10.98.200.2 accept
          ct status dnat accept
        }
        chain input { type filter hook input priority filter; policy accept;
          ct state established,related accept
          ip daddr 169.254.169.254 iifname != { "gw0", "lo" } drop
          iifname "up0" ip daddr != 10.99.200.10 drop
          iifname "gw0" udp dport { 53, 67 } accept
          iifname "gw0" ip daddr 169.254.169.254 tcp dport 80 accept
          iifname "gw0" drop
        }
      }
      NFT
      dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --no-poll --interface=gw0 --bind-interfaces --except-interface=lo \\
        --dhcp-range=10.98.200.2,static,255.255.255.252,12h --dhcp-authoritative --dhcp-host=52:54:00:be:ff:ff,10.98.200.2,hand,infinite \\
        --dhcp-option=option:router,10.98.200.1 --dhcp-option=option:dns-server,10.98.200.1 \\
        --dhcp-option=option:domain-search,hand.pods.internal,pods.internal --domain=hand.pods.internal \\
        --dhcp-leasefile=$DIR/leases --pid-file=$DIR/dnsmasq.pid
      SH
      }
      down() {
        pids=$(ip netns pids $NS 2>/dev/null || true)
        [ -n "$pids" ] && kill $pids
        for _ in $(seq 500); do [ -z "$(ip netns pids $NS 2>/dev/null)" ] && break; sleep 0.01; done
        ip -n $NS link del up0
        ip netns del $NS
        rm -rf $DIR
      }
      $1
      """;

  private static void scale(NetTestEnv env, LinuxNetworkDriver driver, String owner, int n) throws Exception {
    long memBefore = memAvailableKib();
    long slabBefore = slabKib();
    long t0 = System.nanoTime();
    int failures = 0;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = "s" + i;
      try {
        driver.create(spec(env, owner, id, i + 1));
        ids.add(id);
      } catch (RuntimeException e) {
        failures++;
        System.out.println("create " + id + " failed: " + e.getMessage());
      }
    }
    long t1 = System.nanoTime();
    Thread.sleep(1000);
    long memAfter = memAvailableKib();
    long slabAfter = slabKib();
    long rss = 0;
    long pss = 0;
    int procs = 0;
    for (String id : ids) {
      for (long pid : Processes.inNamespace(Netns.inode(driver.find(id).orElseThrow().namespace()))) {
        long[] rp = rssPss(pid);
        rss += rp[0];
        pss += rp[1];
        procs++;
      }
    }
    long t2 = System.nanoTime();
    List<String> removed = driver.reap(owner);
    long t3 = System.nanoTime();
    Thread.sleep(2000);
    long memEnd = memAvailableKib();
    System.out.printf(Locale.ROOT, "%d networks at once: created in %.1f s (%.1f ms each), %d failures; deleted %d in"
        + " %.1f s (%.1f ms each)%n", n, (t1 - t0) / 1e9, (t1 - t0) / 1e6 / n, failures, removed.size(),
        (t3 - t2) / 1e9, (t3 - t2) / 1e6 / n);
    double perNet = (slabAfter - slabBefore) / 1024.0 / n + (procs == 0 ? 0 : pss / 1024.0 / procs);
    System.out.printf(Locale.ROOT, "memory per network (kernel slab + dnsmasq PSS): %.2f MiB%n", perNet);
    System.out.printf(Locale.ROOT, "memory: MemAvailable down %.1f MiB (%.2f MiB per network), kernel slab +%.1f MiB"
        + " (%.2f MiB per network); %d dnsmasq: RSS %.2f MiB, PSS %.2f MiB average; after delete MemAvailable is"
        + " %.1f MiB below the start%n", (memBefore - memAfter) / 1024.0, (memBefore - memAfter) / 1024.0 / n,
        (slabAfter - slabBefore) / 1024.0, (slabAfter - slabBefore) / 1024.0 / n, procs,
        procs == 0 ? 0 : rss / 1024.0 / procs, procs == 0 ? 0 : pss / 1024.0 / procs, (memBefore - memEnd) / 1024.0);
  }

  private static long memAvailableKib() throws IOException {
    return meminfo("MemAvailable:");
  }

  private static long slabKib() throws IOException {
    return meminfo("Slab:");
  }

  private static long meminfo(String key) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
      if (l.startsWith(key)) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException(key + " not in /proc/meminfo");
  }

  private static long[] rssPss(long pid) throws IOException {
    long rss = 0;
    long pss = 0;
    for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
      if (l.startsWith("Rss:")) {
        rss = Long.parseLong(l.replaceAll("[^0-9]", ""));
      } else if (l.startsWith("Pss:")) {
        pss = Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return new long[] {rss, pss};
  }

  private static double median(long[] ns) {
    long[] s = ns.clone();
    Arrays.sort(s);
    return (s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0) / 1e6;
  }

  private static double min(long[] ns) {
    return Arrays.stream(ns).min().orElse(0) / 1e6;
  }

  private static double max(long[] ns) {
    return Arrays.stream(ns).max().orElse(0) / 1e6;
  }
}
