package dev.pods.etcd;

import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one directory of the cluster's keys: runs a refresh (which reads the directory) once at the start and again
 * after every change under it, changes close together coalesced into one refresh, one refresh at a time on a daemon
 * thread of its own. A refresh that fails is logged and run again after {@link #RETRY_MILLIS}, so nothing a change
 * asked for is lost. Thread-safe; {@link #close()} stops it (idempotent) and waits for a refresh in progress.
 */
final class PrefixWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PrefixWatch.class);
  /** How long after a failed refresh it runs again. */
  static final long RETRY_MILLIS = 500;

  private final String what;
  private final Runnable refresh;
  private final ExecutorService thread;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Watch.Watcher watcher;

  private PrefixWatch(EtcdKeyspace space, String dir, String threadName, Runnable refresh) {
    this.what = space.prefix() + "/" + dir;
    this.refresh = refresh;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    this.watcher = space.client().getWatchClient().watch(space.key(dir), WatchOption.builder().isPrefix(true).build(),
        Watch.listener(r -> signal(), e -> {
          LOG.warn("watch of {} failed; reading it again", what, e);
          signal();
        }));
  }

  /** Starts following {@code dir} (relative to the keyspace, ending with '/'): {@code refresh} runs soon. */
  static PrefixWatch follow(EtcdKeyspace space, String dir, String threadName, Runnable refresh) {
    PrefixWatch w = new PrefixWatch(space, dir, threadName, refresh);
    w.signal();
    return w;
  }

  /** Asks for a refresh (coalesced with one already asked for). */
  void signal() {
    if (closed.get() || !pending.compareAndSet(false, true)) {
      return;
    }
    try {
      thread.execute(this::run);
    } catch (RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  private void run() {
    pending.set(false);
    if (closed.get()) {
      return;
    }
    try {
      refresh.run();
    } catch (RuntimeException e) {
      if (closed.get()) {
        return;
      }
      LOG.warn("reading {} failed; trying again in {} ms", what, RETRY_MILLIS, e);
      try {
        Thread.sleep(RETRY_MILLIS); // a backoff before the retry, not a wait for an event
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        return;
      }
      signal();
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    watcher.close();
    thread.shutdown();
    try {
      if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
