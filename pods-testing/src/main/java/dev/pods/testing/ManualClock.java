package dev.pods.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * A {@link Clock} that stands still until a test moves it: for fast tests of what the runtime does after a time
 * (liveness timeouts, restart back-off) without sleeping. Thread-safe; its zone is UTC.
 */
public final class ManualClock extends Clock {
  private volatile Instant now;

  /** A clock at {@code start}. */
  public ManualClock(Instant start) {
    this.now = Objects.requireNonNull(start, "start");
  }

  /** Moves the clock forward by {@code d} (not negative). */
  public synchronized void advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("a clock does not go back: " + d);
    }
    now = now.plus(d);
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /** This clock (it has one zone). */
  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
