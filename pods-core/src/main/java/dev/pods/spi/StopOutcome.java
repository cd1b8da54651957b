package dev.pods.spi;

/** How {@link Hypervisor#stop(String, java.time.Duration)} ended. */
public enum StopOutcome {
  /** The domain was not running (or is gone): nothing was done. */
  ALREADY_STOPPED,
  /** The guest powered off by itself within the grace period after a graceful (ACPI) request. */
  GRACEFUL,
  /** The grace period ran out (or the guest cannot be asked), so the domain was powered off forcibly. */
  FORCED
}
