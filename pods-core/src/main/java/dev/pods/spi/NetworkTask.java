package dev.pods.spi;

/**
 * Work run inside an instance's network namespace by {@link NetworkDriver#callInNamespace}. It runs on a dedicated
 * platform thread whose network namespace is the instance's: sockets it creates and processes it starts belong to
 * that namespace. It should return promptly and must not hand its thread to other work.
 *
 * @param <T> the result type
 * @since 0.1
 */
@FunctionalInterface
public interface NetworkTask<T> {
  /**
   * Runs the work.
   *
   * @return the result, handed back to the caller
   * @throws Exception any failure, handed back to the caller wrapped in a {@link dev.pods.NetworkException}
   */
  T call() throws Exception;
}
