package dev.pods;

/**
 * The life of one instance as the runtime sees it. The order of the constants is the normal order of a successful
 * start, then the states of a running instance that lost its health or its domain; {@link #FAILED} and
 * {@link #DESTROYED} are final. {@link Instance#status()} tells why and since when an instance is in its state.
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
   * The domain runs but its guest has not contacted its metadata service for longer than the unit's
   * {@linkplain Unit#livenessTimeout() liveness timeout} (a frozen emulator, a hung kernel, a dead agent), or one
   * of its unit's {@linkplain Unit#readinessChecks() readiness checks} fails (or, under {@code restart: never}, a
   * {@linkplain Unit#livenessChecks() liveness check}). Peers no longer list it. It becomes {@link #READY} again as
   * soon as none of this holds. A guest silent for twice its liveness timeout, or a failed liveness check, under
   * {@code restart: always} or {@code on-failure} is a failure: its domain is powered off ({@link #STOPPED}) and the
   * restart policy starts it again.
   */
  UNHEALTHY,
  /**
   * The instance was up and its domain is no longer running: it was stopped by {@link Instance#stop()}, destroyed
   * or stopped behind the runtime's back, its emulator died, or the guest powered itself off. Peers no longer list
   * it; {@link Instance#status()} says what happened and when, and whether and when the unit's
   * {@linkplain Unit#restart() restart policy} starts it again (the same domain, disk, addresses and token: its
   * {@code reboot} and {@code reload} blocks run, then it is {@link #READY} again).
   */
  STOPPED,
  /**
   * Creating the instance failed (what was built is removed), or its initial phase or a later boot's run failed
   * (the VM is kept).
   */
  FAILED,
  /** Removed by {@link Deployment#destroy()}. */
  DESTROYED
}
