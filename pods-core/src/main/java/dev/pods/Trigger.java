package dev.pods;

/**
 * Why the guest agent runs scripts: which of a unit's {@link Phase phase} blocks run is decided by the trigger.
 *
 * <p>Phases are cumulative: a first boot runs every block in document order, a later boot runs the
 * {@code reboot} and {@code reload} blocks, a cluster change runs the {@code reload} blocks only.
 */
public enum Trigger {
  /** The instance boots for the first time: every block runs, in document order. */
  FIRST_BOOT,
  /** The instance boots again (restart, host reboot): {@code reboot} and {@code reload} blocks run. */
  REBOOT,
  /**
   * The cluster state changed (peers added or removed, addresses, health, secrets, a new template version):
   * {@code reload} blocks run.
   */
  CLUSTER_CHANGE
}
