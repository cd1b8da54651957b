package dev.pods.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Parses IPv4 and IPv6 literals and CIDR blocks without ever resolving a host name. Not API.
 */
public final class Cidrs {
  private static final Pattern V4 =
      Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern PREFIX = Pattern.compile("\\d{1,3}");
  private static final Pattern V6_CHARS = Pattern.compile("[0-9a-fA-F:.]{2,45}");

  private Cidrs() {}

  /**
   * Parses an address literal.
   *
   * @throws IllegalArgumentException when the text is not an IPv4 or IPv6 literal
   */
  public static InetAddress address(String text) {
    boolean v4 = V4.matcher(text).matches();
    if (!v4 && !(text.contains(":") && V6_CHARS.matcher(text).matches())) {
      throw new IllegalArgumentException("'" + text + "' is not an IP address");
    }
    try {
      // Only literals reach this point, so no name is resolved.
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + text + "' is not an IP address", e);
    }
  }

  /**
   * Normalizes a CIDR block or a bare address (which becomes /32 or /128) to {@code address/prefix}, with
   * the address as written.
   *
   * @throws IllegalArgumentException when the text is not a CIDR block
   */
  public static String normalize(String text) {
    int slash = text.indexOf('/');
    String addr = slash < 0 ? text : text.substring(0, slash);
    InetAddress a = address(addr);
    int max = a.getAddress().length * 8;
    if (slash < 0) {
      return addr + "/" + max;
    }
    String p = text.substring(slash + 1);
    if (!PREFIX.matcher(p).matches() || Integer.parseInt(p) > max) {
      throw new IllegalArgumentException("'" + text + "' has an invalid prefix length (0-" + max + ")");
    }
    return addr + "/" + Integer.parseInt(p);
  }
}
