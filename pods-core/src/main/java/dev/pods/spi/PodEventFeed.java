package dev.pods.spi;

import dev.pods.PodEvent;
import dev.pods.PodEvents;
import java.time.Clock;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The events of one deployment as {@link PodEvents} promises them, for runtimes (the local one, pods-etcd's cluster
 * client), on the JDK's {@link SubmissionPublisher}: every subscriber has its own bounded
 * buffer ({@link PodEvents#QUEUE_CAPACITY}), publishing never waits for a subscriber (what does not fit is dropped
 * and counted per subscriber, then told in a {@link PodEvent.EventsDropped}), and a slow subscriber holds one
 * delivery thread only, so it delays nobody else.
 *
 * <p>Thread-safe: {@link #publish} and {@link #close} from any thread, never blocking; subscribers are called on
 * shared daemon threads {@code pods-events-N}. The runtime that made the feed closes it.
 *
 * @since 0.2
 */
public final class PodEventFeed implements PodEvents {
  private static final Logger LOG = LoggerFactory.getLogger(PodEventFeed.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  /**
   * Delivery threads shared by every feed: a thread delivers while one subscriber has events waiting, then returns
   * to the pool; idle threads end after 10 s. Unbounded, so that a subscriber that blocks never starves another.
   */
  private static final ExecutorService DELIVERY =
      new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "pods-events-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
      });

  private final Clock clock;
  private final SubmissionPublisher<PodEvent> publisher = new SubmissionPublisher<>(DELIVERY, QUEUE_CAPACITY);
  private final Set<Sub> subs = ConcurrentHashMap.newKeySet();

  /** An open feed; {@code clock} dates the {@link PodEvent.EventsDropped} it tells. */
  public PodEventFeed(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Subscription subscribe(Consumer<? super PodEvent> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    if (publisher.isClosed()) {
      return () -> {};
    }
    Sub s = new Sub(subscriber);
    subs.add(s);
    publisher.subscribe(s); // after a concurrent close: completed at once, delivers nothing
    return s;
  }

  /** Offers the event to every subscriber; never blocks: a subscriber whose buffer is full loses it (counted). */
  public void publish(PodEvent e) {
    if (publisher.isClosed()) {
      return;
    }
    try {
      publisher.offer(e, (sub, lost) -> {
        ((Sub) sub).dropped.incrementAndGet();
        return false;
      });
    } catch (IllegalStateException closedMeanwhile) {
      LOG.debug("event {} published after the feed closed", e);
    }
  }

  /** Ends every subscription: nothing more is delivered, not even what is buffered. Idempotent. */
  public void close() {
    subs.forEach(Sub::close);
    publisher.close();
  }

  private final class Sub implements Subscription, Flow.Subscriber<PodEvent> {
    final Consumer<? super PodEvent> subscriber;
    final AtomicLong dropped = new AtomicLong();
    volatile Flow.@Nullable Subscription flow;
    volatile boolean done;

    Sub(Consumer<? super PodEvent> subscriber) {
      this.subscriber = subscriber;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      flow = s;
      if (done) {
        s.cancel();
      } else {
        s.request(Long.MAX_VALUE);
      }
    }

    @Override
    public void onNext(PodEvent e) {
      if (done) {
        return;
      }
      deliver(e);
      long d = dropped.getAndSet(0);
      if (d > 0 && !done) {
        deliver(new PodEvent.EventsDropped("*", clock.instant(), d));
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
    public void onError(Throwable t) {
      LOG.warn("event subscription ended by a failure", t);
    }

    @Override
    public void onComplete() {
      done = true;
    }

    @Override
    public void close() {
      done = true;
      subs.remove(this);
      Flow.Subscription s = flow;
      if (s != null) {
        s.cancel();
      }
    }
  }
}
