package dev.pods;

/**
 * The life of one instance as the runtime sees it. The order of the constants is the normal order of a successful
 * start; {@link #FAILED} and {@link #DESTROYED} are final.
 *
 * @since 0.1
 */
public enum InstanceState {
  /** Scheduled: addresses allocated, nothing built yet. */
  PENDING,
  /** Its network, files, domain and metadata service are being built. */
  CREATING,
  /**
   * The domain was started and the agent has not started the initial phase yet; or the instance was restarted
   * ({@link Instance#restart()}, or a reboot of the guest's own) and its new boot's run has not finished yet.
   */
  BOOTING,
  /** The agent runs the initial phase (every block, on the first boot). */
  INITIALIZING,
  /** The initial phase finished successfully (and, after a restart, the new boot's run too). */
  READY,
  /**
   * Creating the instance failed (what was built is removed), or its initial phase or a later boot's run failed
   * (the VM is kept).
   */
  FAILED,
  /** Removed by {@link Deployment#destroy()}. */
  DESTROYED
}
