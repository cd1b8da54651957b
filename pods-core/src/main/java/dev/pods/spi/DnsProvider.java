package dev.pods.spi;

import java.net.Inet4Address;
import java.util.List;

/**
 * Publishes the A records of a pod's DNS records ({@code kind: domain}) to a DNS server outside the pods host, so
 * that clients beyond the pod resolve them. The host application makes one per zone (or one for several zones) and
 * registers it with {@link dev.pods.PodRuntime.Builder#domain(String, String, DnsProvider)}; the runtime replaces
 * a name's addresses whenever the instances behind it change, and removes them when the pod is destroyed.
 *
 * <p><b>Contract.</b> Thread-safe and blocking (each call waits for the server's answer). {@link #replace} is
 * idempotent: the name's A record set becomes exactly the given addresses, other record types and other names are
 * untouched; an empty list removes the name's A records, and removing what is absent does nothing. Names are
 * relative to the zone ({@code api} in {@code example.com}; {@code *} is a wildcard). Failures are
 * {@link dev.pods.PodsException}s naming the zone, the name and the server's answer. The caller owns the provider
 * and closes it; {@link #close()} releases its sockets, never the records. The in-memory
 * {@code dev.pods.testing.InMemoryDnsProvider} follows the same contract.
 *
 * @since 0.1
 */
public interface DnsProvider extends AutoCloseable {

  /**
   * Makes the A records of {@code name} in {@code zone} exactly {@code addresses} (in one update: a resolver sees
   * the old set or the new one, never a mix).
   *
   * @param zone the zone, without the trailing dot (e.g. {@code example.com})
   * @param name the name relative to the zone (e.g. {@code api})
   * @param addresses the new addresses; empty to remove the name's A records
   * @throws dev.pods.PodsException when the server refuses the update or cannot be reached
   */
  void replace(String zone, String name, List<Inet4Address> addresses);

  /**
   * The A records of {@code name} in {@code zone} as the server holds them now, in no particular order.
   *
   * @throws dev.pods.PodsException when the server cannot be asked
   */
  List<Inet4Address> addresses(String zone, String name);

  /** Releases the provider's sockets and threads; records stay. Idempotent. */
  @Override
  void close();
}
