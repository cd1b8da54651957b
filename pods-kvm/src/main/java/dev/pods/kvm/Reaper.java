package dev.pods.kvm;

import dev.pods.spi.DomainInfo;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.Hypervisor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes pods domains that nobody owns any more (leftovers of a crashed runtime or test run) together with their
 * instance files: powers them off, undefines them and deletes their {@link DiskImages#instanceDir(String)}.
 * Persistent data disks and the base-image cache are never touched. Domains without pods metadata are never
 * considered.
 *
 * <p>Stateless and thread-safe; blocking.
 */
public final class Reaper {
  private static final Logger LOG = LoggerFactory.getLogger(Reaper.class);

  /** The owner label prefix (and name prefix) of the KVM-probe domains; see {@link #reapProbes(Hypervisor)}. */
  public static final String PROBE_OWNER_PREFIX = dev.pods.kvm.internal.KvmProbe.OWNER_PREFIX;

  private Reaper() {}

  /**
   * Reaps every pods domain whose metadata matches {@code orphaned}.
   *
   * @return the names of the reaped domains
   */
  public static List<String> reap(Hypervisor hv, DiskImages disks, Predicate<DomainMetadata> orphaned) {
    Objects.requireNonNull(hv, "hv");
    Objects.requireNonNull(disks, "disks");
    Objects.requireNonNull(orphaned, "orphaned");
    List<String> reaped = new ArrayList<>();
    for (DomainInfo i : hv.listAll()) {
      if (orphaned.test(i.metadata())) {
        hv.undefine(i.name());
        disks.deleteInstance(i.name());
        LOG.info("reaped domain {} of owner {}", i.name(), i.metadata().owner());
        reaped.add(i.name());
      }
    }
    return reaped;
  }

  /**
   * Stops and removes the KVM-probe domains ({@link #PROBE_OWNER_PREFIX}{@code <pid>-...}, transient domains that
   * {@link LibvirtHypervisor} boots once per host to find out whether KVM works) whose JVM no longer runs: a JVM
   * that died mid-probe leaves one spinning a CPU. Probes of live JVMs (at most a few seconds long) and domains
   * without pods metadata are left alone. Every probe does this itself before it boots.
   *
   * @return the names of the reaped domains
   */
  public static List<String> reapProbes(Hypervisor hv) {
    Objects.requireNonNull(hv, "hv");
    Predicate<DomainMetadata> dead = deadProcess(PROBE_OWNER_PREFIX);
    List<String> reaped = new ArrayList<>();
    for (DomainInfo i : hv.listAll()) {
      if (i.name().startsWith(PROBE_OWNER_PREFIX) && dead.test(i.metadata())) {
        hv.undefine(i.name());
        LOG.info("reaped the KVM probe domain {} of a dead JVM", i.name());
        reaped.add(i.name());
      }
    }
    return reaped;
  }

  /**
   * Deletes instance folders ({@link DiskImages#instanceDir(String)}) that no domain uses any more: the folder's
   * domain is missing, its name matches {@code names}, and it has not been modified for {@code minAge} (so a
   * folder being prepared for a domain about to be defined is left alone). These are what a run that crashed
   * between creating files and defining its domain leaves behind. With a {@link LibvirtHypervisor}, the read-only
   * shares of such domains (what a crash between mounting and defining leaves) are unmounted and removed the same
   * way.
   *
   * @param names tested against the folder's decoded domain name
   * @return the domain names whose folders were deleted
   */
  public static List<String> reapFolders(Hypervisor hv, DiskImages disks, Predicate<String> names,
      java.time.Duration minAge) {
    Path dir = disks.root().resolve("instances");
    List<String> reaped = new ArrayList<>();
    java.time.Instant cutoff = java.time.Instant.now().minus(minAge);
    if (hv instanceof LibvirtHypervisor lh) {
      reapShares(lh, names, cutoff, reaped);
    }
    if (!Files.isDirectory(dir)) {
      return reaped;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String domain = DiskImages.decode(p.getFileName().toString());
        if (domain == null || !names.test(domain)
            || Files.getLastModifiedTime(p).toInstant().isAfter(cutoff)
            || hv.state(domain) != dev.pods.spi.DomainState.MISSING) {
          continue;
        }
        DiskImages.deleteTree(p);
        LOG.info("reaped the folder of missing domain {}", domain);
        if (!reaped.contains(domain)) {
          reaped.add(domain);
        }
      }
    } catch (IOException e) {
      throw new dev.pods.BackendException("reap folders", null, -1, "cannot list " + dir + ": " + e, e);
    }
    return reaped;
  }

  private static void reapShares(LibvirtHypervisor hv, Predicate<String> names, java.time.Instant cutoff,
      List<String> reaped) {
    ReadOnlyShares shares = hv.shares();
    for (String domain : shares.domains()) {
      try {
        if (!names.test(domain)
            || Files.getLastModifiedTime(shares.domainDir(domain)).toInstant().isAfter(cutoff)
            || hv.state(domain) != dev.pods.spi.DomainState.MISSING) {
          continue;
        }
      } catch (IOException e) {
        continue; // removed meanwhile
      }
      shares.release(domain);
      LOG.info("reaped the read-only shares of missing domain {}", domain);
      reaped.add(domain);
    }
  }

  /**
   * A predicate for owner labels of the form {@code <prefix><pid>-<anything>}: true when the process with that
   * pid no longer runs on this host. Labels without that form are never orphaned.
   */
  public static Predicate<DomainMetadata> deadProcess(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    return m -> {
      String o = m.owner();
      if (!o.startsWith(prefix)) {
        return false;
      }
      String rest = o.substring(prefix.length());
      int dash = rest.indexOf('-');
      if (dash <= 0) {
        return false;
      }
      long pid;
      try {
        pid = Long.parseLong(rest.substring(0, dash));
      } catch (NumberFormatException e) {
        return false;
      }
      return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    };
  }

  /** An owner label that {@link #deadProcess(String)} understands: {@code <prefix><this pid>-<unique>}. */
  public static String ownerLabel(String prefix, String unique) {
    return prefix + ProcessHandle.current().pid() + "-" + unique;
  }
}
