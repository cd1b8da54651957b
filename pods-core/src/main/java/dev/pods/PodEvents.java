package dev.pods;

import java.util.function.Consumer;

/**
 * The event feed of one {@link Deployment}.
 *
 * <p>Thread-safe. Subscribers are called on the deployment's own event thread ({@code pods-events-N}), one event
 * at a time, in the order the runtime saw them, never on a runtime or metadata-service thread: a slow subscriber
 * cannot stall the runtime or the guests. Each subscriber has a bounded queue ({@value #QUEUE_CAPACITY} events);
 * when it is full, further events for that subscriber are dropped and counted in a
 * {@link PodEvent.EventsDropped}. Exceptions thrown by a subscriber are logged and ignored. A subscriber sees
 * only events that happen after it subscribed.
 *
 * @since 0.1
 */
public interface PodEvents {

  /** How many events wait for one slow subscriber before further ones are dropped. */
  int QUEUE_CAPACITY = 10_000;

  /**
   * Subscribes; never blocks.
   *
   * @return the subscription; closing it unsubscribes
   */
  Subscription subscribe(Consumer<? super PodEvent> subscriber);

  /** A subscription; {@link #close()} is idempotent and never throws. */
  interface Subscription extends AutoCloseable {
    /** Unsubscribes: no event is delivered after this returns, except one being delivered right now. */
    @Override
    void close();
  }
}
