package dev.pods.net;

import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkVpc;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * TCP between two stand-in VMs of one VPC across the VXLAN fabric (their instances on two simulated hosts,
 * {@link TwoHosts}) against the same between two stand-ins on one host, in the same run: the median round trip of a
 * one-byte request and answer on an open connection, and the throughput of a bulk transfer, alternating the two
 * paths. A main, not a test: it needs root. Arguments: round trips per sample (default 2000), MiB per transfer
 * (default 64), samples (default 5).
 */
public final class FabricBenchmark {
  private FabricBenchmark() {}

  /** Runs the benchmark and prints the figures with their ratios. */
  public static void main(String[] args) throws Exception {
    int trips = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int mib = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int samples = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    NetTestEnv env = new NetTestEnv();
    TwoHosts hosts = new TwoHosts(env);
    String owner = "dev.pods/bench=" + env.prefix;
    try {
      hosts.a.fabric().orElseThrow().peers(Set.of(Cidr.parseAddress(TwoHosts.UNDERLAY_B)));
      hosts.b.fabric().orElseThrow().peers(Set.of(Cidr.parseAddress(TwoHosts.UNDERLAY_A)));
      NetworkVpc vpc = new NetworkVpc("bench", Cidr.parse("10.96.0.0/16"));
      NetworkInstance client = create(hosts, hosts.a, "bc", 1, vpc, owner);
      NetworkInstance local = create(hosts, hosts.a, "bl", 2, vpc, owner);
      NetworkInstance remote = create(hosts, hosts.b, "br", 3, vpc, owner);
      String mtu = env.standIn("c", client.spec().mac(), env.hostNs, client.vmBridge()).field("mtu");
      env.standIn("l", local.spec().mac(), env.hostNs, local.vmBridge());
      env.standIn("r", remote.spec().mac(), hosts.hostB, remote.vmBridge());
      ServerSocket localServer = server(env.standInNs("l"));
      ServerSocket remoteServer = server(env.standInNs("r"));
      InetSocketAddress toLocal = new InetSocketAddress(local.spec().privateAddress(), 7100);
      InetSocketAddress toRemote = new InetSocketAddress(remote.spec().privateAddress(), 7100);
      double[] rttLocal = new double[samples];
      double[] rttRemote = new double[samples];
      double[] bwLocal = new double[samples];
      double[] bwRemote = new double[samples];
      // one warm-up of each path (ARP, conntrack), then alternating samples
      roundTrips(env, toLocal, 100);
      roundTrips(env, toRemote, 100);
      for (int i = 0; i < samples; i++) {
        rttLocal[i] = roundTrips(env, toLocal, trips);
        rttRemote[i] = roundTrips(env, toRemote, trips);
        bwLocal[i] = transfer(env, toLocal, mib);
        bwRemote[i] = transfer(env, toRemote, mib);
      }
      localServer.close();
      remoteServer.close();
      double rl = median(rttLocal);
      double rr = median(rttRemote);
      double bl = median(bwLocal);
      double br = median(bwRemote);
      System.out.printf(Locale.ROOT, "stand-in MTU by DHCP: %s%n", mtu);
      System.out.printf(Locale.ROOT, "round trip (median of %d samples of %d): one host %.1f us, across the fabric "
          + "%.1f us (%.2fx)%n", samples, trips, rl, rr, rr / rl);
      System.out.printf(Locale.ROOT, "throughput (median of %d transfers of %d MiB): one host %.0f MiB/s, across the "
          + "fabric %.0f MiB/s (%.2fx)%n", samples, mib, bl, br, bl / br);
    } finally {
      hosts.a.reap(owner);
      hosts.b.reap(owner);
      hosts.remove();
      env.destroy();
    }
  }

  private static NetworkInstance create(TwoHosts hosts, LinuxNetworkDriver d, String id, int i, NetworkVpc vpc,
      String owner) {
    return d.create(NetworkSpec.builder().instanceId(id).owner(owner).hostNamespace(hosts.hostNs(d))
        .mac(String.format("52:54:00:fb:00:%02x", i)).subnet(Cidr.parse("10.96." + i + ".0/30")).vpc(vpc).build());
  }

  /**
   * A server in namespace {@code ns} on port 7100: a connection that sends 'r' gets each byte echoed; one that sends
   * 'b' has everything it sends read and dropped, then gets one byte back.
   */
  private static ServerSocket server(String ns) throws Exception {
    ServerSocket s = Netns.call(Netns.path(ns), () -> new ServerSocket(7100));
    Thread t = new Thread(() -> {
      while (!s.isClosed()) {
        try (Socket c = s.accept(); InputStream in = c.getInputStream(); OutputStream out = c.getOutputStream()) {
          c.setTcpNoDelay(true);
          int mode = in.read();
          byte[] buf = new byte[1 << 16];
          if (mode == 'r') {
            for (int b = in.read(); b >= 0; b = in.read()) {
              out.write(b);
              out.flush();
            }
          } else {
            while (in.read(buf) >= 0) {
              // drop
            }
            out.write(1);
          }
        } catch (IOException e) {
          // closed at the end
        }
      }
    }, "bench-server");
    t.setDaemon(true);
    t.start();
    return s;
  }

  private static Socket connect(NetTestEnv env, InetSocketAddress to) throws Exception {
    return Netns.call(Netns.path(env.standInNs("c")), () -> {
      Socket s = new Socket();
      s.setTcpNoDelay(true);
      s.connect(to, 5000);
      s.setSoTimeout(10_000);
      return s;
    });
  }

  /** The median round trip in microseconds of {@code n} one-byte exchanges on one connection. */
  private static double roundTrips(NetTestEnv env, InetSocketAddress to, int n) throws Exception {
    try (Socket s = connect(env, to)) {
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write('r');
      double[] us = new double[n];
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        out.write(7);
        out.flush();
        if (in.read() != 7) {
          throw new IOException("echo lost");
        }
        us[i] = (System.nanoTime() - t0) / 1000.0;
      }
      return median(us);
    }
  }

  /** MiB/s of sending {@code mib} MiB and getting the server's byte after it read them all. */
  private static double transfer(NetTestEnv env, InetSocketAddress to, int mib) throws Exception {
    try (Socket s = connect(env, to)) {
      OutputStream out = s.getOutputStream();
      byte[] chunk = new byte[1 << 16];
      long t0 = System.nanoTime();
      out.write('b');
      for (long sent = 0; sent < (long) mib << 20; sent += chunk.length) {
        out.write(chunk);
      }
      s.shutdownOutput();
      if (s.getInputStream().read() != 1) {
        throw new IOException("transfer not acknowledged");
      }
      return mib / ((System.nanoTime() - t0) / 1e9);
    }
  }

  private static double median(double[] v) {
    double[] c = v.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }
}
