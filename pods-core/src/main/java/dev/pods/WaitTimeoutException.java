package dev.pods;

import java.time.Duration;
import java.util.Objects;

/**
 * A {@link Wait} did not hold in time: its message names the instances it did not hold for, what was waited for,
 * each one's state, and ends with their last output lines (or console lines when the agent reported nothing).
 *
 * @since 0.1
 */
public class WaitTimeoutException extends PodsException {
  private static final long serialVersionUID = 1L;

  private final transient Wait condition;
  private final Duration elapsed;

  /** A timeout of {@code condition} after {@code elapsed}. */
  public WaitTimeoutException(Wait condition, Duration elapsed, String message) {
    super(message);
    this.condition = Objects.requireNonNull(condition, "condition");
    this.elapsed = Objects.requireNonNull(elapsed, "elapsed");
  }

  /** What was waited for. */
  public Wait condition() {
    return condition;
  }

  /** How long the caller waited. */
  public Duration elapsed() {
    return elapsed;
  }
}
