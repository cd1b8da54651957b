package dev.pods.net.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads, every period, each instance's counter of metadata connections refused over the cap
 * ({@value Programs#IMDS_REFUSED_COUNTER}) and logs a WARN for each instance whose count rose
 * ({@link ImdsRefusals}): the kernel refuses, this names the guest, once per period at most. One daemon thread
 * {@code pods-net-watch-N}, started by the constructor and ended by {@link #close()}; thread-safe.
 */
public final class ImdsRefusalWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ImdsRefusalWatch.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Supplier<? extends Collection<String>> instances;
  private final ToLongFunction<String> read;
  private final ImdsRefusals refusals = new ImdsRefusals();
  private final ReentrantLock lock = new ReentrantLock();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "pods-net-watch-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  /**
   * Starts watching.
   *
   * @param instances the ids of the instances to read, asked each period
   * @param read an instance's count (may throw: that instance is skipped this period)
   */
  public ImdsRefusalWatch(Supplier<? extends Collection<String>> instances, ToLongFunction<String> read,
      Duration period) {
    this.instances = instances;
    this.read = read;
    timer.scheduleWithFixedDelay(() -> {
      try {
        poll();
      } catch (RuntimeException e) {
        LOG.debug("reading the refused metadata connections failed", e);
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Reads every instance's count now and logs a WARN for each that rose; blocks while it reads. */
  public List<String> poll() {
    lock.lock();
    try {
      List<String> out = new ArrayList<>();
      Collection<String> ids = new HashSet<>(instances.get());
      for (String id : ids) {
        long count;
        try {
          count = read.applyAsLong(id);
        } catch (RuntimeException e) {
          LOG.debug("instance {}: cannot read its refused metadata connections", id, e);
          continue;
        }
        refusals.observe(id, count).ifPresent(w -> {
          LOG.warn("{}", w);
          out.add(w);
        });
      }
      refusals.retain(new HashSet<>(ids));
      return out;
    } finally {
      lock.unlock();
    }
  }

  /** Stops the thread. Idempotent. */
  @Override
  public void close() {
    timer.shutdownNow();
  }
}
