package dev.pods.imds;

import java.time.Clock;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands events to a listener on one daemon thread, so server threads never wait for the listener. The queue is
 * bounded twice: by count and by an estimate of the memory its events hold ({@link #MAX_QUEUED_BYTES}), so a
 * guest that prints long lines faster than the listener takes them cannot grow the heap; what does not fit is
 * dropped and counted ({@link AgentEvent.EventsDropped}).
 */
final class EventDispatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventDispatcher.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final BlockingQueue<AgentEvent> queue;
  private final ImdsListener listener;
  private final String instance;
  private final Clock clock;
  /** The most memory (estimated) that queued events of one instance hold. */
  static final long MAX_QUEUED_BYTES = 8L * 1024 * 1024;

  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final Thread thread;
  private volatile boolean closed;

  EventDispatcher(ImdsListener listener, String instance, Clock clock, int capacity) {
    this.listener = listener;
    this.instance = instance;
    this.clock = clock;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.thread = new Thread(this::loop, "pods-imds-events-" + THREADS.incrementAndGet());
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues an event; never blocks. Drops it (and counts) when the queue is full. */
  void publish(AgentEvent event) {
    long w = weight(event);
    if (closed || queuedBytes.addAndGet(w) > MAX_QUEUED_BYTES) {
      queuedBytes.addAndGet(-w);
      dropped.incrementAndGet();
      return;
    }
    if (!queue.offer(event)) {
      queuedBytes.addAndGet(-w);
      dropped.incrementAndGet();
    }
  }

  /** The estimated memory held by queued events. */
  long queuedBytes() {
    return queuedBytes.get();
  }

  /** A generous estimate of an event's footprint. */
  static long weight(AgentEvent e) {
    if (e instanceof AgentEvent.OutputLine l) {
      return 128 + 2L * l.line().length();
    }
    if (e instanceof AgentEvent.ExecFinished x) {
      return 256 + x.result().stdout().length + x.result().stderr().length;
    }
    return 256;
  }

  private void loop() {
    while (!closed || !queue.isEmpty()) {
      AgentEvent e;
      try {
        e = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        return;
      }
      long d = dropped.getAndSet(0);
      if (d > 0) {
        deliver(new AgentEvent.EventsDropped(instance, clock.instant(), d));
      }
      if (e != null) {
        queuedBytes.addAndGet(-weight(e));
        deliver(e);
      }
    }
  }

  private void deliver(AgentEvent e) {
    try {
      listener.onEvent(e);
    } catch (RuntimeException ex) {
      LOG.warn("IMDS listener of {} failed on {}", instance, e, ex);
    }
  }

  /** Stops taking events; delivers what is queued for at most one second. */
  @Override
  public void close() {
    closed = true;
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    thread.interrupt();
  }
}
