package dev.pods.runtime;

import dev.pods.spi.StateStore;
import dev.pods.PodsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A {@link StateStore} on a folder: one {@code <slug>-<hash>.json} file per key, written atomically (a temporary
 * file in the sibling folder {@code .<name>.tmp} on the same file system, fsync, rename over the old one, fsync of
 * the folder), mode {@code 0600} in folders of mode {@code 0700} (documents hold agent tokens). The folder itself
 * only ever holds whole documents. Thread-safe: writes are serialised per store object; several
 * stores (or processes) must not write the same folder at once.
 */
final class FileStateStore implements StateStore {
  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
  private static final String SUFFIX = ".json";
  private static final String TEMP = ".tmp";

  private final Path dir;
  private final Path tmpDir;

  private FileStateStore(Path dir, Path tmpDir) {
    this.dir = dir;
    this.tmpDir = tmpDir;
  }

  /**
   * The store in {@code dir}, created (mode {@code 0700}) when missing; removes the temporary files of writes that
   * a crash interrupted.
   *
   * @throws PodsException when the folder cannot be created or read
   */
  static FileStateStore open(Path dir) {
    Path tmpDir = dir.resolveSibling("." + dir.getFileName() + TEMP);
    try {
      for (Path d : List.of(dir, tmpDir)) {
        try {
          Files.createDirectories(d.getParent() == null ? d : d.getParent());
          Files.createDirectory(d, posix(DIR_MODE));
        } catch (FileAlreadyExistsException e) {
          // kept as it is
        }
      }
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmpDir)) {
        for (Path p : ds) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      throw new PodsException("cannot open the state folder " + dir, e);
    }
    return new FileStateStore(dir, tmpDir);
  }

  private static FileAttribute<?>[] posix(Set<PosixFilePermission> mode) {
    return Path.of("/").getFileSystem().supportedFileAttributeViews().contains("posix")
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)}
        : new FileAttribute<?>[0];
  }

  /** The folder. */
  Path dir() {
    return dir;
  }

  /** Where a write of {@code key} is prepared. */
  Path tempFile(String key) {
    return tmpDir.resolve(file(key).getFileName() + TEMP);
  }

  /** The file of {@code key}. */
  Path file(String key) {
    return dir.resolve(DefaultPodRuntime.slug(key, 60) + "-" + DefaultPodRuntime.sha256(key).substring(0, 8) + SUFFIX);
  }

  @Override
  public synchronized void put(String key, byte[] value) {
    Path f = file(key);
    Path tmp = tmpDir.resolve(f.getFileName() + TEMP);
    try {
      Files.deleteIfExists(tmp);
      try (FileChannel ch = FileChannel.open(tmp, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
          posix(FILE_MODE))) {
        ByteBuffer b = ByteBuffer.wrap(value);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      syncDir(dir);
      syncDir(tmpDir);
    } catch (IOException e) {
      throw new PodsException("cannot write the state file " + f, e);
    }
  }

  @Override
  public synchronized void remove(String key) {
    Path f = file(key);
    try {
      if (Files.deleteIfExists(f)) {
        syncDir(dir);
      }
    } catch (IOException e) {
      throw new PodsException("cannot delete the state file " + f, e);
    }
  }

  @Override
  public synchronized List<Entry> all() {
    List<Entry> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path p : ds) {
        out.add(new Entry(p.toString(), Files.readAllBytes(p)));
      }
    } catch (IOException e) {
      throw new PodsException("cannot read the state folder " + dir, e);
    }
    return out;
  }

  /** Makes a rename or deletion in {@code dir} durable. */
  private static void syncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems cannot open a folder; the rename is still atomic there
    }
  }
}
