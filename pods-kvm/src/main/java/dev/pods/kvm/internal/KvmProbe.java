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
 * after its real-mode setup. Only booting a kernel tells. When no banner comes under KVM (the guest stops or nothing
 * comes in time), the same kernel is booted under TCG as a control: a banner there (TCG being slower than any working
 * KVM) shows that KVM fails or hangs guests, while none shows a probe that cannot boot this kernel or a host too busy
 * to tell. A completed probe's verdict (the banner seen under KVM, or seen under TCG only) is cached per process and in a small file next to the guest images, keyed by the host
 * kernel's release, the hypervisor's (QEMU's) version and the probe kernel ({@link #cacheKey}), so a host pays the
 * probe once per upgrade (at most {@code timeout}, plus {@link #controlTimeout} for the TCG control boot). A probe
 * that timed out under both, was interrupted or could not run is not cached: guests run under TCG this time, and
 * the next process probes again (this one after {@link #RETRY_AFTER}).
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
  /** When a probe of a key last ended inconclusively in this process ({@link System#nanoTime()}). */
  private static final java.util.Map<String, Long> INCONCLUSIVE = new java.util.HashMap<>();
  /** The probe guest's memory: enough for the kernel to decompress itself and print its banner. */
  static final int PROBE_MEMORY_MIB = 256;
  /** How long an inconclusive probe is not repeated in one process. */
  public static final Duration RETRY_AFTER = Duration.ofMinutes(5);

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
    String qemuVersion;
    String kernelRelease;
    long kernelSize;
    try {
      qemuVersion = Long.toString(conn.getVersion());
    } catch (LibvirtException e) {
      LOG.debug("cannot read the hypervisor's version; the probe's verdict will not be cached", e);
      qemuVersion = null;
    }
    try {
      kernelRelease = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
      kernelSize = Files.size(kernel);
    } catch (IOException e) {
      LOG.debug("cannot read the kernel release or the probe kernel; the probe's verdict will not be cached", e);
      kernelRelease = null;
      kernelSize = -1;
    }
    String key = cacheKey(qemuVersion, kernelRelease, kernel, kernelSize);
    String memo = key != null ? key : "unkeyed|" + kernel;
    if (key != null) {
      Acceleration known = cached(cacheDir, key);
      if (known != null) {
        return known;
      }
    }
    Long last = INCONCLUSIVE.get(memo);
    if (last != null && !retryDue(last, System.nanoTime())) {
      LOG.debug("the last KVM probe in this process was inconclusive less than {} ago; using TCG", RETRY_AFTER);
      return Acceleration.TCG;
    }
    Seen underKvm = boot(conn, "kvm", kernel, cacheDir, timeout);
    // no banner under KVM: the same kernel under TCG (slower than any working KVM) tells a KVM that fails or hangs
    // from a probe that cannot boot this kernel at all or a host too busy to tell
    Seen underTcg = underKvm == Seen.NOTHING_IN_TIME || underKvm == Seen.STOPPED
        ? boot(conn, "qemu", kernel, cacheDir, controlTimeout(timeout)) : null;
    Outcome o = conclude(underKvm, underTcg);
    if (o.completed()) {
      INCONCLUSIVE.remove(memo);
      if (key != null) {
        store(cacheDir, key, o.acceleration());
      }
    } else {
      INCONCLUSIVE.put(memo, System.nanoTime());
    }
    logResult(o.acceleration(), o.completed() ? "probed: " + o.describe()
        : o.describe() + "; probed again next time");
    return o.acceleration();
  }

  /**
   * How long the TCG control boot may take: TCG is several times slower than KVM, and a loaded host slower still.
   * Pure.
   */
  public static Duration controlTimeout(Duration kvmTimeout) {
    Duration scaled = kvmTimeout.multipliedBy(6);
    return scaled.compareTo(Duration.ofMinutes(1)) > 0 ? scaled : Duration.ofMinutes(1);
  }

  /**
   * Whether an inconclusive probe made at {@code lastNanos} ({@link System#nanoTime()}) may be tried again at
   * {@code nowNanos}: after {@link #RETRY_AFTER}, so that the hypervisors a process opens in a burst do not each
   * pay the probe. Pure.
   */
  public static boolean retryDue(long lastNanos, long nowNanos) {
    return nowNanos - lastNanos >= RETRY_AFTER.toNanos();
  }

  /** What one probe boot saw. */
  public enum Seen {
    /** The kernel's banner on the console. */
    BANNER,
    /** The guest stopped without a banner. */
    STOPPED,
    /** Neither within the timeout. */
    NOTHING_IN_TIME,
    /** The probing thread was interrupted. */
    INTERRUPTED,
    /** The boot could not run (domain not started, log unreadable). */
    FAILED
  }

  /** How a probe ended. */
  public enum Outcome {
    /** The kernel printed its banner under KVM: KVM runs guests. */
    KVM_RUNS,
    /** The guest stopped without a banner under KVM, and printed it under TCG: KVM does not run guests here. */
    KVM_FAILS,
    /**
     * No banner under KVM in time, while the same kernel printed it under TCG in time: KVM hangs guests (a PVM
     * host).
     */
    KVM_HANGS,
    /** No banner in time under KVM nor under TCG: a host too busy to tell; not conclusive. */
    TIMED_OUT,
    /** The probing thread was interrupted; not conclusive. */
    INTERRUPTED,
    /**
     * The probe could not run (domain not started, log unreadable), or the kernel does not boot under TCG either;
     * not conclusive.
     */
    FAILED;

    /** Whether the outcome is a verdict about the host, which may be cached. */
    public boolean completed() {
      return this == KVM_RUNS || this == KVM_FAILS || this == KVM_HANGS;
    }

    /** What to run guests with after this outcome: KVM only when it was seen to work. */
    public Acceleration acceleration() {
      return this == KVM_RUNS ? Acceleration.KVM : Acceleration.TCG;
    }

    String describe() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }
  }

  /**
   * The outcome of a probe from what the KVM boot saw and, when it saw nothing in time, what the TCG control boot
   * of the same kernel saw ({@code null}: not run). Pure.
   */
  public static Outcome conclude(Seen kvm, @Nullable Seen tcgControl) {
    return switch (kvm) {
      case BANNER -> Outcome.KVM_RUNS;
      case INTERRUPTED -> Outcome.INTERRUPTED;
      case FAILED -> Outcome.FAILED;
      case STOPPED -> tcgControl == Seen.BANNER ? Outcome.KVM_FAILS
          : tcgControl == Seen.INTERRUPTED ? Outcome.INTERRUPTED : Outcome.FAILED;
      case NOTHING_IN_TIME -> tcgControl == Seen.BANNER ? Outcome.KVM_HANGS
          : tcgControl == Seen.INTERRUPTED ? Outcome.INTERRUPTED : Outcome.TIMED_OUT;
    };
  }

  /**
   * One look at a probe boot in progress: what it saw once known, or {@code null} to keep waiting. The banner wins
   * over everything (it may arrive just as the guest stops or the time runs out). Pure.
   */
  public static @Nullable Seen observe(boolean bannerSeen, boolean domainActive, boolean pastDeadline) {
    if (bannerSeen) {
      return Seen.BANNER;
    }
    if (!domainActive) {
      return Seen.STOPPED;
    }
    return pastDeadline ? Seen.NOTHING_IN_TIME : null;
  }

  /**
   * The cache key of a verdict: the hypervisor's (QEMU's) version, the host kernel's release and the probe kernel,
   * so that an upgrade of either probes again; {@code null} (do not cache) when a version is unknown. Pure.
   */
  public static @Nullable String cacheKey(@Nullable String qemuVersion, @Nullable String kernelRelease, Path kernel,
      long kernelSize) {
    if (qemuVersion == null || qemuVersion.isBlank() || kernelRelease == null || kernelRelease.isBlank()
        || kernelSize < 0) {
      return null;
    }
    return key("qemu " + qemuVersion + "|kernel " + kernelRelease + "|probe " + kernel + "|" + kernelSize);
  }

  /** The verdict cached under {@code key} (in memory, else in its file under {@code cacheDir}), or {@code null}. */
  public static synchronized @Nullable Acceleration cached(Path cacheDir, String key) {
    Path file = cacheFile(cacheDir, key);
    Acceleration known = VERDICTS.get(file.toString());
    if (known != null) {
      return known;
    }
    try {
      if (Files.isRegularFile(file)) {
        Acceleration a = Acceleration.valueOf(Files.readString(file).trim());
        logResult(a, "cached in " + file);
        VERDICTS.put(file.toString(), a);
        return a;
      }
    } catch (IOException | IllegalArgumentException e) {
      LOG.debug("ignoring unreadable probe cache {}", file, e);
    }
    return null;
  }

  /** Caches a completed probe's verdict under {@code key}, in memory and in a file (written atomically). */
  public static synchronized void store(Path cacheDir, String key, Acceleration verdict) {
    Path file = cacheFile(cacheDir, key);
    VERDICTS.put(file.toString(), verdict);
    try {
      Files.createDirectories(cacheDir);
      Path tmp = cacheDir.resolve(file.getFileName() + ".tmp-" + UUID.randomUUID());
      Files.writeString(tmp, verdict.name());
      Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      LOG.debug("cannot cache the KVM probe result in {}", file, e);
    }
  }

  private static Path cacheFile(Path cacheDir, String key) {
    return cacheDir.resolve("kvm-probe-" + key + ".txt");
  }

  private static void logResult(Acceleration a, String how) {
    if (a == Acceleration.TCG) {
      LOG.warn("/dev/kvm exists but a KVM guest does not boot on this host ({}): using TCG "
          + "(software emulation, slow)", how);
    } else {
      LOG.info("KVM runs guests on this host ({})", how);
    }
  }

  private static Seen boot(Connect conn, String type, Path kernel, Path cacheDir, Duration timeout) {
    reapOrphans(conn);
    String name = OWNER_PREFIX + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    Path log;
    try {
      Files.createDirectories(cacheDir);
      log = Files.createTempFile(cacheDir, "kvm-probe-", ".log");
    } catch (IOException e) {
      LOG.warn("cannot create the KVM probe log in {}; using TCG", cacheDir, e);
      return Seen.FAILED;
    }
    String xml = xml(name, type, kernel, log);
    Domain d = null;
    long t0 = System.nanoTime();
    try {
      d = conn.domainCreateXML(xml, 0);
      long deadline = t0 + timeout.toNanos();
      while (true) {
        boolean banner = Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(MARK);
        Seen seen = observe(banner, banner || d.isActive() == 1, System.nanoTime() >= deadline);
        if (seen != null) {
          LOG.debug("KVM probe boot ({}): {} after {} ms", type, seen, (System.nanoTime() - t0) / 1_000_000);
          return seen;
        }
        Thread.sleep(100); // the console log file offers no event to wait on
      }
    } catch (LibvirtException e) {
      LOG.debug("KVM probe domain failed to start", e);
      return Seen.FAILED;
    } catch (IOException e) {
      LOG.debug("cannot read the KVM probe log", e);
      return Seen.FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Seen.INTERRUPTED;
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
        // 64 MiB is too little for a Debian cloud kernel to decompress: it reboots in a loop and never prints
        + "  <memory unit='MiB'>" + PROBE_MEMORY_MIB + "</memory>\n  <vcpu>1</vcpu>\n"
        + "  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>" + DomainXml.escape(kernel.toString())
        + "</kernel><cmdline>console=ttyS0 earlyprintk=serial panic=-1</cmdline></os>\n"
        // a reboot (panic=-1) stops the probe at once rather than looping
        + "  <features><acpi/></features><on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>"
        + "<on_crash>destroy</on_crash>\n"
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
