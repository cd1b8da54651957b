package dev.pods.runtime;

import dev.pods.Unit;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.PortRange;
import dev.pods.spi.Cidr;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkProtocol;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Turns a unit's firewall resources into the {@link NetworkFirewall} of its instances, expanding
 * {@code +/unit/NAME[/selector]} sources to the current addresses of that unit's listed instances (see
 * {@link PeerStates#listed}). Pure; thread-safe.
 *
 * <p>A unit without firewall resources is open. Otherwise the rules of all its firewall resources form one
 * whitelist. What cannot occur on a pods host admits nothing (and {@code pods validate} warns about it): IPv6
 * sources, the {@code private_ips6}, {@code public_ips6}, {@code cloud_*} and {@code host_ips} selectors, and the
 * {@code multicast} and {@code broadcast} protocols. A rule whose sources expand to no address admits nothing and
 * is left out.
 */
final class FirewallRules {
  /** The selectors of unit sources that have a meaning on a pods host. */
  static final Set<String> SELECTORS = Set.of("private_ips", "public_ips");

  private FirewallRules() {}

  /**
   * The addresses of one listed instance.
   *
   * @param unit its unit's name
   * @param privateAddress its private address
   * @param publicAddress its public address, or null
   */
  record Peer(String unit, Inet4Address privateAddress, @Nullable Inet4Address publicAddress) {
    Peer {
      Objects.requireNonNull(unit, "unit");
      Objects.requireNonNull(privateAddress, "privateAddress");
    }
  }

  /** The firewall of {@code unit}'s instances when {@code peers} are the pod's listed instances. */
  static NetworkFirewall of(Unit unit, List<Peer> peers) {
    if (unit.firewalls().isEmpty()) {
      return NetworkFirewall.open();
    }
    List<FirewallRuleSpec> out = new ArrayList<>();
    for (Firewall f : unit.firewalls()) {
      for (IngressRule r : f.ingress()) {
        NetworkProtocol p = protocol(r.protocol());
        if (p == null) {
          continue;
        }
        Set<Cidr> sources = new TreeSet<>();
        for (IngressSource s : r.sources()) {
          if (s instanceof IngressSource.Cidr c) {
            Cidr v4 = ipv4(c.cidr());
            if (v4 != null) {
              sources.add(v4);
            }
          } else if (s instanceof IngressSource.Unit u) {
            for (Peer peer : peers) {
              if (!peer.unit().equals(u.unitName())) {
                continue;
              }
              if (u.selector().equals("private_ips")) {
                sources.add(Cidr.host(peer.privateAddress()));
              } else if (u.selector().equals("public_ips") && peer.publicAddress() != null) {
                sources.add(Cidr.host(peer.publicAddress()));
              }
            }
          }
        }
        if (sources.isEmpty()) {
          continue;
        }
        PortRange ports = r.ports();
        int from = ports == null ? 0 : ports.from();
        int to = ports == null ? 65535 : ports.to();
        out.add(new FirewallRuleSpec(p, from, to, List.copyOf(sources)));
      }
    }
    return NetworkFirewall.rules(out);
  }

  private static @Nullable NetworkProtocol protocol(dev.pods.spec.Protocol p) {
    return switch (p) {
      case ALL -> NetworkProtocol.ALL;
      case ICMP -> NetworkProtocol.ICMP;
      case TCP -> NetworkProtocol.TCP;
      case UDP -> NetworkProtocol.UDP;
      case MULTICAST, BROADCAST -> null; // a pods instance sits alone on a routed /30: none reaches it
    };
  }

  /** The IPv4 network of a normalized template CIDR (host bits cleared), or null for IPv6. */
  private static @Nullable Cidr ipv4(String cidr) {
    int slash = cidr.indexOf('/');
    InetAddress a = dev.pods.internal.Cidrs.address(cidr.substring(0, slash));
    if (!(a instanceof Inet4Address v4)) {
      return null;
    }
    return Cidr.containing(v4, Integer.parseInt(cidr.substring(slash + 1)));
  }
}
