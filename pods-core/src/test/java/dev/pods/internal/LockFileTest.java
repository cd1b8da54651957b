package dev.pods.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockFileTest {
  @TempDir Path dir;

  /** Exit status of {@link #main} when the lock file is held by another process. */
  private static final int BUSY = 3;

  /** Run in a child JVM: tries the lock file once, exits 0 when it got it, {@link #BUSY} when it is held. */
  public static void main(String[] args) throws IOException {
    try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock l = ch.tryLock();
      System.exit(l == null ? BUSY : 0);
    }
  }

  private static int probe(Path lockFile) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockFileTest.class.getName(),
        lockFile.toString()).inheritIO().start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("probe process ended").isTrue();
    return p.exitValue();
  }

  @Test
  void anotherProcessFindsTheFileLockedWhileTheWorkRunsAndFreeAfterwards() throws Exception {
    Path f = dir.resolve("sub/folder/state.lock");

    int inside = LockFile.with(f, () -> probe(f));

    assertThat(inside).isEqualTo(BUSY);
    assertThat(probe(f)).isZero();
    assertThat(f).exists();
  }

  @Test
  void threadsOfOneProcessTakeTurns() throws Exception {
    Path f = dir.resolve("turns.lock");
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < 200; i++) {
            LockFile.with(f, () -> {
              most.accumulateAndGet(inside.incrementAndGet(), Math::max);
              runs.incrementAndGet();
              inside.decrementAndGet();
              return null;
            });
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> d : done) {
        d.get(60, TimeUnit.SECONDS); // an OverlappingFileLockException would surface here
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(runs.get()).isEqualTo(800);
    assertThat(most.get()).isEqualTo(1);
  }

  @Test
  void theHolderMayTakeTheLockAgain() throws Exception {
    Path f = dir.resolve("again.lock");

    String r = LockFile.with(f, () -> LockFile.with(f, () -> "nested") + "/" + probe(f));

    assertThat(r).isEqualTo("nested/" + BUSY);
    assertThat(probe(f)).as("released once the outer work ended").isZero();
  }

  @Test
  void whatTheWorkThrowsReachesTheCallerAndTheLockIsReleased() throws Exception {
    Path f = dir.resolve("fail.lock");

    assertThatThrownBy(() -> LockFile.with(f, () -> {
      throw new IOException("disk full");
    })).isInstanceOf(IOException.class).hasMessage("disk full");

    assertThat(probe(f)).isZero();
    assertThat(Files.isRegularFile(f)).isTrue();
  }
}
