package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in tests for a condition on the cluster, woken by every change under the keyspace's prefix. */
final class Waits {
  private Waits() {}

  /** Waits until {@code done}; fails naming {@code what} after {@code timeout}. */
  @SuppressWarnings("try")
  static void until(EtcdKeyspace view, String what, Duration timeout, BooleanSupplier done) throws Exception {
    Semaphore changed = new Semaphore(0);
    try (AutoCloseable w = new Nodes(view).watch(l -> changed.release())) {
      long end = System.nanoTime() + timeout.toNanos();
      while (!done.getAsBoolean()) {
        long left = end - System.nanoTime();
        assertThat(left).as("waiting for " + what).isPositive();
        // A node's own records change under the prefix; the ticks of its threads do not, hence the bound.
        changed.tryAcquire(Math.min(left, TimeUnit.MILLISECONDS.toNanos(250)), TimeUnit.NANOSECONDS);
      }
    }
  }
}
