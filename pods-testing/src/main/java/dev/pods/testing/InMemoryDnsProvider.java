package dev.pods.testing;

import dev.pods.PodsException;
import dev.pods.spi.DnsProvider;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A {@link DnsProvider} that keeps the A records of the zones it serves in memory, with the semantics of a real
 * server taking dynamic updates: an update for a zone it does not serve is refused (as a server answers NOTAUTH),
 * names are case-insensitive, a name's set replaces the old one whole. Thread-safe (the provider's monitor guards
 * everything; nothing blocks). {@link #updates()} counts the updates that changed something, for tests that check
 * the runtime does not republish what did not change. Fault knob: {@link #failNext(int)} makes the next calls of
 * {@link #replace} fail without changing anything, as a server that cannot be reached.
 */
public final class InMemoryDnsProvider implements DnsProvider {
  private static final Pattern NAME = Pattern.compile("(\\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)"
      + "(\\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*");

  private final Set<String> zones;
  private final Map<String, List<Inet4Address>> records = new HashMap<>();
  private int updates;
  private int failures;
  private boolean closed;

  private InMemoryDnsProvider(Set<String> zones) {
    this.zones = zones;
  }

  /** A provider serving {@code zones} (names without the trailing dot), all empty. */
  public static InMemoryDnsProvider serving(String... zones) {
    Set<String> z = new LinkedHashSet<>();
    for (String s : zones) {
      z.add(s.toLowerCase(Locale.ROOT));
    }
    return new InMemoryDnsProvider(Set.copyOf(z));
  }

  /** Makes the next {@code n} calls of {@link #replace} throw a {@link PodsException} and change nothing. */
  public synchronized void failNext(int n) {
    failures += n;
  }

  @Override
  public synchronized void replace(String zone, String name, List<Inet4Address> addresses) {
    String key = key(zone, name);
    if (failures > 0) {
      failures--;
      throw new PodsException("update of " + name + " in zone " + zone + " failed: injected failure");
    }
    List<Inet4Address> next = List.copyOf(new LinkedHashSet<>(Objects.requireNonNull(addresses, "addresses")));
    List<Inet4Address> old = records.getOrDefault(key, List.of());
    if (Set.copyOf(old).equals(Set.copyOf(next))) {
      return;
    }
    if (next.isEmpty()) {
      records.remove(key);
    } else {
      records.put(key, next);
    }
    updates++;
  }

  @Override
  public synchronized List<Inet4Address> addresses(String zone, String name) {
    return new ArrayList<>(records.getOrDefault(key(zone, name), List.of()));
  }

  /** How many updates changed a record set so far. */
  public synchronized int updates() {
    return updates;
  }

  /** Every name holding A records, as {@code name.zone}, in no particular order. */
  public synchronized Set<String> names() {
    return Set.copyOf(records.keySet());
  }

  private String key(String zone, String name) {
    if (closed) {
      throw new IllegalStateException("the DNS provider is closed");
    }
    String z = Objects.requireNonNull(zone, "zone").toLowerCase(Locale.ROOT);
    String n = Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT);
    if (!zones.contains(z)) {
      throw new PodsException("update of " + n + " in zone " + z + " refused: NOTAUTH (this server serves "
          + zones + ")");
    }
    if (!NAME.matcher(n).matches() || n.length() + z.length() + 1 > 253) {
      throw new PodsException("update of '" + n + "' in zone " + z + " refused: not a valid name");
    }
    return n + "." + z;
  }

  @Override
  public synchronized void close() {
    closed = true;
  }
}
