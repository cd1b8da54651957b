package dev.pods.net;

import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import dev.pods.spi.DnsHost;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Benchmark (a main, not a test) of the two DNS paths, each against a baseline in the same run:
 *
 * <ol>
 *   <li>Record change to answered by the instance's resolver: {@link LinuxNetworkDriver#update} with new names
 *       only (hosts file rewritten, SIGHUP to dnsmasq), then A queries from a stand-in VM until the new address is
 *       answered; p50 of 50. Baseline: the same change together with a DHCP option change, which restarts dnsmasq
 *       (what a resolver configured on its command line would need).</li>
 *   <li>An RFC 2136 update round trip with TSIG ({@link Rfc2136DnsProvider#replace}) against a real BIND 9 on
 *       loopback; p50 of 100. Baseline: {@code nsupdate -y} by hand with the same update, against the same BIND.</li>
 * </ol>
 *
 * Needs root, dnsmasq, busybox and bind9; everything lives in this run's namespaces and folders. Run as the module
 * README says for {@code NetworkBenchmark}, with main class {@code dev.pods.net.DnsBenchmark}.
 */
public final class DnsBenchmark {
  private static final String NAME = "api.example.test";

  private DnsBenchmark() {}

  /** Prints the figures. */
  public static void main(String[] args) throws Exception {
    resolver();
    rfc2136();
  }

  private static void resolver() throws Exception {
    NetTestEnv env = new NetTestEnv();
    try (LinuxNetworkDriver driver = env.driver()) {
      NetworkSpec spec = NetworkSpec.builder().instanceId("bench").owner("dev.pods/session=" + env.prefix)
          .mac("52:54:00:5e:00:01").subnet(Cidr.parse("10.98.11.0/30")).hostNamespace(env.hostNs)
          .searchDomain("a.internal").resolver(true).dnsHosts(hosts(0)).build();
      NetworkInstance net = driver.create(spec);
      NetTestEnv.Lease lease = env.standIn("bench", net.spec().mac(), net.vmBridge());
      InetSocketAddress server = new InetSocketAddress(Cidr.parseAddress(lease.field("dns")), 53);
      Path ns = Netns.path(env.standInNs("bench"));
      for (int i = 1; i <= 5; i++) { // warm-up
        net = driver.update(net.spec().withDnsHosts(hosts(i)));
        awaitAnswer(ns, server, i);
      }
      long[] reread = new long[50];
      long[] restart = new long[50];
      long[] query = new long[50];
      String search = "a.internal";
      for (int i = 0; i < 50; i++) {
        int n = 10 + 2 * i;
        long t0 = System.nanoTime();
        net = driver.update(spec(spec, search, n));
        awaitAnswer(ns, server, n);
        reread[i] = System.nanoTime() - t0;
        long q0 = System.nanoTime();
        awaitAnswer(ns, server, n);
        query[i] = System.nanoTime() - q0;
        search = search.equals("a.internal") ? "b.internal" : "a.internal"; // a DHCP change: dnsmasq restarts
        t0 = System.nanoTime();
        net = driver.update(spec(spec, search, n + 1));
        awaitAnswer(ns, server, n + 1);
        restart[i] = System.nanoTime() - t0;
      }
      System.out.printf(Locale.ROOT, "resolver: change -> answered p50 %.2f ms (hosts file + SIGHUP), baseline"
          + " restart of dnsmasq p50 %.2f ms, ratio %.1fx; a plain query p50 %.3f ms%n", ms(p50(reread)),
          ms(p50(restart)), (double) p50(restart) / p50(reread), ms(p50(query)));
      driver.reap(spec.owner());
    } finally {
      env.destroy();
    }
  }

  /** {@code base} with one search domain and the name at address {@code n}. */
  private static NetworkSpec spec(NetworkSpec base, String search, int n) {
    return NetworkSpec.builder().instanceId(base.instanceId()).owner(base.owner()).mac(base.mac())
        .subnet(base.subnet()).hostNamespace(base.hostNamespace()).searchDomain(search).resolver(true)
        .dnsHosts(hosts(n)).build();
  }

  private static List<DnsHost> hosts(int n) {
    return List.of(new DnsHost(NAME, List.of(address(n))));
  }

  private static Inet4Address address(int n) {
    return Cidr.parseAddress("10.98." + (100 + n / 250) + "." + (1 + n % 250));
  }

  /** Asks {@code server} from namespace {@code ns} until it answers {@link #NAME} with address {@code n}. */
  private static void awaitAnswer(Path ns, InetSocketAddress server, int n) throws Exception {
    Inet4Address want = address(n);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!want.equals(ask(ns, server))) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the resolver did not answer " + want.getHostAddress() + " within 10 s");
      }
    }
  }

  /** One A query over UDP from inside {@code ns} (message built and parsed by dnsjava); the first address. */
  private static Inet4Address ask(Path ns, InetSocketAddress server) throws Exception {
    return Netns.call(ns, () -> {
      Message q = Message.newQuery(Record.newRecord(Name.fromString(NAME + "."), Type.A, DClass.IN));
      byte[] wire = q.toWire();
      try (DatagramSocket s = new DatagramSocket()) {
        s.setSoTimeout(1000);
        s.send(new DatagramPacket(wire, wire.length, server));
        byte[] buf = new byte[512];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        s.receive(p);
        Message r = new Message(Arrays.copyOf(buf, p.getLength()));
        for (Record rec : r.getSection(Section.ANSWER)) {
          if (rec instanceof ARecord a) {
            return (Inet4Address) a.getAddress();
          }
        }
        return null;
      } catch (java.net.SocketTimeoutException e) {
        return null;
      }
    });
  }

  private static void rfc2136() throws Exception {
    String run = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    try (Bind9 bind = Bind9.start("bench" + run + ".example.test", Path.of("/tmp/pods-net-it/bind-bench-" + run));
        Rfc2136DnsProvider p = bind.provider()) {
      for (int i = 0; i < 10; i++) { // warm-up
        p.replace(bind.zone, "api", List.of(address(i)));
        nsupdate(bind, i);
      }
      long[] provider = new long[100];
      long[] byHand = new long[100];
      for (int i = 0; i < 100; i++) {
        long t0 = System.nanoTime();
        p.replace(bind.zone, "api", List.of(address(i)));
        provider[i] = System.nanoTime() - t0;
        t0 = System.nanoTime();
        nsupdate(bind, i + 1);
        byHand[i] = System.nanoTime() - t0;
      }
      if (!p.addresses(bind.zone, "api").equals(List.of(address(100)))) {
        throw new AssertionError("BIND does not hold the last update: " + p.addresses(bind.zone, "api"));
      }
      System.out.printf(Locale.ROOT, "rfc2136: update round trip p50 %.2f ms (dnsjava, TSIG, TCP), baseline"
          + " nsupdate -y by hand p50 %.2f ms, ratio %.1fx%n", ms(p50(provider)), ms(p50(byHand)),
          (double) p50(byHand) / p50(provider));
    }
  }

  /** The same update with {@code nsupdate -y}, as by hand; fails unless nsupdate succeeds. */
  private static void nsupdate(Bind9 bind, int n) throws IOException, InterruptedException {
    String script = "server " + bind.address.getAddress().getHostAddress() + " " + bind.address.getPort() + "\n"
        + "zone " + bind.zone + "\nupdate delete api." + bind.zone + " A\nupdate add api." + bind.zone + " 60 A "
        + address(n).getHostAddress() + "\nsend\n";
    List<String> cmd = new java.util.ArrayList<>(bind.nsupdate());
    cmd.add("-v"); // TCP, as the provider
    Process pr = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    pr.getOutputStream().write(script.getBytes(StandardCharsets.US_ASCII));
    pr.getOutputStream().close();
    String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!pr.waitFor(30, TimeUnit.SECONDS) || pr.exitValue() != 0) {
      throw new AssertionError("nsupdate failed: " + out);
    }
  }

  private static long p50(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
