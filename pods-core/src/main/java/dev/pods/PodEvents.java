package dev.pods;

import java.util.function.Consumer;

/**
 * The event feed of one {@link Deployment}.
 *
 * <p>Thread-safe. Subscribers are called on an event thread ({@code pods-events-N}), one event at a time per
 * subscriber, in the order the runtime saw them, never on a runtime or metadata-service thread: a slow subscriber
 * cannot stall the runtime, the guests or another subscriber. Each subscriber has a bounded queue
 * ({@value #QUEUE_CAPACITY} events); when it is full, further events for that subscriber are dropped, and the
 * subscriber is told how many in a {@link PodEvent.EventsDropped} as soon as it returns from the event it is
 * handling. Exceptions thrown by a subscriber are logged and ignored. A subscriber sees
 * only events that happen after it subscribed.
 *
 * @since 0.1
 */
public interface PodEvents {

  /**
   * How many events wait for one slow subscriber before further ones are dropped (a power of two, as the buffers of
   * {@link java.util.concurrent.SubmissionPublisher} are).
   */
  int QUEUE_CAPACITY = 16_384;

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
