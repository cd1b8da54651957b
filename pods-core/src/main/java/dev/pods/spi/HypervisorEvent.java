package dev.pods.spi;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Something that happened to a domain, or to the connection to the hypervisor.
 *
 * <p>Immutable. Events of one domain arrive in the order the hypervisor reports them; a backend may deliver
 * them on its own thread, after the call that caused them has returned.
 *
 * @param type what happened
 * @param domain the domain concerned, or {@code null} for connection events
 * @param at when the backend observed it
 * @param detail the backend's own detail (e.g. libvirt's {@code DESTROYED}), possibly empty
 */
public record HypervisorEvent(Type type, @Nullable String domain, Instant at, String detail) {
  /** Kinds of events. */
  public enum Type {
    /** A domain was defined or its definition updated. */
    DEFINED,
    /** A domain was removed. */
    UNDEFINED,
    /** A domain started. */
    STARTED,
    /**
     * A domain stopped (any reason). The detail tells which, in libvirt's words, which the runtime relies on:
     * {@code SHUTDOWN} (the guest powered itself off, or a graceful stop), {@code DESTROYED} (powered off from
     * outside), {@code CRASHED} (the guest crashed), {@code FAILED} (the emulator process died); others are
     * possible.
     */
    STOPPED,
    /** The guest was reset or rebooted without the domain stopping. */
    REBOOTED,
    /** The domain was paused. */
    SUSPENDED,
    /** The domain was resumed after a pause. */
    RESUMED,
    /** The guest began shutting down. */
    SHUTTING_DOWN,
    /** The guest crashed. */
    CRASHED,
    /** The connection to the hypervisor was lost; the backend reconnects by itself. */
    CONNECTION_LOST,
    /** The connection was re-established after a loss. */
    RECONNECTED
  }

  /** Validates: no nulls except {@code domain}. */
  public HypervisorEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(detail, "detail");
  }
}
