package dev.pods.imds;

import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands events to a listener in order, one at a time, on the JDK's {@link SubmissionPublisher}, so server threads
 * never wait for the listener. Delivery threads are shared by every instance's dispatcher: a thread delivers while
 * this listener has events waiting, then returns to the pool (idle threads end after 10 s), so an idle instance
 * holds no thread, and a listener that blocks holds one thread and delays no other instance.
 *
 * <p>What waits is bounded twice: by count (the capacity given) and by an estimate of the memory its events hold
 * ({@link #MAX_QUEUED_BYTES}), so a guest that prints long lines faster than the listener takes them cannot grow
 * the heap; what does not fit is dropped and counted, and the listener is told with an
 * {@link AgentEvent.EventsDropped} as soon as it returns from the event in hand. Thread-safe; {@link #publish} never blocks.
 */
final class EventDispatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventDispatcher.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  /** The most memory (estimated) that queued events of one instance hold. */
  static final long MAX_QUEUED_BYTES = 8L * 1024 * 1024;

  /** Delivery threads shared by every dispatcher; unbounded, so a listener that blocks never starves another. */
  private static final ExecutorService DELIVERY =
      new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "pods-imds-events-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
      });

  private final ImdsListener listener;
  private final String instance;
  private final Clock clock;
  private final int capacity;
  private final SubmissionPublisher<AgentEvent> publisher;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicInteger queued = new AtomicInteger();
  private final CountDownLatch drained = new CountDownLatch(1);
  private volatile boolean stopped;
  private final Object interruptLock = new Object();
  private @Nullable Thread delivering;

  EventDispatcher(ImdsListener listener, String instance, Clock clock, int capacity) {
    this.listener = listener;
    this.instance = instance;
    this.clock = clock;
    this.capacity = capacity;
    // the publisher's own buffer (a power of two at least this large) never binds before the count above does
    this.publisher = new SubmissionPublisher<>(DELIVERY, capacity);
    publisher.subscribe(new Delivery());
  }

  /** Queues an event; never blocks. Drops it (and counts) when the queue is full by count or by memory. */
  void publish(AgentEvent event) {
    long w = weight(event);
    if (publisher.isClosed() || queued.incrementAndGet() > capacity) {
      queued.decrementAndGet();
      dropped.incrementAndGet();
      return;
    }
    if (queuedBytes.addAndGet(w) > MAX_QUEUED_BYTES) {
      forget(w);
      dropped.incrementAndGet();
      return;
    }
    try {
      publisher.offer(event, (s, lost) -> {
        forget(w);
        dropped.incrementAndGet();
        return false;
      });
    } catch (IllegalStateException closedMeanwhile) {
      forget(w);
      dropped.incrementAndGet();
    }
  }

  private void forget(long weight) {
    queuedBytes.addAndGet(-weight);
    queued.decrementAndGet();
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

  /** The one subscriber: delivers each event, then tells of events dropped meanwhile. */
  private final class Delivery implements Flow.Subscriber<AgentEvent> {
    @Override
    public void onSubscribe(Flow.Subscription s) {
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(AgentEvent e) {
      if (!stopped) {
        deliver(e);
      }
      forget(weight(e));
      long d = dropped.getAndSet(0);
      if (d > 0 && !stopped) {
        deliver(new AgentEvent.EventsDropped(instance, clock.instant(), d));
      }
    }

    @Override
    public void onError(Throwable t) {
      LOG.warn("IMDS events of {} ended by a failure", instance, t);
      drained.countDown();
    }

    @Override
    public void onComplete() {
      drained.countDown();
    }
  }

  private void deliver(AgentEvent e) {
    synchronized (interruptLock) {
      delivering = Thread.currentThread();
    }
    try {
      listener.onEvent(e);
    } catch (RuntimeException ex) {
      LOG.warn("IMDS listener of {} failed on {}", instance, e, ex);
    } finally {
      synchronized (interruptLock) {
        delivering = null;
        if (stopped) {
          Thread.interrupted(); // an interrupt meant for this listener must not reach the pool's next task
        }
      }
    }
  }

  /**
   * Stops taking events; delivers what is queued for at most one second, then delivers nothing more and
   * interrupts a listener still busy. Idempotent; blocks at most one second.
   */
  @Override
  public void close() {
    if (publisher.isClosed()) {
      return;
    }
    publisher.close();
    try {
      drained.await(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (interruptLock) {
      stopped = true;
      Thread busy = delivering;
      if (busy != null) {
        busy.interrupt();
      }
    }
  }
}
