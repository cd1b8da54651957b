package dev.pods.runtime;

/**
 * Wakes the threads blocked in {@link Waiter} when anything they may look at changed (an agent report, a state
 * change, a destroy). One per deployment. Thread-safe; {@link #signal()} never blocks.
 */
final class WaitSignal {
  private long seq;

  /** Something changed: wake every waiter. */
  synchronized void signal() {
    seq++;
    notifyAll();
  }

  /** The current sequence number: pass it to {@link #awaitChange} to miss no signal given in between. */
  synchronized long seq() {
    return seq;
  }

  /** Blocks until a signal after {@code seen} was given, or {@code nanos} passed. */
  synchronized void awaitChange(long seen, long nanos) throws InterruptedException {
    long deadline = System.nanoTime() + nanos;
    while (seq == seen) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return;
      }
      long ms = Math.max(1, left / 1_000_000);
      wait(ms);
    }
  }
}
