package dev.pods.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A minimal RFB (VNC) client for tests: reads a display's greeting and security types and, with a password, does
 * VNC authentication (RFB 3.8, security type 2). It checks that a console answers and that its password works; it
 * shows nothing. Stateless and thread-safe; every call opens and closes its own connection and blocks up to the
 * timeout per read.
 */
public final class VncClient {
  /** RFB security type: no authentication. */
  public static final int NONE = 1;
  /** RFB security type: VNC authentication (DES challenge and response). */
  public static final int VNC_AUTH = 2;

  private VncClient() {}

  /**
   * What a display answered.
   *
   * @param greeting the server's protocol version line without the newline, e.g. {@code RFB 003.008}
   * @param securityTypes the security types the server offered
   * @param authenticated whether VNC authentication with the given password succeeded (false without password)
   */
  public record Handshake(String greeting, List<Integer> securityTypes, boolean authenticated) {
    /** Copies the list. */
    public Handshake {
      securityTypes = List.copyOf(securityTypes);
    }
  }

  /**
   * Connects to {@code display}, reads its greeting, answers with RFB 3.8, reads the security types and, when
   * {@code password} is given and VNC authentication is offered, authenticates with it.
   *
   * @throws IOException when the display does not answer in RFB within {@code timeout}
   */
  public static Handshake handshake(InetSocketAddress display, @Nullable String password, Duration timeout)
      throws IOException {
    try (Socket s = new Socket()) {
      s.connect(display, (int) timeout.toMillis());
      return handshake(s, password, timeout);
    }
  }

  /**
   * As {@link #handshake(InetSocketAddress, String, Duration)} over a connection the caller opened (and closes).
   *
   * @throws IOException when the other end does not answer in RFB within {@code timeout}
   */
  public static Handshake handshake(Socket s, @Nullable String password, Duration timeout) throws IOException {
    {
      s.setSoTimeout((int) timeout.toMillis());
      DataInputStream in = new DataInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      byte[] version = new byte[12];
      in.readFully(version);
      String greeting = new String(version, StandardCharsets.US_ASCII);
      if (!greeting.startsWith("RFB ") || version[11] != '\n') {
        throw new IOException("not an RFB greeting: '" + greeting.strip() + "'");
      }
      out.write("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      int n = in.readUnsignedByte();
      List<Integer> types = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        types.add(in.readUnsignedByte());
      }
      if (n == 0) {
        byte[] reason = new byte[in.readInt()];
        in.readFully(reason);
        throw new IOException("the display refused the connection: " + new String(reason, StandardCharsets.UTF_8));
      }
      if (password == null || !types.contains(VNC_AUTH)) {
        return new Handshake(greeting.strip(), types, false);
      }
      out.write(VNC_AUTH);
      out.flush();
      byte[] challenge = new byte[16];
      in.readFully(challenge);
      out.write(VncAuth.response(challenge, password));
      out.flush();
      return new Handshake(greeting.strip(), types, in.readInt() == 0);
    }
  }
}
