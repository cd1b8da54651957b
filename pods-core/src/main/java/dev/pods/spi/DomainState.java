package dev.pods.spi;

/** The observable state of a domain, as reported by {@link Hypervisor#state(String)}. */
public enum DomainState {
  /** No domain of that name is defined. */
  MISSING,
  /** Defined, not running. */
  SHUT_OFF,
  /** Running (the guest may still be booting). */
  RUNNING,
  /** Paused by the hypervisor or by a user. */
  PAUSED,
  /** The guest is shutting down after a graceful request. */
  SHUTTING_DOWN,
  /** The guest crashed and is not running. */
  CRASHED,
  /** Anything the backend reports that fits none of the above. */
  OTHER;

  /** Whether a domain in this state has a live guest (running, paused or shutting down). */
  public boolean isActive() {
    return this == RUNNING || this == PAUSED || this == SHUTTING_DOWN;
  }
}
