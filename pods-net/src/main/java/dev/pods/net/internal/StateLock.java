package dev.pods.net.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A lock that excludes both other threads of this JVM and other processes: a {@link ReentrantLock} per lock file
 * (a {@link FileLock} alone throws on overlap inside one JVM) plus an exclusive {@code flock}-style lock on the file.
 * The lock file is created when missing and never deleted while in use. Reentrant for the holding thread.
 */
public final class StateLock {
  private static final ConcurrentHashMap<Path, ReentrantLock> LOCAL = new ConcurrentHashMap<>();
  private static final ThreadLocal<java.util.Map<Path, Integer>> DEPTH =
      ThreadLocal.withInitial(java.util.HashMap::new);

  private StateLock() {}

  /** Work done under the lock. */
  @FunctionalInterface
  public interface Work<T> {
    /** Runs the work. */
    T run() throws Exception;
  }

  /** Runs {@code work} holding the lock of {@code lockFile}, blocking until it is free. */
  public static <T> T with(Path lockFile, Work<T> work) throws Exception {
    Path key = lockFile.toAbsolutePath().normalize();
    ReentrantLock local = LOCAL.computeIfAbsent(key, k -> new ReentrantLock());
    local.lock();
    java.util.Map<Path, Integer> depth = DEPTH.get();
    try {
      if (depth.getOrDefault(key, 0) > 0) {
        depth.merge(key, 1, Integer::sum);
        try {
          return work.run();
        } finally {
          depth.merge(key, -1, Integer::sum);
        }
      }
      Files.createDirectories(key.getParent());
      try (FileChannel ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = ch.lock();
        depth.put(key, 1);
        try {
          return work.run();
        } finally {
          depth.remove(key);
          lock.release();
        }
      }
    } finally {
      local.unlock();
    }
  }
}
