package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The forwarder on its own, to a target on loopback: the connection bound and the half-close. */
class PortForwarderTest {
  private ServerSocket target;
  private final BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
  private final List<Socket> clients = new ArrayList<>();
  private Thread acceptor;

  @BeforeEach
  void setUp() throws IOException {
    target = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
    acceptor = new Thread(() -> {
      try {
        while (true) {
          accepted.add(target.accept());
        }
      } catch (IOException e) {
        // closed
      }
    });
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    target.close();
    for (Socket s : accepted) {
      s.close();
    }
    for (Socket s : clients) {
      s.close();
    }
  }

  private PortForwarder forwarder() throws IOException {
    return PortForwarder.start("test", () -> new Socket(InetAddress.getLoopbackAddress(), target.getLocalPort()));
  }

  private Socket client(InetSocketAddress a) throws IOException {
    Socket c = new Socket(a.getAddress(), a.getPort());
    c.setSoTimeout(10_000);
    clients.add(c);
    return c;
  }

  @Test
  void atMostMaxConnectionsAreServedAtOnceAndTheNextOneWaitsForAFreeSlot() throws Exception {
    try (PortForwarder f = forwarder()) {
      List<Socket> served = new ArrayList<>();
      for (int k = 0; k < PortForwarder.MAX_CONNECTIONS; k++) {
        client(f.address()); // one at a time: served.get(k) is the other end of clients.get(k)
        Socket s = accepted.poll(10, TimeUnit.SECONDS);
        assertThat(s).as("target connection %s", k).isNotNull();
        served.add(s);
      }
      Socket waiting = client(f.address()); // accepted by the kernel's backlog only
      assertThat(accepted.poll(500, TimeUnit.MILLISECONDS)).isNull();
      assertThat(f.openConnections()).isEqualTo(PortForwarder.MAX_CONNECTIONS);

      clients.get(0).close(); // the client ends: its pair ends once the target closes its side too
      served.get(0).close();
      Socket next = accepted.poll(10, TimeUnit.SECONDS);
      assertThat(next).as("the waiting client reaches the target").isNotNull();
      next.getOutputStream().write('!');
      assertThat(waiting.getInputStream().read()).isEqualTo('!');
    }
  }

  @Test
  void aHalfCloseIsPassedOnBothWays() throws Exception {
    try (PortForwarder f = forwarder()) {
      Socket c = client(f.address());
      Socket t = accepted.poll(10, TimeUnit.SECONDS);
      assertThat(t).isNotNull();
      t.setSoTimeout(10_000);
      c.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
      c.shutdownOutput();
      assertThat(t.getInputStream().readAllBytes()).isEqualTo("ping".getBytes(StandardCharsets.UTF_8));
      // the target can still answer after the client's half-close
      t.getOutputStream().write("pong".getBytes(StandardCharsets.UTF_8));
      t.shutdownOutput();
      assertThat(c.getInputStream().readAllBytes()).isEqualTo("pong".getBytes(StandardCharsets.UTF_8));
      long t0 = System.nanoTime();
      while (f.openConnections() > 0 && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
        TimeUnit.MILLISECONDS.sleep(10);
      }
      assertThat(f.openConnections()).isZero();
    }
  }

  @Test
  void closeCutsOpenConnectionsAndStopsListening() throws Exception {
    PortForwarder f = forwarder();
    InetSocketAddress a = f.address();
    Socket c = client(a);
    Socket t = accepted.poll(10, TimeUnit.SECONDS);
    assertThat(t).isNotNull();
    t.setSoTimeout(10_000);
    f.close();
    f.close();
    int r;
    try {
      r = t.getInputStream().read();
    } catch (IOException reset) {
      r = -1;
    }
    assertThat(r).as("the target side is cut").isEqualTo(-1);
    try {
      r = c.getInputStream().read();
    } catch (IOException reset) {
      r = -1;
    }
    assertThat(r).as("the client side is cut").isEqualTo(-1);
    // the port is free now and any process on the host may bind it: what matters is that nothing reaches the target
    try (Socket s = new Socket(a.getAddress(), a.getPort())) {
      s.getOutputStream().write('x');
    } catch (IOException refused) {
      // the normal outcome
    }
    assertThat(accepted.poll(500, TimeUnit.MILLISECONDS)).isNull();
    assertThat(f.isClosed()).isTrue();
  }
}
