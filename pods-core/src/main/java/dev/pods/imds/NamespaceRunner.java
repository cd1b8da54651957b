package dev.pods.imds;

import java.util.concurrent.Callable;

/**
 * Runs an action on a thread that has entered some network namespace, so that the sockets the action creates
 * belong to that namespace (a socket keeps the namespace it was created in, whatever thread uses it later).
 *
 * <p>The network driver (module {@code pods-net}) implements it with {@code setns} on a dedicated platform
 * thread; pods-core only calls it. Implementations must be thread-safe; {@link #call} blocks until the action
 * has run and returns its result or throws what it threw.
 */
public interface NamespaceRunner {

  /**
   * Runs {@code action} inside the namespace and returns its result.
   *
   * @throws Exception what the action threw, or a failure to enter the namespace
   */
  <T> T call(Callable<T> action) throws Exception;

  /** A human-readable name for logs and error messages, e.g. the namespace's name. */
  String describe();
}
