package dev.pods.spec;

import dev.pods.internal.Names;
import java.util.List;
import java.util.Objects;

/**
 * A {@code kind: firewall} resource: ingress rules for every instance of the unit. What a firewall means is
 * written here once; the runtime, the Linux network driver and {@code dev.pods.testing.InMemoryNetworkDriver}
 * follow it alike.
 *
 * <ul>
 *   <li>A unit without firewall resources is open: whatever reaches its instances is admitted ({@code pods
 *       validate} says so).
 *   <li>Once a unit has one, the rules of all its firewall resources together are a whitelist for ingress to each of
 *       its instances on every path from outside that instance: its public address, its VPC peers, and the other
 *       instances of the same unit. What no rule admits is dropped (a connection attempt times out).
 *   <li>Always admitted: replies to the instance's own connections, DHCP, its metadata service, and the runtime's
 *       own ways in ({@code Instance.exec}, {@code Instance.endpoint}, {@code Wait.forPort}), which start inside the
 *       instance's network namespace.
 *   <li>Every inbound packet that is not a reply is judged, not only the first of a connection: a change that stops
 *       admitting an established connection cuts it.
 *   <li>A {@code +/unit/NAME} source stands for the addresses ({@code private_ips}, the default, or
 *       {@code public_ips}) of that unit's instances from the moment they are created (before their VM starts)
 *       until they are removed or fail; the rules follow scale, recreation and self-heal by themselves, each
 *       instance's rules replaced in one atomic step. A rule whose sources name no address admits nothing.
 *   <li>Admit nothing on a pods host, and {@code pods validate} warns about them: IPv6 sources, the selectors
 *       {@code private_ips6}, {@code public_ips6}, {@code cloud_private_ips}, {@code cloud_public_ips},
 *       {@code cloud_public_ips6} and {@code host_ips}, and the {@code multicast} and {@code broadcast} protocols.
 *   <li>Rules are live: a change in a template is applied in place, without recreating instances.
 * </ul>
 *
 * @param name the resource's name, unique in its unit
 * @param ingress the rules
 */
public record Firewall(String name, List<IngressRule> ingress) {
  /** Validates and copies. */
  public Firewall {
    Names.require("firewall name", Objects.requireNonNull(name, "name"));
    ingress = List.copyOf(Objects.requireNonNull(ingress, "ingress"));
  }
}
