package dev.pods.net.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * Network namespaces through libc: running work on a platform thread that has joined a namespace ({@code setns}),
 * and creating or removing a named namespace the way {@code ip netns add/del} does (a bind mount under
 * {@code /run/netns}). Sockets created and processes started by such work belong to the namespace.
 *
 * <p>Each {@link #call} uses a fresh daemon platform thread named {@code pods-netns-N} that ends with the work, so
 * no thread stays in a namespace (a thread in a namespace would keep it alive) and no virtual thread ever joins
 * one. Thread-safe; {@link #call} blocks until the work ends.
 */
public final class Netns {
  /** Where iproute2 keeps named namespaces. */
  public static final Path RUN_NETNS = Path.of("/run/netns");

  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int MS_BIND = 0x1000;
  private static final int MNT_DETACH = 2;
  private static final AtomicInteger THREADS = new AtomicInteger();

  private Netns() {}

  /** The C functions used; loaded on first use. */
  interface LibC extends Library {
    int open(String path, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int setns(int fd, int nstype) throws LastErrorException;

    int unshare(int flags) throws LastErrorException;

    int mount(String source, String target, @Nullable String type, NativeLong flags, @Nullable Pointer data)
        throws LastErrorException;

    int umount2(String target, int flags) throws LastErrorException;
  }

  private static final class Holder {
    static final LibC C = Native.load("c", LibC.class);
  }

  /** The path of a named namespace. */
  public static Path path(String name) {
    return RUN_NETNS.resolve(name);
  }

  /** Whether a named namespace exists. */
  public static boolean exists(String name) {
    return Files.exists(path(name));
  }

  /**
   * Runs {@code work} on a new platform thread inside the namespace at {@code nsPath} (null: the JVM's own
   * namespace, on the calling thread) and returns its result.
   *
   * @throws IOException when the namespace cannot be joined
   * @throws Exception whatever the work throws
   */
  public static <T> T call(@Nullable Path nsPath, Callable<T> work) throws Exception {
    if (nsPath == null) {
      return work.call();
    }
    AtomicReference<T> result = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t = new Thread(() -> {
      try {
        join(nsPath);
        result.set(work.call());
      } catch (Throwable e) {
        failure.set(e);
      }
    }, "pods-netns-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      // the work cannot be abandoned half-way in another namespace: wait for it, then report the interrupt
      t.join();
      Thread.currentThread().interrupt();
    }
    Throwable f = failure.get();
    if (f instanceof Exception e) {
      throw e;
    }
    if (f instanceof Error e) {
      throw e;
    }
    return result.get();
  }

  private static void join(Path nsPath) throws IOException {
    int fd;
    try {
      fd = Holder.C.open(nsPath.toString(), O_RDONLY | O_CLOEXEC);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == 2) {
        throw new NoSuchFileException(nsPath.toString(), null, "no such network namespace");
      }
      throw new IOException("open " + nsPath + " failed: errno " + e.getErrorCode(), e);
    }
    try {
      Holder.C.setns(fd, CLONE_NEWNET);
    } catch (LastErrorException e) {
      throw new IOException("setns " + nsPath + " failed: errno " + e.getErrorCode(), e);
    } finally {
      Holder.C.close(fd);
    }
  }

  /**
   * Creates the named namespace like {@code ip netns add}: an empty file under {@code /run/netns} on which a new
   * namespace is bind-mounted. Fails when the name exists.
   *
   * @throws IOException when {@code /run/netns} is not a usable mount point or a call fails
   */
  public static void add(String name) throws IOException {
    Path p = path(name);
    Files.createFile(p);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread worker = new Thread(() -> {
      try {
        Holder.C.unshare(CLONE_NEWNET);
        Holder.C.mount("/proc/thread-self/ns/net", p.toString(), "none", new NativeLong(MS_BIND), null);
      } catch (Throwable e) {
        failure.set(e);
      }
    }, "pods-netns-add-" + THREADS.incrementAndGet());
    worker.setDaemon(true);
    worker.start();
    boolean interrupted = false;
    while (true) {
      try {
        worker.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable f = failure.get();
    if (f != null) {
      Files.deleteIfExists(p);
      String errno = f instanceof LastErrorException l ? " (errno " + l.getErrorCode() + ")" : "";
      throw new IOException("create network namespace " + name + " failed" + errno, f);
    }
  }

  /**
   * Whether {@code /run/netns} is a mount point, which {@link #add} needs (iproute2 sets it up on its first
   * {@code ip netns add}).
   */
  public static boolean runNetnsMounted() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].equals(RUN_NETNS.toString())) {
        return true;
      }
    }
    return false;
  }

  /** Removes the named namespace like {@code ip netns del}. Does nothing when it does not exist. */
  public static void delete(String name) throws IOException {
    Path p = path(name);
    if (!Files.exists(p)) {
      return;
    }
    try {
      Holder.C.umount2(p.toString(), MNT_DETACH);
    } catch (LastErrorException e) {
      if (e.getErrorCode() != 22) { // EINVAL: not mounted (a leftover empty file)
        throw new IOException("umount " + p + " failed: errno " + e.getErrorCode(), e);
      }
    }
    Files.deleteIfExists(p);
  }

  /** The inode of a named namespace, which is how processes inside it are recognised. */
  public static long inode(String name) throws IOException {
    return ((Number) Files.getAttribute(path(name), "unix:ino")).longValue();
  }
}
