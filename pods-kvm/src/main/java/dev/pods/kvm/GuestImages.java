package dev.pods.kvm;

import dev.pods.BackendException;
import dev.pods.kvm.internal.Exec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest images built from Debian packages only, for tests and the demo, cached outside the source tree and
 * keyed by their inputs (the build script, the guest init, and the Debian kernel version the archive offers):
 * <ul>
 *   <li>{@link #tiny()}: the Debian cloud kernel ({@code linux-image-cloud-amd64}) and an initramfs with
 *       busybox ({@code bash} runs busybox's ash), python3 (minimal standard library plus {@code json}), Debian's
 *       nginx (its configuration, {@code www-data}), {@code mkfs.ext4} (e2fsprogs; the kernel has ext4 built in),
 *       the virtio/IDE/cdrom/isofs modules and an init that mounts
 *       the NoCloud seed, prints {@code PODS-SEED <instance-id>}, {@code PODS-MARKER <content of pods-marker>}
 *       when the seed has that file, brings {@code eth0} up by DHCP (busybox {@code udhcpc}: address, default
 *       route, DNS; {@code PODS-NET ...} on the console) when the guest has a NIC, prints {@code PODS-READY}, and
 *       runs the seed's {@value SeedIso#AGENT_FILE} with {@code sh}, after copying the seed's
 *       {@value SeedIso#AGENT_CONFIG_FILE} to {@code /etc/pods/agent.conf}. Boots to userspace in about 5 s under
 *       TCG. Built in about 10 s.
 *   <li>{@link #full()}: a Debian 12 root filesystem (mmdebstrap: systemd, cloud-init, bash, python3) as a
 *       qcow2 disk, booted with the tiny kernel and initramfs switching root to {@code /dev/vda}; cloud-init
 *       applies the seed's user-data and network-config (with {@link KvmInstanceFiles}: its fallback, DHCP on
 *       {@code eth0}; the agent installed and run by a systemd unit); {@code curl} is there for the agent. Prints {@code PODS-READY} on the console once multi-user is reached.
 *       Built in about 60-90 s.
 * </ul>
 *
 * <p>Packages are fetched with {@code apt-get download} and unpacked with {@code dpkg-deb -x} (or installed by
 * mmdebstrap into a folder): nothing is installed on the host and the host's {@code /dev} is never bind-mounted.
 * Needs root, apt lists ({@code apt-get update}), cpio, mmdebstrap, e2fsprogs and qemu-utils.
 *
 * <p>The cache folder and its parents must be traversable by the emulator user (uid 64055), so the default is
 * {@value #DEFAULT_DIR_TEXT}, not a folder under {@code /root}. Thread-safe and safe across processes (a file
 * lock serialises builds of one image; a finished image appears by an atomic rename). Blocking.
 */
public final class GuestImages {
  private static final Logger LOG = LoggerFactory.getLogger(GuestImages.class);
  private static final String DEFAULT_DIR_TEXT = "/var/cache/pods/images";
  /** The default cache folder. */
  public static final Path DEFAULT_DIR = Path.of(DEFAULT_DIR_TEXT);
  private static final String RES = "/dev/pods/kvm/images/";
  private static final Pattern KERNEL_DEP = Pattern.compile("Depends: linux-image-(\\S+)");

  private final Path dir;

  private GuestImages(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
  }

  /** Images cached in {@code dir}. */
  public static GuestImages at(Path dir) {
    return new GuestImages(Objects.requireNonNull(dir, "dir"));
  }

  /**
   * Images cached in the configured folder: system property {@code pods.images.dir}, else environment variable
   * {@code PODS_IMAGES_DIR}, else {@value #DEFAULT_DIR_TEXT}.
   */
  public static GuestImages configured() {
    String p = System.getProperty("pods.images.dir");
    if (p == null || p.isBlank()) {
      p = System.getenv("PODS_IMAGES_DIR");
    }
    return at(p == null || p.isBlank() ? DEFAULT_DIR : Path.of(p));
  }

  /** The cache folder. */
  public Path dir() {
    return dir;
  }

  /**
   * The tiny guest: direct kernel boot of {@code kernel} + {@code initrd}.
   *
   * @param dir the cached image folder
   * @param kernel the kernel image
   * @param initrd the initramfs
   * @param kernelVersion the Debian kernel version, e.g. {@code 6.1.0-56-cloud-amd64}
   */
  public record Tiny(Path dir, Path kernel, Path initrd, String kernelVersion) {
    /** The kernel command line for the tiny guest; {@code extra} is appended (e.g. {@code pods.acpi=off}). */
    public String cmdline(String extra) {
      return ("console=ttyS0 panic=-1 quiet " + extra).strip();
    }
  }

  /**
   * The full guest: a qcow2 root disk, booted with the tiny kernel and initramfs. Put the disk into a
   * {@link DiskImages} base cache ({@code ImageSource.file(disk)}) and boot overlays of that copy: this folder
   * is replaced when the image inputs change.
   *
   * @param dir the cached image folder
   * @param disk the root filesystem image (qcow2, ext4 without partition table)
   * @param kernel the kernel image
   * @param initrd the initramfs that switches root to {@code /dev/vda}
   */
  public record Full(Path dir, Path disk, Path kernel, Path initrd) {
    /**
     * The kernel command line that boots the disk's systemd; {@code net.ifnames=0} keeps the NIC's name
     * {@code eth0}, as in the tiny guest.
     */
    public String cmdline() {
      return "console=ttyS0 panic=-1 net.ifnames=0 pods.root=/dev/vda pods.init=/sbin/init";
    }
  }

  /** The tiny guest, built on first use (about 10 s). */
  public Tiny tiny() {
    String kv = kernelVersion();
    String key = key("tiny", kv, resource("build-guest.sh"), resource("init"));
    Path out = ensure("tiny", key, (target, scripts) ->
        List.of("bash", scripts.resolve("build-guest.sh").toString(), "tiny", target.toString(),
            scripts.resolve("init").toString()));
    return new Tiny(out, out.resolve("vmlinuz"), out.resolve("initrd.img"), kv);
  }

  /** The full cloud-init guest, built on first use (about 60-90 s; the tiny guest is built first). */
  public Full full() {
    Tiny t = tiny();
    // the disk does not contain the initramfs: only the script and the Debian release decide its content
    String key = key("full", t.kernelVersion(), resource("build-guest.sh"));
    Path out = ensure("full", key, (target, scripts) ->
        List.of("bash", scripts.resolve("build-guest.sh").toString(), "full", target.toString(),
            t.dir().toString()));
    return new Full(out, out.resolve("disk.qcow2"), t.kernel(), t.initrd());
  }

  /** How long an image of other inputs must have gone unused before a build of the same kind deletes it. */
  static final Duration PRUNE_AFTER = Duration.ofDays(2);

  private interface Command {
    List<String> of(Path target, Path scripts);
  }

  private Path ensure(String kind, String key, Command command) {
    Path out = dir.resolve(kind + "-" + key);
    if (Files.isRegularFile(out.resolve(".complete"))) {
      touch(out);
      return out;
    }
    try {
      mkdirs(dir);
      try (FileChannel ch = FileChannel.open(dir.resolve(".lock-" + kind + "-" + key),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = ch.lock();
        try {
          if (Files.isRegularFile(out.resolve(".complete"))) {
            return out;
          }
          build(kind, out, command);
          pruneOthers(kind, out);
          return out;
        } finally {
          lock.release();
        }
      }
    } catch (IOException e) {
      throw new BackendException("build " + kind + " guest image", null, -1, e.toString(), e);
    }
  }

  private void build(String kind, Path out, Command command) throws IOException {
    Path work = dir.resolve(".build-" + kind + "-" + UUID.randomUUID());
    Path scripts = work.resolve("scripts");
    Path target = work.resolve("image");
    long t0 = System.nanoTime();
    try {
      Files.createDirectories(scripts);
      for (String r : List.of("build-guest.sh", "init")) {
        Path p = scripts.resolve(r);
        Files.write(p, resource(r));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
      LOG.info("building the {} guest image in {}", kind, out);
      Exec.run("build " + kind + " guest image", command.of(target, scripts), work, Duration.ofMinutes(20));
      Files.writeString(target.resolve(".complete"), "built in " + (System.nanoTime() - t0) / 1_000_000
          + " ms\n");
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
      DiskImages.deleteTree(out);
      Files.move(target, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      LOG.info("built the {} guest image in {} s", kind, (System.nanoTime() - t0) / 1_000_000_000.0);
    } finally {
      DiskImages.deleteTree(work);
    }
  }

  /** Marks an image as used now (its {@code .complete} file's time), so that {@link #pruneOthers} keeps it. */
  private static void touch(Path image) {
    try {
      Files.setLastModifiedTime(image.resolve(".complete"), FileTime.fromMillis(System.currentTimeMillis()));
    } catch (IOException e) {
      LOG.debug("cannot mark {} as used", image, e);
    }
  }

  /**
   * Deletes the other finished images of {@code kind} that nobody asked for during {@link #PRUNE_AFTER}. An image
   * of other inputs may still be in use: another checkout or version of pods shares the cache, or a defined
   * domain boots from its kernel again (a restart, a self-healing recreation), so a recently used one is kept.
   */
  void pruneOthers(String kind, Path keep) {
    long cutoff = System.currentTimeMillis() - PRUNE_AFTER.toMillis();
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        Path complete = p.resolve(".complete");
        if (n.startsWith(kind + "-") && !p.equals(keep) && Files.isRegularFile(complete)
            && Files.getLastModifiedTime(complete).toMillis() < cutoff) {
          LOG.info("removing the outdated {} guest image {}", kind, p);
          DiskImages.deleteTree(p);
          Files.deleteIfExists(dir.resolve(".lock-" + n));
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot prune outdated {} guest images in {}", kind, dir, e);
    }
  }

  private static void mkdirs(Path d) throws IOException {
    for (Path p = d; p != null; p = p.getParent()) {
      if (Files.exists(p)) {
        break;
      }
      Files.createDirectories(p);
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Files.createDirectories(d);
  }

  /** The Debian kernel version that {@code linux-image-cloud-amd64} currently points to. */
  static String kernelVersion() {
    String out = Exec.run("apt-cache", List.of("apt-cache", "depends", "linux-image-cloud-amd64"), null,
        Duration.ofMinutes(1)).stdout();
    Matcher m = KERNEL_DEP.matcher(out);
    if (!m.find()) {
      throw new BackendException("build tiny guest image", null, -1,
          "apt does not know linux-image-cloud-amd64 (run apt-get update): " + out.strip(), null);
    }
    return m.group(1);
  }

  static byte[] resource(String name) {
    try (InputStream in = GuestImages.class.getResourceAsStream(RES + name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + RES + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String key(String kind, String version, byte[]... inputs) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(kind.getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(version.getBytes(StandardCharsets.UTF_8));
      for (byte[] b : inputs) {
        md.update((byte) 0);
        md.update(b);
      }
      return HexFormat.of().formatHex(md.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
