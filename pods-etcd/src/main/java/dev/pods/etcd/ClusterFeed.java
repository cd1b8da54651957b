package dev.pods.etcd;

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
 * The event feed of one pod of a cluster, as {@link PodEvents} promises it: each subscriber has its own bounded
 * buffer on a {@link SubmissionPublisher}; publishing never waits (what does not fit is counted and told in a
 * {@link PodEvent.EventsDropped}); subscribers are called on daemon threads {@code pods-cluster-events-N}.
 */
final class ClusterFeed implements PodEvents {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterFeed.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final ExecutorService DELIVERY =
      new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "pods-cluster-events-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
      });

  private final Clock clock;
  private final SubmissionPublisher<PodEvent> publisher = new SubmissionPublisher<>(DELIVERY, QUEUE_CAPACITY);
  private final Set<Sub> subs = ConcurrentHashMap.newKeySet();

  ClusterFeed(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Subscription subscribe(Consumer<? super PodEvent> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    Sub s = new Sub(subscriber);
    if (publisher.isClosed()) {
      return s;
    }
    subs.add(s);
    publisher.subscribe(s);
    return s;
  }

  /** Offers {@code e} to every subscriber; never blocks. */
  void publish(PodEvent e) {
    try {
      publisher.offer(e, (sub, lost) -> {
        ((Sub) sub).dropped.incrementAndGet();
        return false;
      });
    } catch (IllegalStateException closed) {
      LOG.debug("event {} after the feed closed", e);
    }
  }

  /** Ends every subscription. Idempotent. */
  void close() {
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
      Flow.Subscription f = flow;
      if (f != null) {
        f.cancel();
      }
    }
  }
}
