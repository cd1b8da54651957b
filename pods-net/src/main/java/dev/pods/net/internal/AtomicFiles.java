package dev.pods.net.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Crash-safe small files: write to a temporary file in the same directory, fsync it, rename it over the target and
 * fsync the directory, so a reader sees the old content or the new one, never a mix, even after a power cut.
 * Stateless and thread-safe.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Replaces {@code target} with {@code content} atomically and durably. */
  public static void write(Path target, byte[] content) throws IOException {
    write(target, content, true);
  }

  /**
   * Replaces {@code target} with {@code content} atomically; with {@code durable} also fsyncs the file and the
   * directory. Without, a crash of the process is still safe (readers see old or new content), a power cut is not:
   * fit for state that describes things which do not survive a reboot anyway (namespaces, links, processes).
   */
  public static void write(Path target, byte[] content, boolean durable) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        if (durable) {
          ch.force(true);
        }
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + dir + " cannot rename atomically", e);
      }
      if (durable) {
        fsyncDirectory(dir);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Flushes a directory's entries (a rename or delete in it) to disk. */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** Deletes a directory tree if it exists; does not follow symbolic links. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
