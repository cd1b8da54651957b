package dev.pods.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The VNC display of a running in-memory domain: a loopback listener (ephemeral port) that speaks the start of RFB
 * 3.8 as QEMU does: the greeting, security type VNC authentication when there is a password (else none), and the
 * check of the client's response. Then it closes the connection (there is no screen). One daemon thread accepts;
 * each client is served on the accepting thread (a few bytes each way, with a read timeout).
 */
final class FakeDisplay implements AutoCloseable {
  private final ServerSocket server;
  private final @Nullable String password;
  private final SecureRandom random = new SecureRandom();

  private FakeDisplay(ServerSocket server, @Nullable String password) {
    this.server = server;
    this.password = password;
  }

  static FakeDisplay start(String domain, String listen, @Nullable String password) throws IOException {
    FakeDisplay d = new FakeDisplay(new ServerSocket(0, 10, InetAddress.getByName(listen)), password);
    Thread t = new Thread(d::acceptLoop, "pods-fake-vnc-" + domain);
    t.setDaemon(true);
    t.start();
    return d;
  }

  InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try (Socket s = server.accept()) {
        s.setSoTimeout(5000);
        serve(new DataInputStream(s.getInputStream()), s.getOutputStream());
      } catch (IOException e) {
        // a client that went away, or the listener closed: either way the next accept decides
      }
    }
  }

  private void serve(DataInputStream in, OutputStream out) throws IOException {
    out.write("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    in.readFully(new byte[12]);
    int type = password == null ? VncClient.NONE : VncClient.VNC_AUTH;
    out.write(new byte[] {1, (byte) type});
    out.flush();
    if (in.readUnsignedByte() != type || password == null) {
      return;
    }
    byte[] challenge = new byte[16];
    random.nextBytes(challenge);
    out.write(challenge);
    out.flush();
    byte[] response = new byte[16];
    in.readFully(response);
    boolean ok = Arrays.equals(response, VncAuth.response(challenge, password));
    byte[] reason = "Authentication failed".getBytes(StandardCharsets.US_ASCII);
    java.io.DataOutputStream d = new java.io.DataOutputStream(out);
    d.writeInt(ok ? 0 : 1);
    if (!ok) {
      d.writeInt(reason.length);
      d.write(reason);
    }
    d.flush();
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // closing a listener does not fail in a way that matters here
    }
  }
}
