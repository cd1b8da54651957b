package dev.pods.spi;

import java.net.Inet4Address;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One name an instance's resolver answers itself, with the IPv4 addresses it answers with (A records). Immutable
 * value, validated on construction.
 *
 * @param name a fully qualified domain name without the trailing dot, lower case (e.g. {@code api.example.com});
 *     labels of letters, digits, '-' and '_', at most 253 characters
 * @param addresses the addresses, in order, at least one, no duplicates
 * @since 0.1
 */
public record DnsHost(String name, List<Inet4Address> addresses) {
  private static final Pattern LABEL = Pattern.compile("[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?");

  /** Validates, lower-cases the name and copies the list. */
  public DnsHost {
    name = Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT);
    if (name.length() > 253 || name.isEmpty()) {
      throw new IllegalArgumentException("DNS name must have 1..253 characters, got '" + name + "'");
    }
    for (String label : name.split("\\.", -1)) {
      if (!LABEL.matcher(label).matches()) {
        throw new IllegalArgumentException("bad DNS name '" + name + "' (label '" + label + "')");
      }
    }
    addresses = List.copyOf(Objects.requireNonNull(addresses, "addresses"));
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("DNS name '" + name + "' needs at least one address");
    }
    if (addresses.stream().distinct().count() != addresses.size()) {
      throw new IllegalArgumentException("DNS name '" + name + "' lists an address twice: " + addresses);
    }
  }
}
