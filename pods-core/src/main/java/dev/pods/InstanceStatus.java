package dev.pods;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * An instance's state with why and since when: what {@link Instance#status()} returns. Immutable.
 *
 * @param state the state
 * @param since when the instance entered it (the runtime's clock)
 * @param reason what led there, in words (e.g. {@code "its domain was destroyed"}, {@code "no contact from its
 *     guest since 17:02:11"}); empty for the ordinary steps of a start
 * @param restartAt when a {@link InstanceState#STOPPED} instance will be started again by its unit's restart
 *     policy, or {@code null} when no restart is planned
 * @param attempt how many restarts the runtime made since the instance was last ready for
 *     {@link RestartPolicy#BACKOFF_RESET} (0 when none)
 * @since 0.1
 */
public record InstanceStatus(InstanceState state, Instant since, String reason, @Nullable Instant restartAt,
    int attempt) {
  /** Validates. */
  public InstanceStatus {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(since, "since");
    Objects.requireNonNull(reason, "reason");
  }

  /** {@link #restartAt}, as an optional. */
  public Optional<Instant> nextRestart() {
    return Optional.ofNullable(restartAt);
  }
}
