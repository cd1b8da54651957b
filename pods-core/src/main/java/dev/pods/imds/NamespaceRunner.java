package dev.pods.imds;

import dev.pods.NetworkException;
import dev.pods.spi.NetworkDriver;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

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

  /**
   * The namespace of one instance of a {@link NetworkDriver}, entered through its
   * {@link NetworkDriver#callInNamespace}. The action's own exception comes back as it was thrown (the driver wraps
   * it in a {@link NetworkException}, which this unwraps); a failure to enter the namespace (no such network, a
   * closed driver) is the driver's exception.
   *
   * <pre>{@code
   * ImdsBinding.inNamespace(NamespaceRunner.of(driver, "web-0"), ImdsProtocol.METADATA_ADDRESS)
   * }</pre>
   */
  static NamespaceRunner of(NetworkDriver driver, String instanceId) {
    Objects.requireNonNull(driver, "driver");
    Objects.requireNonNull(instanceId, "instanceId");
    return new NamespaceRunner() {
      @Override
      public <T> T call(Callable<T> action) throws Exception {
        AtomicReference<Exception> thrown = new AtomicReference<>();
        try {
          return driver.callInNamespace(instanceId, () -> {
            try {
              return action.call();
            } catch (Exception e) {
              thrown.set(e);
              throw e;
            }
          });
        } catch (NetworkException e) {
          Exception own = thrown.get();
          if (own != null) {
            throw own;
          }
          throw e;
        }
      }

      @Override
      public String describe() {
        return "the network namespace of instance " + instanceId;
      }
    };
  }
}
