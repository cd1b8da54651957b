package dev.pods.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Locale;

/**
 * Benchmark (a main, not a test): what {@link PortForwarder} costs on loopback, against a direct connection to the
 * same small server (it answers a one-byte request, or drains an upload and acknowledges it). Prints, for direct and forwarded: connect + 1-byte round trip (min / p50 / p90
 * of {@code N}, default 2000) and bulk throughput of 256 MiB one way.
 *
 * <pre>
 * java -cp pods-core/target/test-classes:pods-core/target/classes:$(deps) dev.pods.runtime.PortForwarderBenchmark [N]
 * </pre>
 */
public final class PortForwarderBenchmark {
  private static final long BULK = 256L << 20;

  private PortForwarderBenchmark() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    try (ServerSocket server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> serve(server), "bench-server");
      t.setDaemon(true);
      t.start();
      int direct = server.getLocalPort();
      try (PortForwarder f = PortForwarder.start("bench",
          () -> new Socket(InetAddress.getLoopbackAddress(), direct))) {
        int forwarded = f.address().getPort();
        for (int round = 0; round < 2; round++) { // the first round warms up
          report(round == 0 ? "warm-up direct" : "direct", direct, n);
          report(round == 0 ? "warm-up forwarded" : "forwarded", forwarded, n);
        }
      }
    }
  }

  private static void report(String what, int port, int n) throws IOException {
    long[] rtt = new long[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        s.getOutputStream().write('p');
        if (s.getInputStream().read() != 'p') {
          throw new IOException("no answer");
        }
      }
      rtt[i] = System.nanoTime() - t0;
    }
    Arrays.sort(rtt);
    long t0 = System.nanoTime();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = s.getOutputStream();
      out.write('b');
      byte[] buf = new byte[64 * 1024];
      for (long sent = 0; sent < BULK; sent += buf.length) {
        out.write(buf);
      }
      s.shutdownOutput();
      if (s.getInputStream().read() != 'd') {
        throw new IOException("bulk not acknowledged");
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "%-18s connect+rtt us: min %6.0f p50 %6.0f p90 %6.0f | bulk %6.0f MiB/s%n", what,
        rtt[0] / 1e3, rtt[n / 2] / 1e3, rtt[n * 9 / 10] / 1e3, (BULK >> 20) / secs);
  }

  /** 'p': answers 'p'; 'b': reads to the end of stream, then answers 'd'. */
  private static void serve(ServerSocket server) {
    while (true) {
      Socket c;
      try {
        c = server.accept();
      } catch (IOException e) {
        return;
      }
      Thread t = new Thread(() -> {
        try (c) {
          InputStream in = c.getInputStream();
          int first = in.read();
          if (first == 'b') {
            byte[] buf = new byte[64 * 1024];
            while (in.read(buf) >= 0) {
              // drain
            }
            c.getOutputStream().write('d');
          } else {
            c.getOutputStream().write(first);
          }
        } catch (IOException e) {
          // the client went away
        }
      });
      t.setDaemon(true);
      t.start();
    }
  }
}
