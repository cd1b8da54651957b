package dev.pods.imds;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Warnings about what a guest did wrong, at most one per kind per {@link #PERIOD_NANOS}: a hostile guest that
 * floods its metadata service must not flood the host's log as well. The warnings held back are counted and
 * named in the next one of the same kind. Thread-safe; never blocks beyond the logger's own cost.
 */
final class RateLimitedLog {
  /** The least time between two warnings of one kind: 10 s. */
  static final long PERIOD_NANOS = 10_000_000_000L;

  private final Logger log;
  private final String instance;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  private static final class Window {
    volatile long last = Long.MIN_VALUE;
    final AtomicLong held = new AtomicLong();
  }

  RateLimitedLog(Logger log, String instance) {
    this.log = log;
    this.instance = instance;
  }

  /**
   * Logs {@code message} at WARN unless a warning of the same {@code kind} was logged within the period.
   *
   * @return whether it was logged
   */
  boolean warn(String kind, String message) {
    Window w = windows.computeIfAbsent(kind, k -> new Window());
    long now = System.nanoTime();
    synchronized (w) {
      if (w.last != Long.MIN_VALUE && now - w.last < PERIOD_NANOS) {
        w.held.incrementAndGet();
        return false;
      }
      w.last = now;
    }
    long held = w.held.getAndSet(0);
    if (held > 0) {
      log.warn("IMDS {}: {} ({} more like it in the last {} s)", instance, message, held, PERIOD_NANOS / 1_000_000_000L);
    } else {
      log.warn("IMDS {}: {}", instance, message);
    }
    return true;
  }
}
