package dev.pods.spi;

import java.net.Inet4Address;
import java.util.Objects;

/**
 * An instance's public side: its public address on a bridge the user names (in {@link NetworkSpec#hostNamespace()}),
 * with the on-link prefix and the default gateway of that network. Immutable value.
 *
 * @param bridge the existing uplink bridge (not created nor deleted by the driver)
 * @param address the instance's public address, normally taken from an {@link IpAddressPool}
 * @param prefixLength the on-link prefix of the public network, 1..32
 * @param gateway the default gateway, inside {@code address/prefixLength}
 * @since 0.1
 */
public record NetworkUplink(String bridge, Inet4Address address, int prefixLength, Inet4Address gateway) {

  /** Validates the names and that the gateway is on-link. */
  public NetworkUplink {
    Objects.requireNonNull(bridge, "bridge");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(gateway, "gateway");
    if (bridge.isEmpty() || bridge.length() > 15 || bridge.contains("/") || bridge.contains(" ")) {
      throw new IllegalArgumentException("bad bridge name '" + bridge + "'");
    }
    if (prefixLength < 1 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length must be 1..32, got " + prefixLength);
    }
    if (!Cidr.containing(address, prefixLength).contains(gateway) || address.equals(gateway)) {
      throw new IllegalArgumentException(
          "gateway " + Cidr.dotted(gateway) + " is not a neighbour of " + Cidr.dotted(address) + "/" + prefixLength);
    }
  }
}
