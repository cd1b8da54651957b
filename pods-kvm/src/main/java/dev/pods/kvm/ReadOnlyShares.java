package dev.pods.kvm;

import dev.pods.BackendException;
import dev.pods.kvm.internal.Exec;
import dev.pods.spi.DomainFilesystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only bind mounts of host folders, made so that a domain can share a folder read-only with virtiofs (Debian
 * 12's libvirt refuses {@code <readonly/>} on a virtiofs filesystem and its virtiofsd has no read-only mode, so
 * the guest could otherwise remount its share read-write). The share of domain {@code D}, tag {@code T} is the
 * mount point {@code <root>/<encoded D>/T}: {@code mount --bind} of the folder, then
 * {@code mount -o remount,bind,ro}; the folder's path is kept beside it in {@code T.source}, so that the share is
 * found again (and mounted again, after a host reboot) by a later process.
 *
 * <p>Nothing here ever deletes recursively: mount points are removed with {@code rmdir} after {@code umount}, so a
 * share that could not be unmounted keeps its folder (and the host folder stays untouched).
 *
 * <p>Thread-safe across domains (calls for one domain are made by one caller at a time); blocking (runs
 * {@code mount}/{@code umount}, which need root). Failures are {@link BackendException}s.
 */
final class ReadOnlyShares {
  private static final Logger LOG = LoggerFactory.getLogger(ReadOnlyShares.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String SOURCE_SUFFIX = ".source";

  private final Path root;

  /** Shares kept under {@code root} (created on first use). */
  ReadOnlyShares(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** The folder holding every share. */
  Path root() {
    return root;
  }

  /** The folder of domain {@code domain}'s shares. */
  Path domainDir(String domain) {
    return root.resolve(DiskImages.encode(domain));
  }

  /** The mount point of domain {@code domain}'s share {@code tag}. */
  Path mountPoint(String domain, String tag) {
    return domainDir(domain).resolve(tag);
  }

  /**
   * Makes (or keeps, when it is there and of the same folder) the read-only bind mount of {@code f}'s folder for
   * {@code domain}, and returns the writable-looking share libvirt gets: the mount point.
   */
  DomainFilesystem ensure(String domain, DomainFilesystem f) {
    Path mp = mountPoint(domain, f.tag());
    Path record = mp.resolveSibling(f.tag() + SOURCE_SUFFIX);
    try {
      if (isMountPoint(mp)) {
        if (recorded(record).filter(f.source()::equals).isPresent() && isReadOnlyMount(mp)) {
          return new DomainFilesystem(mp, f.tag(), false);
        }
        unmount(domain, mp);
      }
      Files.createDirectories(mp);
      Path tmp = record.resolveSibling(record.getFileName() + ".tmp");
      Files.writeString(tmp, f.source().toString(), StandardCharsets.UTF_8);
      Files.move(tmp, record, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new BackendException("share read-only", domain, -1, "cannot prepare " + mp + ": " + e, e);
    }
    try {
      if (!Files.isDirectory(f.source())) {
        throw new BackendException("share read-only", domain, -1, "shared folder " + f.source()
            + " is not a folder", null);
      }
      Exec.run("share read-only", List.of("mount", "--bind", f.source().toString(), mp.toString()), null, TIMEOUT);
      Exec.run("share read-only", List.of("mount", "-o", "remount,bind,ro", mp.toString()), null, TIMEOUT);
      if (!isReadOnlyMount(mp)) {
        throw new BackendException("share read-only", domain, -1, mp + " is still writable after remount", null);
      }
    } catch (RuntimeException e) {
      try {
        unmount(domain, mp);
        Files.deleteIfExists(record);
        deleteIfEmpty(mp.getParent());
      } catch (RuntimeException | IOException u) {
        e.addSuppressed(u);
      }
      throw e;
    }
    LOG.debug("domain {}: {} shared read-only as {}", domain, f.source(), mp);
    return new DomainFilesystem(mp, f.tag(), false);
  }

  /**
   * The read-only share that a share libvirt reports stands for: {@code f} itself when it is not one of ours,
   * else the recorded folder with {@code readOnly} set.
   */
  DomainFilesystem original(DomainFilesystem f) {
    Path p = f.source().normalize();
    if (!p.startsWith(root) || p.getNameCount() != root.getNameCount() + 2) {
      return f;
    }
    return recorded(p.resolveSibling(p.getFileName() + SOURCE_SUFFIX))
        .map(src -> new DomainFilesystem(src, f.tag(), true)).orElse(f);
  }

  /** Unmounts and removes every share of {@code domain}; a no-op when it has none. */
  void release(String domain) {
    Path dir = domainDir(domain);
    if (!Files.isDirectory(dir)) {
      return;
    }
    List<Path> entries;
    try (Stream<Path> s = Files.list(dir)) {
      entries = s.toList();
    } catch (IOException e) {
      throw new BackendException("unshare", domain, -1, "cannot list " + dir + ": " + e, e);
    }
    List<Path> files = new ArrayList<>();
    for (Path p : entries) {
      if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        unmount(domain, p);
      } else {
        files.add(p);
      }
    }
    try {
      for (Path p : files) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir); // rmdir: fails rather than reach into a folder still mounted
    } catch (IOException e) {
      throw new BackendException("unshare", domain, -1, "cannot remove " + dir + ": " + e, e);
    }
  }

  /** The domains (decoded names) that have shares here. */
  List<String> domains() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.map(p -> DiskImages.decode(p.getFileName().toString())).filter(d -> d != null).toList();
    } catch (IOException e) {
      throw new BackendException("list shares", null, -1, "cannot list " + root + ": " + e, e);
    }
  }

  /** Unmounts {@code mp} (also when it is busy: lazily) and removes the empty mount point. */
  private static void unmount(String domain, Path mp) {
    if (isMountPoint(mp)) {
      Exec.run("unshare", List.of("umount", "--lazy", mp.toString()), null, TIMEOUT);
    }
    try {
      Files.deleteIfExists(mp);
    } catch (IOException e) {
      throw new BackendException("unshare", domain, -1, "cannot remove the mount point " + mp + ": " + e, e);
    }
  }

  private static void deleteIfEmpty(Path dir) throws IOException {
    try {
      Files.deleteIfExists(dir);
    } catch (java.nio.file.DirectoryNotEmptyException e) {
      // another share of the domain is there
    }
  }

  private static Optional<Path> recorded(Path record) {
    try {
      return Optional.of(Path.of(Files.readString(record, StandardCharsets.UTF_8).strip()));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new BackendException("share read-only", null, -1, "cannot read " + record + ": " + e, e);
    }
  }

  /** Whether {@code p} is a mount point in this process's mount namespace. */
  static boolean isMountPoint(Path p) {
    return mountOptions(p).isPresent();
  }

  /** Whether the mount at {@code p} is read-only. */
  static boolean isReadOnlyMount(Path p) {
    return mountOptions(p).map(o -> List.of(o.split(",")).contains("ro")).orElse(false);
  }

  /** The per-mount options of the topmost mount at {@code p} ({@code /proc/self/mountinfo}), if any. */
  private static Optional<String> mountOptions(Path p) {
    String target = p.toAbsolutePath().normalize().toString();
    List<String> lines;
    try {
      lines = Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new BackendException("share read-only", null, -1, "cannot read /proc/self/mountinfo: " + e, e);
    }
    String found = null;
    for (String l : lines) {
      String[] f = l.split(" ");
      if (f.length > 5 && unescape(f[4]).equals(target)) {
        found = f[5]; // the last one listed is on top
      }
    }
    return Optional.ofNullable(found);
  }

  /** Undoes mountinfo's octal escapes ({@code \040} for a space). */
  private static String unescape(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
