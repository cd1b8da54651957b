package dev.pods.net.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Finds and ends the processes inside a network namespace, recognised by the namespace's inode in
 * {@code /proc/<pid>/ns/net}. Only processes in that namespace are touched, never the JVM itself. Stateless.
 */
public final class Processes {
  private Processes() {}

  /** The pids of the processes whose network namespace has inode {@code nsInode}. */
  public static List<Long> inNamespace(long nsInode) throws IOException {
    String want = "net:[" + nsInode + "]";
    long self = ProcessHandle.current().pid();
    List<Long> out = new ArrayList<>();
    try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : proc) {
        long pid;
        try {
          pid = Long.parseLong(p.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        if (pid == self) {
          continue;
        }
        try {
          if (Files.readSymbolicLink(p.resolve("ns/net")).toString().equals(want)) {
            out.add(pid);
          }
        } catch (IOException e) {
          // gone meanwhile, a zombie, or not ours to read: in each case not a process to end
        }
      }
    }
    return out;
  }

  /** The C function used to signal; loaded on first use. */
  interface Signals extends com.sun.jna.Library {
    int kill(int pid, int sig) throws com.sun.jna.LastErrorException;
  }

  private static final class Holder {
    static final Signals C = com.sun.jna.Native.load("c", Signals.class);
  }

  private static final int SIGHUP = 1;

  /**
   * Sends SIGHUP to {@code pid} (dnsmasq then re-reads its hosts files and clears its cache, keeping its leases
   * and sockets).
   *
   * @throws IOException when the signal cannot be sent (no such process, or not permitted)
   */
  public static void hangUp(long pid) throws IOException {
    try {
      Holder.C.kill(Math.toIntExact(pid), SIGHUP);
    } catch (com.sun.jna.LastErrorException e) {
      throw new IOException("cannot send SIGHUP to process " + pid + " (errno " + e.getErrorCode() + ")", e);
    }
  }

  /** Whether {@code pid} is alive and inside the namespace of inode {@code nsInode}. */
  public static boolean aliveIn(long pid, long nsInode) {
    try {
      return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString()
          .equals("net:[" + nsInode + "]");
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Ends the given processes: SIGTERM, then SIGKILL for those still alive after {@code grace}; returns once all
   * are gone (or after a further second).
   */
  public static void end(List<Long> pids, Duration grace) throws InterruptedException {
    List<ProcessHandle> hs = new ArrayList<>();
    for (long pid : pids) {
      Optional<ProcessHandle> h = ProcessHandle.of(pid);
      h.ifPresent(p -> {
        p.destroy();
        hs.add(p);
      });
    }
    long deadline = System.nanoTime() + grace.toNanos();
    for (ProcessHandle h : hs) {
      long left = deadline - System.nanoTime();
      try {
        h.onExit().get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        h.destroyForcibly();
      }
    }
    for (ProcessHandle h : hs) {
      try {
        h.onExit().get(1, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        // a process in uninterruptible sleep; the namespace is removed anyway and dies with it
      }
    }
  }
}
