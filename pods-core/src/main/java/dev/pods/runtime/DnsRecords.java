package dev.pods.runtime;

import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Problem;
import dev.pods.Unit;
import dev.pods.spec.DomainRecord;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.RecordType;
import dev.pods.spi.DnsHost;
import dev.pods.spi.DnsProvider;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A pod's DNS records ({@code kind: domain}) turned into names and addresses: pure functions of the pod, its live
 * instances and the registered domains. {@link #check} finds what cannot be published; {@link #names} computes
 * what is.
 */
final class DnsRecords {
  private DnsRecords() {}

  /** One live instance, as the records see it. */
  record Live(String unit, int index, Inet4Address privateAddress, @Nullable Inet4Address publicAddress) {}

  /**
   * One published name: {@code name} relative to {@code zone}, with the provider of its domain ({@code null}: the
   * pod's resolvers only) and its addresses (empty: the name currently has none, and is removed where published).
   */
  record Name(String zone, String name, @Nullable DnsProvider provider, List<Inet4Address> addresses) {
    String fqdn() {
      return name + "." + zone;
    }
  }

  /**
   * The problems that keep {@code pod}'s records from being published with {@code domains}: an unregistered
   * domain, a wildcard name, a record type other than private and public, a public record of a unit without
   * public address. Each
   * names the record's field and, for templates, its place.
   */
  static List<Problem> check(Pod pod, Map<String, PodRuntime.DnsDomain> domains) {
    List<Problem> problems = new ArrayList<>();
    for (Unit u : pod.units()) {
      for (DomainRecords d : u.domains()) {
        for (int i = 0; i < d.records().size(); i++) {
          DomainRecord r = d.records().get(i);
          String field = "units[" + u.name() + "].domains[" + d.name() + "].records[" + i + "]";
          String domain = r.domain().name();
          if (!domains.containsKey(domain)) {
            problems.add(Problem.error(r.location(), field + ".domain", "domain '" + domain + "' is not registered"
                + " with the runtime" + (domains.isEmpty() ? " (none is)" : " (registered: "
                + String.join(", ", new java.util.TreeSet<>(domains.keySet())) + ")")
                + ": register it with PodRuntime.Builder.domain(\"" + domain + "\", ZONE[, provider]), or pods up"
                + " --domain " + domain + "=ZONE"));
          }
          if (r.name().contains("*")) {
            problems.add(Problem.error(r.location(), field + ".name", "wildcard record '" + r.name()
                + "' cannot be answered by the instances' resolvers: name each host"));
          }
          if (r.type() != RecordType.PRIVATE && r.type() != RecordType.PUBLIC) {
            problems.add(Problem.error(r.location(), field + ".type", "record type '" + r.type().id()
                + "' cannot be published on a pods host: use private or public"));
          } else if (r.type() == RecordType.PUBLIC && !u.publicAddress()) {
            problems.add(Problem.error(r.location(), field + ".type", "a public record needs a public address,"
                + " and unit " + u.name() + " has none (publicAddress: true)"));
          }
        }
      }
    }
    return problems;
  }

  /**
   * Every name the records of {@code pod} publish, with the addresses of {@code live} instances behind it (several
   * records of one name add up; a name whose instances are all gone has none). Records that {@link #check} rejects
   * are left out. Ordered by name; addresses by instance.
   */
  static List<Name> names(Pod pod, List<Live> live, Map<String, PodRuntime.DnsDomain> domains) {
    Map<String, Name> out = new LinkedHashMap<>();
    Map<String, Set<Inet4Address>> addresses = new LinkedHashMap<>();
    for (Unit u : pod.units()) {
      List<Live> mine = live.stream().filter(l -> l.unit().equals(u.name()))
          .sorted(Comparator.comparingInt(Live::index)).toList();
      for (DomainRecords d : u.domains()) {
        for (DomainRecord r : d.records()) {
          PodRuntime.DnsDomain domain = domains.get(r.domain().name());
          if (domain == null || r.name().contains("*")
              || (r.type() != RecordType.PRIVATE && r.type() != RecordType.PUBLIC)) {
            continue;
          }
          Name n = new Name(domain.zone(), r.name().toLowerCase(Locale.ROOT), domain.provider(), List.of());
          out.putIfAbsent(n.fqdn(), n);
          Set<Inet4Address> set = addresses.computeIfAbsent(n.fqdn(), k -> new LinkedHashSet<>());
          List<Live> picked = "primary".equals(r.select()) && !mine.isEmpty() ? mine.subList(0, 1) : mine;
          for (Live l : picked) {
            Inet4Address a = r.type() == RecordType.PRIVATE ? l.privateAddress() : l.publicAddress();
            if (a != null) {
              set.add(a);
            }
          }
        }
      }
    }
    List<Name> list = new ArrayList<>();
    out.forEach((fqdn, n) -> list.add(new Name(n.zone(), n.name(), n.provider(), List.copyOf(addresses.get(fqdn)))));
    list.sort(Comparator.comparing(Name::fqdn));
    return list;
  }

  /** What every instance's resolver answers: the names that have addresses. */
  static List<DnsHost> hosts(List<Name> names) {
    return names.stream().filter(n -> !n.addresses().isEmpty()).map(n -> new DnsHost(n.fqdn(), n.addresses()))
        .toList();
  }
}
