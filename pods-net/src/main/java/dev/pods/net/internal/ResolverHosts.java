package dev.pods.net.internal;

import dev.pods.spi.NetworkSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The names an instance's resolver answers itself (the spec's DNS records): the hosts file in the instance's state
 * folder that its dnsmasq reads, rewritten atomically, and re-read on SIGHUP (no restart: DHCP and leases
 * untouched). Thread-safe; callers serialise the calls for one instance.
 */
public final class ResolverHosts {
  private final DnsmasqSupervisor dnsmasq;
  private final RecordStore records;

  /** Updates the resolvers of {@code records}' instances, run by {@code dnsmasq}. */
  public ResolverHosts(DnsmasqSupervisor dnsmasq, RecordStore records) {
    this.dnsmasq = dnsmasq;
    this.records = records;
  }

  /** Writes the hosts file of {@code spec} into {@code dir} (atomically), when the spec has a resolver. */
  public static void write(NetworkSpec spec, Path dir) throws IOException {
    if (spec.resolver()) {
      AtomicFiles.write(dir.resolve(Programs.HOSTS_FILE),
          Programs.hostsFile(spec).getBytes(StandardCharsets.UTF_8), false);
    }
  }

  /** Rewrites the resolver's hosts file and has dnsmasq re-read it; starts dnsmasq when it is gone. */
  public void reload(InstanceRecord r) throws Exception {
    write(r.spec(), records.dir(r.id()));
    if (!dnsmasq.hangUp(r)) {
      dnsmasq.ensure(r);
    }
  }
}
