package dev.pods;

import java.util.Locale;

/**
 * Whether the runtime starts an instance again after its domain stopped without {@link Instance#stop()} being
 * called (see {@link InstanceState#STOPPED}). Restarts back off: the first comes {@link #FIRST_BACKOFF} after the
 * stop, each further one waits twice as long up to {@link #MAX_BACKOFF}; after {@link #BACKOFF_RESET} of
 * uninterrupted {@link InstanceState#READY} the next restart waits {@link #FIRST_BACKOFF} again. A stop asked for
 * with {@link Instance#stop()} is never undone by the runtime, whatever the policy.
 *
 * <p>In a template: {@code restart: always | on-failure | never} (default {@code always}, as KubeVirt's
 * {@code runStrategy: Always}).
 *
 * @since 0.1
 */
public enum RestartPolicy {
  /** Every stop is followed by a restart: a failure, and also a power-off the guest asked for itself. */
  ALWAYS,
  /**
   * Only a failure is followed by a restart: a domain destroyed behind the runtime's back, an emulator that died
   * and a crashed guest are; a guest that powered itself off (a clean shutdown) stays stopped.
   */
  ON_FAILURE,
  /** Nothing is restarted: a stopped instance stays {@link InstanceState#STOPPED} until {@link Instance#start()}. */
  NEVER;

  /** The delay before the first restart after a stop. */
  public static final java.time.Duration FIRST_BACKOFF = java.time.Duration.ofSeconds(10);
  /** The longest delay between restarts. */
  public static final java.time.Duration MAX_BACKOFF = java.time.Duration.ofMinutes(5);
  /** How long an instance must stay ready for the back-off to start again at {@link #FIRST_BACKOFF}. */
  public static final java.time.Duration BACKOFF_RESET = java.time.Duration.ofMinutes(10);

  /** The template's spelling: {@code always}, {@code on-failure} or {@code never}. */
  public String templateName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The policy of a template's spelling.
   *
   * @throws IllegalArgumentException naming the accepted values, for anything else
   */
  public static RestartPolicy fromTemplateName(String text) {
    for (RestartPolicy p : values()) {
      if (p.templateName().equals(text)) {
        return p;
      }
    }
    throw new IllegalArgumentException("restart is always, on-failure or never, not '" + text + "'");
  }
}
