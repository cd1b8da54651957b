package dev.pods.spi;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * An IPv4 network in CIDR notation, such as {@code 10.98.0.0/16}. Immutable and thread-safe; host bits are always
 * zero (the constructor rejects {@code 10.98.0.1/16}).
 *
 * @param base the network address as an unsigned 32-bit value held in an {@code int}
 * @param prefixLength 0 to 32
 * @since 0.1
 */
public record Cidr(int base, int prefixLength) implements Comparable<Cidr> {

  /** Validates that the prefix is in range and that no host bit is set. */
  public Cidr {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length must be 0..32, got " + prefixLength);
    }
    if ((base & ~mask(prefixLength)) != 0) {
      throw new IllegalArgumentException(
          "host bits set in " + toDotted(base) + "/" + prefixLength + "; did you mean "
              + toDotted(base & mask(prefixLength)) + "/" + prefixLength + "?");
    }
  }

  /**
   * Parses {@code a.b.c.d/len}, or {@code a.b.c.d} as a /32.
   *
   * @throws IllegalArgumentException when the text is not an IPv4 CIDR
   */
  public static Cidr parse(String text) {
    Objects.requireNonNull(text, "text");
    int slash = text.indexOf('/');
    String addr = slash < 0 ? text : text.substring(0, slash);
    int len;
    try {
      len = slash < 0 ? 32 : Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an IPv4 CIDR: '" + text + "'", e);
    }
    return new Cidr(parseDotted(addr), len);
  }

  /** The /32 network holding exactly {@code address}. */
  public static Cidr host(Inet4Address address) {
    return new Cidr(toInt(address), 32);
  }

  /** The network of the given prefix length that contains {@code address} (host bits cleared). */
  public static Cidr containing(Inet4Address address, int prefixLength) {
    return new Cidr(toInt(address) & mask(prefixLength), prefixLength);
  }

  /** The network address. */
  public Inet4Address network() {
    return toAddress(base);
  }

  /** The number of addresses in the network, network and broadcast addresses included. */
  public long size() {
    return 1L << (32 - prefixLength);
  }

  /** The address at {@code offset} from the network address ({@code 0 <= offset < size()}). */
  public Inet4Address address(long offset) {
    if (offset < 0 || offset >= size()) {
      throw new IllegalArgumentException("offset " + offset + " outside " + this);
    }
    return toAddress((int) (base + offset));
  }

  /** The dotted netmask, such as {@code 255.255.255.252}. */
  public String netmask() {
    return toDotted(mask(prefixLength));
  }

  /** Whether {@code address} lies in this network. */
  public boolean contains(Inet4Address address) {
    return (toInt(address) & mask(prefixLength)) == base;
  }

  /** Whether {@code other} lies entirely in this network. */
  public boolean contains(Cidr other) {
    return other.prefixLength >= prefixLength && (other.base & mask(prefixLength)) == base;
  }

  /** Whether the two networks share at least one address. */
  public boolean overlaps(Cidr other) {
    return contains(other) || other.contains(this);
  }

  @Override
  public int compareTo(Cidr o) {
    int c = Integer.compareUnsigned(base, o.base);
    return c != 0 ? c : Integer.compare(prefixLength, o.prefixLength);
  }

  /** {@code a.b.c.d/len}. */
  @Override
  public String toString() {
    return toDotted(base) + "/" + prefixLength;
  }

  /** The netmask of a prefix length as an {@code int}. */
  public static int mask(int prefixLength) {
    return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
  }

  /** The address as an unsigned 32-bit value in an {@code int}. */
  public static int toInt(Inet4Address address) {
    byte[] b = address.getAddress();
    return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
  }

  /** The address of an unsigned 32-bit value. */
  public static Inet4Address toAddress(int value) {
    byte[] b = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    try {
      return (Inet4Address) InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 bytes are always an IPv4 address", e);
    }
  }

  /**
   * Parses a dotted IPv4 address without any name lookup.
   *
   * @throws IllegalArgumentException when the text is not {@code a.b.c.d}
   */
  public static Inet4Address parseAddress(String dotted) {
    return toAddress(parseDotted(dotted));
  }

  /** {@code a.b.c.d} of an address, without the leading slash of {@link InetAddress#toString()}. */
  public static String dotted(Inet4Address address) {
    return address.getHostAddress();
  }

  private static int parseDotted(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
    }
    int v = 0;
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
        throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
      }
      int n = Integer.parseInt(p);
      if (n > 255) {
        throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
      }
      v = v << 8 | n;
    }
    return v;
  }

  private static String toDotted(int v) {
    return (v >>> 24) + "." + (v >>> 16 & 0xff) + "." + (v >>> 8 & 0xff) + "." + (v & 0xff);
  }
}
