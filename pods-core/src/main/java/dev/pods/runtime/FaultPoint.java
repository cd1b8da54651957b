package dev.pods.runtime;

/**
 * A fault-injection hook for crash tests, and nothing else: when the system property {@value #PROPERTY} names a
 * point the runtime passes, the thread that reaches it prints {@code pods-fault-point <point>} on standard output
 * and blocks for good, so that a test can kill the JVM exactly there (kill -9) and check what a new runtime makes
 * of the leftovers. Without the property (always, outside such tests) a point costs one property lookup.
 *
 * <p>Points: {@code addresses} (deploy: the record is written and the addresses allocated, nothing built),
 * {@code network} (an instance's network exists), {@code define} (its files and domain exist, not started),
 * {@code start} (its domain was started), {@code initializing} (the agent started the initial phase; blocks that
 * instance's event thread). Thread-safe; stateless.
 */
final class FaultPoint {
  /** The system property naming the point to stop at. */
  static final String PROPERTY = "dev.pods.runtime.pauseAt";
  /** What is printed before blocking, followed by a space and the point. */
  static final String MARKER = "pods-fault-point";

  private FaultPoint() {}

  /** Blocks for good when {@code point} is the configured one; returns at once otherwise (or when interrupted). */
  static void reached(String point) {
    if (!point.equals(System.getProperty(PROPERTY))) {
      return;
    }
    System.out.println(MARKER + " " + point);
    System.out.flush();
    try {
      new java.util.concurrent.CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
