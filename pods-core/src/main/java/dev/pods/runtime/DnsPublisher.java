package dev.pods.runtime;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one deployment's names published through the registered {@link dev.pods.spi.DnsProvider}s: each
 * {@link #publish} sends only the names whose addresses changed since the last one (a name that lost all its
 * instances is removed); {@link #withdraw} removes everything published. Thread-safe: calls are serialised by a
 * lock (never a monitor: they block on the providers' servers). A provider failure is logged and the name retried
 * at the next publish.
 */
final class DnsPublisher {
  private static final Logger LOG = LoggerFactory.getLogger(DnsPublisher.class);

  private final String pod;
  private final ReentrantLock lock = new ReentrantLock();
  /** By fqdn: what the provider holds as far as we know. */
  private final Map<String, DnsRecords.Name> published = new HashMap<>();

  DnsPublisher(String pod) {
    this.pod = pod;
  }

  /** Publishes the names of {@code names} that have a provider and changed. Blocks on the providers. */
  void publish(List<DnsRecords.Name> names) {
    lock.lock();
    try {
      Set<String> seen = new HashSet<>();
      for (DnsRecords.Name n : names) {
        if (n.provider() == null) {
          continue;
        }
        seen.add(n.fqdn());
        DnsRecords.Name old = published.get(n.fqdn());
        if (old == null && n.addresses().isEmpty()
            || old != null && Set.copyOf(old.addresses()).equals(Set.copyOf(n.addresses()))) {
          continue;
        }
        send(n, n.addresses());
      }
      for (DnsRecords.Name gone : new ArrayList<>(published.values())) {
        if (!seen.contains(gone.fqdn())) {
          send(gone, List.of()); // its record left the pod (a template change)
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Removes every name this deployment published.
   *
   * @throws RuntimeException the first provider failure (the others are suppressed in it); what failed stays
   *     listed, so a retry resumes
   */
  void withdraw() {
    lock.lock();
    try {
      RuntimeException first = null;
      for (DnsRecords.Name n : new ArrayList<>(published.values())) {
        try {
          Objects.requireNonNull(n.provider()).replace(n.zone(), n.name(), List.of());
          published.remove(n.fqdn());
        } catch (RuntimeException e) {
          if (first == null) {
            first = e;
          } else {
            first.addSuppressed(e);
          }
        }
      }
      if (first != null) {
        throw first;
      }
    } finally {
      lock.unlock();
    }
  }

  private void send(DnsRecords.Name n, List<Inet4Address> addresses) {
    try {
      Objects.requireNonNull(n.provider()).replace(n.zone(), n.name(), addresses);
      if (addresses.isEmpty()) {
        published.remove(n.fqdn());
      } else {
        published.put(n.fqdn(), n);
      }
      LOG.info("pod {}: DNS {} -> {}", pod, n.fqdn(), addresses);
    } catch (RuntimeException e) {
      // kept as it was: the next publish sends it again
      LOG.warn("pod {}: cannot publish DNS name {} ({}); retried at the next change", pod, n.fqdn(), addresses, e);
    }
  }
}
