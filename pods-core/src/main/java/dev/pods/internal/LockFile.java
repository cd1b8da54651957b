package dev.pods.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Work done while holding a lock file, excluding other threads of this JVM and other processes alike: a
 * {@link ReentrantLock} per lock file (a {@link FileLock} alone throws {@code OverlappingFileLockException} when two
 * threads of one JVM take it) plus an exclusive {@link FileLock} on the file, which the kernel drops when the
 * process dies. Reentrant: a thread that holds the lock and asks again runs its work at once. The lock file (and
 * its folder) is created when missing and never deleted. Not API: may change without notice.
 *
 * <p>Used by the IP pools, the network driver's VPC bookkeeping and the KVM image caches. The runtime's state-folder
 * lock ({@code runtime.lock}) is different and is not taken here: it is held for the runtime's whole life rather than
 * around one piece of work, and a second runtime fails at once, naming the holder's pid, rather than waiting.
 *
 * <p>Thread-safe. {@link #with} blocks until the lock is free, for as long as the holder keeps it.
 */
public final class LockFile {
  private static final ConcurrentHashMap<Path, ReentrantLock> LOCAL = new ConcurrentHashMap<>();

  private LockFile() {}

  /**
   * Work done under the lock.
   *
   * @param <T> what the work returns
   * @param <E> what the work throws
   */
  @FunctionalInterface
  public interface Work<T, E extends Exception> {
    /**
     * Runs the work.
     *
     * @return the work's result
     * @throws E when the work fails
     */
    T run() throws E;
  }

  /**
   * Runs {@code work} holding the lock of {@code lockFile}, blocking until it is free; the lock is released when
   * the work returns or throws.
   *
   * @param lockFile the lock file, created (with its folder) when missing
   * @param work what to do under the lock
   * @param <T> what the work returns
   * @param <E> what the work throws
   * @return what the work returned
   * @throws IOException when the lock file cannot be created, opened or locked (the work did not run)
   * @throws E what the work threw
   */
  public static <T, E extends Exception> T with(Path lockFile, Work<T, E> work) throws IOException, E {
    Path key = lockFile.toAbsolutePath().normalize();
    ReentrantLock local = LOCAL.computeIfAbsent(key, k -> new ReentrantLock());
    local.lock();
    try {
      if (local.getHoldCount() > 1) {
        return work.run(); // this thread holds the file lock already, further up its stack
      }
      Path parent = key.getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (FileChannel ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock held = ch.lock();
        try {
          return work.run();
        } finally {
          held.release();
        }
      }
    } finally {
      local.unlock();
    }
  }
}
