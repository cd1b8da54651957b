package dev.pods.kvm;

import dev.pods.BackendException;
import dev.pods.ImagePolicy;
import dev.pods.kvm.internal.ImageChain;
import dev.pods.kvm.internal.ImageDownload;
import dev.pods.kvm.internal.Exec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disks of instances under one root folder:
 * <ul>
 *   <li>{@code base/}: a content-addressed cache of base images ({@code <sha256>.qcow2} or {@code .raw}, mode
 *       0440, group {@code kvm} when it exists), shared by all instances and never written after insertion. A local
 *       file is copied in once (keyed by path, size and modification time); a URL is downloaded once, with progress
 *       events and an optional SHA-256 check. Both follow the {@link ImagePolicy} given to {@link #at(Path,
 *       ImagePolicy)}.
 *   <li>{@code instances/<domain>/}: per-instance files (qcow2 overlay on a base, seed ISO, console log), removed
 *       by {@link #deleteInstance(String)}.
 *   <li>{@code data/<name>.qcow2}: named persistent data disks that survive the recreation of an instance and
 *       are removed only by {@link #deleteDataDisk(String)}.
 * </ul>
 *
 * <p>Every folder is created mode 0755, because libvirt's emulator user (uid 64055 on Debian) must traverse it:
 * do not put the root under a 0700 folder such as {@code /root}.
 *
 * <p>Thread-safe and safe across processes (insertions into the cache are serialised by a file lock and made
 * visible by an atomic rename). Methods block while they copy, download or run {@code qemu-img}.
 */
public final class DiskImages {
  private static final Logger LOG = LoggerFactory.getLogger(DiskImages.class);
  private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> RO_MODE = PosixFilePermissions.fromString("r--r-----");
  private static final Set<PosixFilePermission> PRIVATE_MODE = PosixFilePermissions.fromString("rw-------");
  private static final @Nullable GroupPrincipal EMULATOR_GROUP = emulatorGroup();
  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");
  private static final Pattern DATA_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  /** The name of a file in the base cache: its content's SHA-256 and its format. */
  private static final Pattern CACHED = Pattern.compile("[0-9a-f]{64}\\.(qcow2|raw)");
  private static final Duration QEMU_IMG_TIMEOUT = Duration.ofMinutes(10);
  private static final ConcurrentHashMap<String, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  private final Path root;
  private final ImagePolicy policy;

  private DiskImages(Path root, ImagePolicy policy) {
    this.root = root.toAbsolutePath().normalize();
    this.policy = policy;
  }

  /**
   * Disk images under {@code root} (created on first use, mode 0755) with the {@link ImagePolicy#catalogueOnly()
   * default policy}: local files up to its size bound, no downloads.
   */
  public static DiskImages at(Path root) {
    return at(root, ImagePolicy.catalogueOnly());
  }

  /**
   * Disk images under {@code root} whose copies and downloads follow {@code policy}: its size bound, and for a
   * URL (and every redirect) its URL prefixes and destination rule.
   */
  public static DiskImages at(Path root, ImagePolicy policy) {
    return new DiskImages(Objects.requireNonNull(root, "root"), Objects.requireNonNull(policy, "policy"));
  }

  /** The policy copies and downloads follow. */
  public ImagePolicy policy() {
    return policy;
  }

  /** The root folder. */
  public Path root() {
    return root;
  }

  // ------------------------------------------------------------------------------------------- base cache

  /**
   * The cached base image for {@code source}, fetching it into the cache on first use. A file already in the cache
   * is returned as it is. Before a file or download enters the cache it must be at most
   * {@link ImagePolicy#maxImageBytes()} bytes, qcow2 or raw, and stand alone (no backing file, no external data
   * file); a download must also pass the policy ({@link ImageDownload}). Every base returned has had its backing
   * chain inspected ({@code qemu-img info --backing-chain}): each layer a qcow2 or raw file inside the cache. A
   * refused image leaves nothing in the cache.
   *
   * @param progress receives progress events while a URL downloads (on the calling thread), and a final event
   *     with {@code done = true}
   * @return the cached file, {@code base/<sha256>.<format>}, readable by its owner and group only
   * @throws BackendException when the file is missing, the download fails or is refused, the digest does not
   *     match, or the image or its chain is refused (the message names the rule)
   */
  public Path base(ImageSource source, Consumer<ImageProgress> progress) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(progress, "progress");
    Path baseDir = dirs(root.resolve("base"));
    String key;
    if (source.path() != null) {
      Path p = source.path();
      if (!Files.isRegularFile(p)) {
        throw new BackendException("base image", null, -1, "base image '" + p + "' does not exist", null);
      }
      if (p.toAbsolutePath().normalize().getParent().equals(baseDir) && CACHED.matcher(p.getFileName().toString())
          .matches()) {
        Path cached = p.toAbsolutePath().normalize();
        checkChain(cached, baseDir);
        restrictCached(cached);
        return cached;
      }
      try {
        key = "path-" + sha256(p.toRealPath() + "|" + Files.size(p) + "|" + Files.getLastModifiedTime(p));
      } catch (IOException e) {
        throw new BackendException("base image", null, -1, "cannot read " + p + ": " + e, e);
      }
    } else {
      key = "url-" + sha256(String.valueOf(source.url()) + "|" + source.sha256());
    }
    Path index = baseDir.resolve(key + ".ref");
    ReentrantLock local = LOCKS.computeIfAbsent(index.toString(), k -> new ReentrantLock());
    local.lock();
    try (FileChannel lockFile = FileChannel.open(baseDir.resolve(".lock-" + key),
            StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock fileLock = lockFile.lock();
      try {
        Path target = fetch(source, progress, baseDir, index);
        checkChain(target, baseDir);
        restrictCached(target);
        return target;
      } finally {
        fileLock.release();
      }
    } catch (IOException e) {
      throw new BackendException("base image", null, -1, "cannot cache " + source + ": " + e, e);
    } finally {
      local.unlock();
    }
  }

  private Path fetch(ImageSource source, Consumer<ImageProgress> progress, Path baseDir, Path index)
      throws IOException {
    Path cached = resolveRef(baseDir, index);
    if (cached != null) {
      progress.accept(new ImageProgress(source.toString(), Files.size(cached), Files.size(cached), true));
      return cached;
    }
    Path tmp = baseDir.resolve(".tmp-" + UUID.randomUUID());
    try {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PRIVATE_MODE));
      String digest = source.path() != null ? copy(source.path(), tmp) : download(source, tmp, progress);
      if (source.sha256() != null && !source.sha256().equals(digest)) {
        throw new BackendException("download", null, -1, "sha256 of " + source + " is " + digest
            + ", expected " + source.sha256(), null);
      }
      ImageChain.Layer top = ImageChain.parse(qemuImgInfo(tmp, false)).get(0);
      Optional<String> refused = ImageChain.refusalAsNewBase(top);
      if (refused.isPresent()) {
        throw new BackendException("base image", null, -1, "image " + source + " is refused: " + refused.get(),
            null);
      }
      Path target = baseDir.resolve(digest + "." + top.format());
      if (!Files.exists(target)) {
        restrict(tmp);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      }
      writeAtomically(index, target.getFileName().toString());
      long size = Files.size(target);
      progress.accept(new ImageProgress(source.toString(), size, size, true));
      LOG.info("base image {} cached as {}", source, target);
      return target;
    } catch (IllegalArgumentException e) {
      throw new BackendException("qemu-img info", null, -1, "cannot read what qemu-img says about " + source
          + ": " + e.getMessage(), e);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Refuses a cached base whose backing chain leaves the cache, or has a layer that is not qcow2 or raw. */
  private static void checkChain(Path base, Path baseDir) {
    List<ImageChain.Layer> chain;
    try {
      chain = ImageChain.parse(qemuImgInfo(base, true));
    } catch (IllegalArgumentException e) {
      throw new BackendException("qemu-img info", null, -1, "cannot read the backing chain of " + base + ": "
          + e.getMessage(), e);
    }
    Optional<String> refused = ImageChain.refusal(chain, baseDir);
    if (refused.isPresent()) {
      throw new BackendException("base image", null, -1, "the backing chain of " + base + " is refused: "
          + refused.get(), null);
    }
  }

  /**
   * Cached images are not world-readable: owner read-only, and readable by the group of libvirt's emulator
   * ({@code kvm} on Debian) when that group exists, so that QEMU can open them.
   */
  private static void restrict(Path file) throws IOException {
    Files.setPosixFilePermissions(file, RO_MODE);
    GroupPrincipal group = EMULATOR_GROUP;
    if (group != null) {
      try {
        Files.getFileAttributeView(file, PosixFileAttributeView.class).setGroup(group);
      } catch (IOException | SecurityException e) {
        LOG.debug("cannot give {} to group {}", file, group, e);
      }
    }
  }

  /**
   * Restricts a file already in the cache (made by an older pods, or by hand) when anyone but its owner and group
   * may read it, or anyone may write it; a file in use by a domain is otherwise left as it is (libvirt may have
   * given it to its emulator user meanwhile). A failure is logged, since the image itself is sound.
   */
  private static void restrictCached(Path file) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      if (!RO_MODE.containsAll(p)) {
        restrict(file);
      }
    } catch (IOException | SecurityException e) {
      LOG.warn("cannot make the cached image {} unreadable by others", file, e);
    }
  }

  private static @Nullable GroupPrincipal emulatorGroup() {
    try {
      return FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName("kvm");
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }

  private static @Nullable Path resolveRef(Path baseDir, Path index) throws IOException {
    if (!Files.isRegularFile(index)) {
      return null;
    }
    Path p = baseDir.resolve(Files.readString(index).trim()).normalize();
    return p.getParent().equals(baseDir) && Files.isRegularFile(p) ? p : null;
  }

  private String copy(Path from, Path to) throws IOException {
    long max = policy.maxImageBytes();
    if (Files.size(from) > max) {
      throw new BackendException("base image", null, -1, "image " + from + " is " + Files.size(from)
          + " bytes, over the image size bound of " + max + " bytes", null);
    }
    MessageDigest md = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(from), md);
        OutputStream out = Files.newOutputStream(to, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      // the size may grow while it is read: at most the bound, and one byte to notice
      long n = in.transferTo(new BoundedOutput(out, max));
      LOG.debug("copied {} bytes of {}", n, from);
    } catch (BoundedOutput.Exceeded e) {
      throw new BackendException("base image", null, -1, "image " + from + " grew past the image size bound of "
          + max + " bytes while it was copied", null);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private String download(ImageSource source, Path to, Consumer<ImageProgress> progress) throws IOException {
    MessageDigest md = sha256();
    URI url = Objects.requireNonNull(source.url());
    long[] total = {-1};
    long n;
    try (OutputStream out = new DigestOutputStream(Files.newOutputStream(to, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING), md)) {
      n = new ImageDownload(policy).fetch(url, out,
          t -> {
            total[0] = t;
            progress.accept(new ImageProgress(source.toString(), 0, t, false));
          },
          done -> progress.accept(new ImageProgress(source.toString(), done, total[0], false)));
    } catch (ImageDownload.RefusedException e) {
      throw new BackendException("download", null, -1, "image " + url + " is refused: " + e.getMessage(), e);
    }
    LOG.info("downloaded {} ({} bytes)", url, n);
    return HexFormat.of().formatHex(md.digest());
  }

  /** An output stream that refuses to take more than a bound. */
  private static final class BoundedOutput extends OutputStream {
    private final OutputStream out;
    private long left;

    /** Thrown past the bound. */
    static final class Exceeded extends IOException {
      private static final long serialVersionUID = 1L;
    }

    BoundedOutput(OutputStream out, long bound) {
      this.out = out;
      this.left = bound;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (len > left) {
        throw new Exceeded();
      }
      left -= len;
      out.write(b, off, len);
    }
  }

  // ------------------------------------------------------------------------------------------- overlays

  /** What {@code qemu-img info} says about an image. */
  public record ImageInfo(String format, long virtualSize) {}

  /** Runs {@code qemu-img info -U} on an image (works on images in use by a running domain). */
  public static ImageInfo info(Path image) {
    try {
      ImageChain.Layer top = ImageChain.parse(qemuImgInfo(image, false)).get(0);
      return new ImageInfo(top.format(), top.virtualSize());
    } catch (IllegalArgumentException e) {
      throw new BackendException("qemu-img info", null, -1, "unexpected output for " + image + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * The JSON of {@code qemu-img info -U --output=json} on {@code image}: the image alone (its backing file is not
   * opened), or with {@code chain} its whole backing chain.
   */
  private static String qemuImgInfo(Path image, boolean chain) {
    List<String> cmd = new ArrayList<>(List.of("qemu-img", "info", "-U", "--output=json"));
    if (chain) {
      cmd.add("--backing-chain");
    }
    cmd.add(image.toString());
    return Exec.run("qemu-img info", cmd, null, QEMU_IMG_TIMEOUT).stdout();
  }

  /**
   * The {@code qemu-img} command that creates a qcow2 overlay backed by {@code base}: creation time does not
   * depend on the base's size, since nothing is copied.
   *
   * @param sizeBytes the overlay's virtual size, or {@code 0} to keep the base's
   */
  public static List<String> overlayCommand(Path base, String baseFormat, Path overlay, long sizeBytes) {
    List<String> cmd = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2",
        "-b", base.toString(), "-F", baseFormat, overlay.toString()));
    if (sizeBytes > 0) {
      cmd.add(Long.toString(sizeBytes));
    }
    return cmd;
  }

  /**
   * Creates (or replaces) a qcow2 overlay on a cached base image.
   *
   * @param base a file returned by {@link #base}; its format is taken from its name
   * @param overlay where to create the overlay (its folder is created with mode 0755)
   * @param sizeBytes the disk size the guest sees ({@code diskSize}); {@code 0} or anything not larger than the
   *     base keeps the base's size (disks never shrink)
   * @return {@code overlay}
   * @throws BackendException when the base is missing or qemu-img fails; no overlay is left behind then
   */
  public Path overlay(Path base, Path overlay, long sizeBytes) {
    if (!Files.isRegularFile(base)) {
      throw new BackendException("create overlay", null, -1, "base image '" + base + "' does not exist", null);
    }
    String name = base.getFileName().toString();
    String format = name.endsWith(".raw") ? "raw" : "qcow2";
    dirs(overlay.toAbsolutePath().getParent());
    long size = sizeBytes;
    if (size > 0) {
      long baseSize = baseVirtualSize(base);
      if (size <= baseSize) {
        size = 0;
      }
    }
    try {
      Files.deleteIfExists(overlay);
      Exec.run("create overlay", overlayCommand(base.toAbsolutePath(), format, overlay, size), null,
          QEMU_IMG_TIMEOUT);
      Files.setPosixFilePermissions(overlay, FILE_MODE);
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(overlay);
      } catch (IOException ignored) {
        LOG.debug("cannot delete {}", overlay, ignored);
      }
      if (e instanceof BackendException b) {
        throw b;
      }
      throw new BackendException("create overlay", null, -1, "cannot create " + overlay + ": " + e, e);
    }
    return overlay;
  }

  /** The virtual size of a cached base, remembered next to it so that overlays need one command only. */
  private static long baseVirtualSize(Path base) {
    Path side = base.resolveSibling(base.getFileName() + ".size");
    try {
      if (Files.isRegularFile(side)) {
        return Long.parseLong(Files.readString(side).trim());
      }
      long v = info(base).virtualSize();
      writeAtomically(side, Long.toString(v));
      return v;
    } catch (IOException | NumberFormatException e) {
      return info(base).virtualSize();
    }
  }

  // ------------------------------------------------------------------------------------------- instances

  /** The folder of one instance's files, {@code instances/<encoded domain name>/}, created mode 0755. */
  public Path instanceDir(String domain) {
    return dirs(root.resolve("instances").resolve(encode(domain)));
  }

  /** Deletes an instance's folder with everything in it; a no-op when it does not exist. */
  public void deleteInstance(String domain) {
    deleteTree(root.resolve("instances").resolve(encode(domain)));
  }

  /** Encodes a domain name as a file name: letters, digits, {@code .-} kept, everything else {@code _XX}. */
  static String encode(String name) {
    StringBuilder b = new StringBuilder();
    for (byte c : name.getBytes(StandardCharsets.UTF_8)) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
          || (c == '.' && b.length() > 0)) {
        b.append((char) c);
      } else {
        b.append('_').append(String.format("%02x", c & 0xff));
      }
    }
    return b.toString();
  }

  /** Reverses {@link #encode(String)}; {@code null} when {@code file} is not an encoded name. */
  static @Nullable String decode(String file) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < file.length(); i++) {
      char c = file.charAt(i);
      if (c == '_') {
        if (i + 2 >= file.length()) {
          return null;
        }
        try {
          b.write(Integer.parseInt(file.substring(i + 1, i + 3), 16));
        } catch (NumberFormatException e) {
          return null;
        }
        i += 2;
      } else if (c < 128) {
        b.write(c);
      } else {
        return null;
      }
    }
    String name = b.toString(StandardCharsets.UTF_8);
    return encode(name).equals(file) ? name : null;
  }

  // ------------------------------------------------------------------------------------------- data disks

  /**
   * The named persistent data disk, created empty (qcow2, {@code sizeBytes}) when it does not exist yet. An
   * existing disk is returned as it is: its content survives the recreation of the instances using it.
   */
  public Path dataDisk(String name, long sizeBytes) {
    if (!DATA_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("data disk names are [A-Za-z0-9._-], up to 100 characters: " + name);
    }
    if (sizeBytes <= 0) {
      throw new IllegalArgumentException("sizeBytes must be > 0");
    }
    Path dir = dirs(root.resolve("data"));
    Path disk = dir.resolve(name + ".qcow2");
    ReentrantLock local = LOCKS.computeIfAbsent(disk.toString(), k -> new ReentrantLock());
    local.lock();
    try {
      if (Files.isRegularFile(disk)) {
        return disk;
      }
      Path tmp = dir.resolve(".tmp-" + UUID.randomUUID() + ".qcow2");
      try {
        Exec.run("create data disk", List.of("qemu-img", "create", "-q", "-f", "qcow2", tmp.toString(),
            Long.toString(sizeBytes)), null, QEMU_IMG_TIMEOUT);
        Files.setPosixFilePermissions(tmp, FILE_MODE);
        Files.move(tmp, disk, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return disk;
    } catch (IOException e) {
      throw new BackendException("create data disk", null, -1, "cannot create " + disk + ": " + e, e);
    } finally {
      local.unlock();
    }
  }

  /** Deletes a named data disk; a no-op when it does not exist. */
  public void deleteDataDisk(String name) {
    if (!DATA_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a data disk name: " + name);
    }
    try {
      Files.deleteIfExists(root.resolve("data").resolve(name + ".qcow2"));
    } catch (IOException e) {
      throw new BackendException("delete data disk", null, -1, "cannot delete " + name + ": " + e, e);
    }
  }

  // ------------------------------------------------------------------------------------------- helpers

  private static Path dirs(Path dir) {
    try {
      Path d = dir.toAbsolutePath();
      List<Path> missing = new ArrayList<>();
      for (Path p = d; p != null && !Files.exists(p); p = p.getParent()) {
        missing.add(p);
      }
      Files.createDirectories(d);
      for (Path p : missing) {
        Files.setPosixFilePermissions(p, DIR_MODE);
      }
      return d;
    } catch (IOException e) {
      throw new BackendException("create folder", null, -1, "cannot create " + dir + ": " + e, e);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new BackendException("delete", null, -1, "cannot delete " + dir + ": " + e, e);
    }
  }

  private static void writeAtomically(Path target, String content) throws IOException {
    Path tmp = target.resolveSibling(".tmp-" + UUID.randomUUID());
    try {
      Files.writeString(tmp, content);
      Files.setPosixFilePermissions(tmp, FILE_MODE);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256(String s) {
    return HexFormat.of().formatHex(sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
  }
}
