package dev.pods.kvm.internal;

import dev.pods.spi.Acceleration;
import dev.pods.spi.DomainMetadata;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether KVM really runs guests on a host, by booting a Linux kernel under {@code <domain type='kvm'>}
 * and waiting for its first console line.
 *
 * <p>Checking {@code /dev/kvm} is not enough: on a host whose KVM is PVM (pagetable-based virtual machine),
 * {@code /dev/kvm} exists, QEMU starts, real-mode and even long-mode code runs, yet a stock kernel hangs right
 * after its real-mode setup. Only booting a kernel tells. The result is cached per process and in a small file
 * next to the guest images (keyed by host kernel, hypervisor version and probe kernel), so a host pays the
 * probe (at most {@code timeout}) once.
 *
 * <p>The probe domain is transient and named {@code pods-kvmprobe-<pid>-<random>}; it carries pods metadata
 * whose owner is that name ({@link #OWNER_PREFIX}{@code <pid>-<random>}, the form
 * {@code dev.pods.kvm.Reaper#deadProcess} understands), so a probe domain left running by a JVM that died
 * mid-probe (it would spin a CPU for ever: a hung KVM guest never powers off) can be told from one in progress.
 * Every probe first reaps the probe domains of dead JVMs ({@link #reapOrphans(Connect)}); so does
 * {@code Reaper.reapProbes}.
 *
 * <p>Blocking; thread-safe (one probe at a time per process).
 */
public final class KvmProbe {
  private static final Logger LOG = LoggerFactory.getLogger(KvmProbe.class);
  /** The start of every probe domain's name and of its owner label. */
  public static final String OWNER_PREFIX = "pods-kvmprobe-";
  private static final String MARK = "Linux version";
  private static final java.util.Map<String, Acceleration> VERDICTS = new java.util.HashMap<>();

  private KvmProbe() {}

  /**
   * Probes through {@code conn}.
   *
   * @param conn an open connection to a local QEMU driver
   * @param probeKernel a Linux kernel readable by the emulator, or {@code null} to look for one in the guest
   *     image cache
   * @param cacheDir where probe results and logs are kept (must exist or be creatable)
   * @param timeout how long to wait for the kernel's first line under KVM
   */
  public static synchronized Acceleration probe(
      Connect conn, @Nullable Path probeKernel, Path cacheDir, Duration timeout) {
    try {
      if (!"QEMU".equalsIgnoreCase(conn.getType())) {
        return Acceleration.TCG;
      }
    } catch (LibvirtException e) {
      LOG.warn("cannot tell the hypervisor type; using TCG", e);
      return Acceleration.TCG;
    }
    Path kvm = Path.of("/dev/kvm");
    if (!Files.exists(kvm)) {
      LOG.warn("/dev/kvm does not exist: guests run under TCG (software emulation, slow)");
      return Acceleration.TCG;
    }
    Path kernel = probeKernel != null ? probeKernel : findKernel(cacheDir.resolve("images"));
    if (kernel == null) {
      LOG.warn("/dev/kvm exists but no kernel is available to verify that KVM runs guests; using TCG. "
          + "Build a guest image or set a probe kernel to enable KVM.");
      return Acceleration.TCG;
    }
    String key;
    try {
      key = key(conn.getVersion() + "|" + Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim()
          + "|" + kernel + "|" + Files.size(kernel));
    } catch (LibvirtException | IOException e) {
      key = key(kernel.toString());
    }
    Path cached = cacheDir.resolve("kvm-probe-" + key + ".txt");
    Acceleration known = VERDICTS.get(cached.toString());
    if (known != null) {
      return known;
    }
    try {
      if (Files.isRegularFile(cached)) {
        Acceleration a = Acceleration.valueOf(Files.readString(cached).trim());
        logResult(a, "cached in " + cached);
        VERDICTS.put(cached.toString(), a);
        return a;
      }
    } catch (IOException | IllegalArgumentException e) {
      LOG.debug("ignoring unreadable probe cache {}", cached, e);
    }
    Acceleration a = boot(conn, kernel, cacheDir, timeout);
    try {
      Files.createDirectories(cacheDir);
      Path tmp = cacheDir.resolve(cached.getFileName() + ".tmp-" + UUID.randomUUID());
      Files.writeString(tmp, a.name());
      Files.move(tmp, cached, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      LOG.debug("cannot cache the KVM probe result in {}", cached, e);
    }
    logResult(a, "probed");
    VERDICTS.put(cached.toString(), a);
    return a;
  }

  private static void logResult(Acceleration a, String how) {
    if (a == Acceleration.TCG) {
      LOG.warn("/dev/kvm exists but a KVM guest does not boot on this host ({}): using TCG "
          + "(software emulation, slow)", how);
    } else {
      LOG.info("KVM runs guests on this host ({})", how);
    }
  }

  private static Acceleration boot(Connect conn, Path kernel, Path cacheDir, Duration timeout) {
    reapOrphans(conn);
    String name = OWNER_PREFIX + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    Path log;
    try {
      Files.createDirectories(cacheDir);
      log = Files.createTempFile(cacheDir, "kvm-probe-", ".log");
    } catch (IOException e) {
      LOG.warn("cannot create the KVM probe log in {}; using TCG", cacheDir, e);
      return Acceleration.TCG;
    }
    String xml = xml(name, "kvm", kernel, log);
    Domain d = null;
    long t0 = System.nanoTime();
    try {
      d = conn.domainCreateXML(xml, 0);
      long deadline = t0 + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(MARK)) {
          LOG.debug("KVM probe kernel printed its banner after {} ms", (System.nanoTime() - t0) / 1_000_000);
          return Acceleration.KVM;
        }
        if (d.isActive() != 1) {
          return Acceleration.TCG;
        }
        Thread.sleep(100);
      }
      return Acceleration.TCG;
    } catch (LibvirtException e) {
      LOG.debug("KVM probe domain failed to start", e);
      return Acceleration.TCG;
    } catch (IOException e) {
      LOG.debug("cannot read the KVM probe log", e);
      return Acceleration.TCG;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Acceleration.TCG;
    } finally {
      if (d != null) {
        try {
          d.destroy();
        } catch (LibvirtException e) {
          LOG.debug("KVM probe domain already gone", e);
        }
      }
      try {
        Files.deleteIfExists(log);
      } catch (IOException e) {
        LOG.debug("cannot delete {}", log, e);
      }
    }
  }

  /**
   * The XML of a probe domain named {@code name} ({@value #OWNER_PREFIX}{@code <pid>-<anything>}; also its owner
   * label) of libvirt type {@code type} that boots {@code kernel} and logs its console to {@code log}.
   */
  public static String xml(String name, String type, Path kernel, Path log) {
    if (!name.startsWith(OWNER_PREFIX)) {
      throw new IllegalArgumentException("a probe domain's name starts with " + OWNER_PREFIX + ": " + name);
    }
    return "<domain type='" + DomainXml.escape(type) + "'>\n  <name>" + DomainXml.escape(name) + "</name>\n"
        + DomainXml.metadata(new DomainMetadata(name, "", "kvm-probe", 0, ""))
        + "  <memory unit='MiB'>64</memory>\n  <vcpu>1</vcpu>\n"
        + "  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>" + DomainXml.escape(kernel.toString())
        + "</kernel><cmdline>console=ttyS0 earlyprintk=serial panic=-1</cmdline></os>\n"
        + "  <features><acpi/></features><on_poweroff>destroy</on_poweroff><on_crash>destroy</on_crash>\n"
        + "  <devices><serial type='pty'><log file='" + DomainXml.escape(log.toString())
        + "' append='off'/><target port='0'/></serial><memballoon model='none'/></devices>\n</domain>\n";
  }

  /**
   * Stops (and, when persistent, undefines) the probe domains whose JVM no longer runs on this host: domains
   * named {@value #OWNER_PREFIX}{@code ...} whose pods metadata owner is {@value #OWNER_PREFIX}{@code <pid>-...}
   * with {@code pid} dead. Domains without that metadata (a foreign domain, or a probe of a version before
   * metadata) are left alone. Failures are logged, never thrown: reaping must not stop a probe.
   *
   * @return the names of the reaped domains
   */
  public static java.util.List<String> reapOrphans(Connect conn) {
    java.util.List<String> reaped = new java.util.ArrayList<>();
    Domain[] all;
    try {
      all = conn.listAllDomains(0);
    } catch (LibvirtException e) {
      LOG.debug("cannot list domains to reap orphaned KVM probes", e);
      return reaped;
    }
    for (Domain d : all) {
      try {
        String name = d.getName();
        if (!name.startsWith(OWNER_PREFIX)) {
          continue;
        }
        java.util.Optional<String> owner = DomainXml.read(d.getXMLDesc(0)).spec().map(s -> s.metadata().owner());
        if (owner.isEmpty() || !owner.get().startsWith(OWNER_PREFIX) || ownerAlive(owner.get())) {
          continue;
        }
        // a transient domain is gone once destroyed: ask before
        boolean persistent = d.isPersistent() == 1;
        if (d.isActive() == 1) {
          d.destroy();
        }
        if (persistent) {
          d.undefine();
        }
        LOG.warn("reaped the KVM probe domain {} of a dead JVM", name);
        reaped.add(name);
      } catch (LibvirtException | IllegalArgumentException e) {
        LOG.debug("cannot reap a KVM probe domain", e);
      }
    }
    return reaped;
  }

  /** Whether the pid in {@value #OWNER_PREFIX}{@code <pid>-...} runs; true when the label has no pid. */
  private static boolean ownerAlive(String owner) {
    String rest = owner.substring(OWNER_PREFIX.length());
    int dash = rest.indexOf('-');
    try {
      long pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    } catch (NumberFormatException e) {
      return true;
    }
  }

  private static @Nullable Path findKernel(Path images) {
    if (!Files.isDirectory(images)) {
      return null;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(images)) {
      for (Path p : ds) {
        Path k = p.resolve("vmlinuz");
        if (Files.isRegularFile(k) && Files.isRegularFile(p.resolve(".complete"))) {
          return k;
        }
      }
    } catch (IOException e) {
      LOG.debug("cannot list {}", images, e);
    }
    return null;
  }

  private static String key(String s) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
