package dev.pods.runtime;

import dev.pods.PodEvent;
import dev.pods.PodEvents;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The events of one deployment. Every subscriber has its own bounded queue and daemon thread, so that publishing
 * never blocks and a slow subscriber delays nobody else.
 */
final class EventFeed implements PodEvents {
  private static final Logger LOG = LoggerFactory.getLogger(EventFeed.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Clock clock;
  private final List<Sub> subs = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  EventFeed(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Subscription subscribe(Consumer<? super PodEvent> subscriber) {
    java.util.Objects.requireNonNull(subscriber, "subscriber");
    Sub s = new Sub(subscriber);
    if (closed.get()) {
      return () -> {};
    }
    subs.add(s);
    s.thread.start();
    return s;
  }

  /** Queues the event for every subscriber; never blocks. */
  void publish(PodEvent e) {
    for (Sub s : subs) {
      if (!s.queue.offer(e)) {
        s.dropped.incrementAndGet();
      }
    }
  }

  /** Ends every subscription (their threads deliver nothing more). Idempotent. */
  void close() {
    if (closed.compareAndSet(false, true)) {
      subs.forEach(Sub::close);
    }
  }

  private final class Sub implements Subscription, Runnable {
    final Consumer<? super PodEvent> subscriber;
    final BlockingQueue<PodEvent> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    final AtomicLong dropped = new AtomicLong();
    final Thread thread;
    volatile boolean done;

    Sub(Consumer<? super PodEvent> subscriber) {
      this.subscriber = subscriber;
      this.thread = new Thread(this, "pods-events-" + THREADS.incrementAndGet());
      thread.setDaemon(true);
    }

    @Override
    public void run() {
      try {
        while (!done) {
          PodEvent e = queue.poll(200, TimeUnit.MILLISECONDS);
          if (e != null && !done) {
            deliver(e);
          }
          long d = dropped.getAndSet(0);
          if (d > 0 && !done) {
            deliver(new PodEvent.EventsDropped("*", clock.instant(), d));
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void deliver(PodEvent e) {
      try {
        subscriber.accept(e);
      } catch (RuntimeException ex) {
        LOG.warn("event subscriber failed on {}", e, ex);
      }
    }

    @Override
    public void close() {
      done = true;
      subs.remove(this);
      if (Thread.currentThread() != thread) {
        thread.interrupt();
      }
    }
  }
}
