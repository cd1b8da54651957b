package dev.pods;

import org.jspecify.annotations.Nullable;

/**
 * The root of every failure that pods reports through its public API.
 *
 * <p>Unchecked, like the exceptions of JUnit and fabric8: callers catch it where they can act on it. Subtypes
 * say which part failed ({@link PodSpecException} for bad input, {@link BackendException} for the hypervisor,
 * {@link NetworkException} for host networking). Messages name the operation and the objects involved.
 */
public class PodsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message that names the operation and the objects involved. */
  public PodsException(String message) {
    super(message);
  }

  /** Creates an exception with a message and the underlying cause. */
  public PodsException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
