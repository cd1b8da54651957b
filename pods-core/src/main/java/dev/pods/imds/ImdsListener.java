package dev.pods.imds;

/**
 * Receives the {@link AgentEvent}s of one {@link ImdsServer}.
 *
 * <p>Called on the server's single event thread ({@code pods-imds-events-N}), one event at a time, in the order
 * the server received them; never on a thread that serves HTTP, so a slow listener cannot stall the agent. It
 * must still return quickly: the queue holds {@link ImdsServer#EVENT_QUEUE_CAPACITY} events and, when full,
 * further events are dropped and counted in an {@link AgentEvent.EventsDropped}. Exceptions thrown by the
 * listener are logged and otherwise ignored.
 */
@FunctionalInterface
public interface ImdsListener {

  /** Handles one event; must return quickly. */
  void onEvent(AgentEvent event);

  /** A listener that ignores every event. */
  static ImdsListener none() {
    return e -> {};
  }
}
