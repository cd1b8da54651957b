package dev.pods;

import java.time.Duration;

/**
 * A phase did not finish in time: its message names the instances that were not done and ends with their last
 * output lines.
 *
 * @since 0.1
 */
public class PhaseTimeoutException extends PodsException {
  private static final long serialVersionUID = 1L;

  private final Phase phase;
  private final Duration elapsed;

  /** A timeout of {@code phase} after {@code elapsed}. */
  public PhaseTimeoutException(Phase phase, Duration elapsed, String message) {
    super(message);
    this.phase = phase;
    this.elapsed = elapsed;
  }

  /** The phase that did not finish. */
  public Phase phase() {
    return phase;
  }

  /** How long the caller waited. */
  public Duration elapsed() {
    return elapsed;
  }
}
