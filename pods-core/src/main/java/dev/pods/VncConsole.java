package dev.pods;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Where an instance's VNC console is and how to get in ({@link Instance#console()}): the display of its domain,
 * listening on this host's loopback, and the password it asks for (VNC authentication; the runtime makes a new
 * random one each time it builds the instance). For a unit with a public address the same display also answers
 * on port {@value #PUBLIC_PORT} of that address, which is kept back from the VM for it, with the same password.
 *
 * @param address the display's loopback address on this host
 * @param password the password, 8 characters
 */
public record VncConsole(InetSocketAddress address, String password) {
  /** The port of the public address kept back for the console. */
  public static final int PUBLIC_PORT = 5900;

  /** Validates. */
  public VncConsole {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(password, "password");
  }

  /** Shows the address only: the password stays out of logs. */
  @Override
  public String toString() {
    return "VncConsole[address=" + address + "]";
  }
}
