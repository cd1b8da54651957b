package dev.pods.cli;

import dev.pods.PodRuntime;
import dev.pods.spi.Cidr;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The public network options of {@code pods up} and {@code pods node}, a picocli mixin: {@code --uplink BRIDGE} and
 * {@code --public-range CIDR} (together) give units with {@code publicAddress: true} an address of the range on the
 * bridge, {@code --public-gateway IP} is its gateway (default: the range's first address), {@code --node-address IP}
 * where units' node ports listen. Checked here once ({@link #publicNetwork}, {@link #nodeAddress}). One object per
 * parse; not thread-safe.
 */
final class PublicNetworkOptions {
  @Option(names = "--uplink", paramLabel = "BRIDGE", description = "public addresses for units with publicAddress"
      + " on BRIDGE (with --public-range)")
  @Nullable String uplink;

  @Option(names = "--public-range", paramLabel = "CIDR", description = "the public addresses (with --uplink)")
  @Nullable String publicRange;

  @Option(names = "--public-gateway", paramLabel = "IP", description = "the public gateway (default: the range's"
      + " first address)")
  @Nullable String publicGateway;

  @Option(names = "--node-address", paramLabel = "IP", description = "units' node ports listen on IP (an address of"
      + " the host namespace)")
  @Nullable String nodeAddress;

  /** The names of the options given, in the order above (for a command that refuses them). */
  List<String> given() {
    List<String> given = new ArrayList<>();
    for (String[] o : new String[][] {{"--uplink", uplink}, {"--public-range", publicRange},
        {"--public-gateway", publicGateway}, {"--node-address", nodeAddress}}) {
      if (o[1] != null) {
        given.add(o[0]);
      }
    }
    return given;
  }

  /**
   * The public network these options give, or null when none of {@code --uplink}, {@code --public-range},
   * {@code --public-gateway} is given.
   *
   * @throws Up.UsageException naming {@code command} and what is wrong: one of the bridge and range without the
   *     other, a malformed range or gateway, a gateway outside the range
   */
  PodRuntime.@Nullable PublicNetwork publicNetwork(String command) throws Up.UsageException {
    if (uplink == null && publicRange == null && publicGateway == null) {
      return null;
    }
    if (uplink == null || publicRange == null) {
      throw new Up.UsageException(command + ": a public network needs --uplink BRIDGE and --public-range CIDR");
    }
    Inet4Address gateway = publicGateway == null ? null : ipv4(command, "--public-gateway", publicGateway);
    try {
      Cidr cidr = Cidr.parse(publicRange);
      return new PodRuntime.PublicNetwork(uplink, cidr, gateway != null ? gateway : cidr.address(1));
    } catch (IllegalArgumentException e) {
      throw new Up.UsageException(command + ": bad public network: " + e.getMessage());
    }
  }

  /**
   * {@code --node-address}, or null when not given.
   *
   * @throws Up.UsageException naming {@code command} when it is not an IPv4 address
   */
  @Nullable Inet4Address nodeAddress(String command) throws Up.UsageException {
    return nodeAddress == null ? null : ipv4(command, "--node-address", nodeAddress);
  }

  /**
   * {@code text} as an IPv4 address in dotted form.
   *
   * @throws Up.UsageException naming {@code command} and {@code option} when it is not one
   */
  static Inet4Address ipv4(String command, String option, String text) throws Up.UsageException {
    if (text.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      try {
        return Cidr.parseAddress(text);
      } catch (IllegalArgumentException e) {
        // named below
      }
    }
    throw new Up.UsageException(command + ": " + option + " takes an IPv4 address, not '" + text + "'");
  }
}
