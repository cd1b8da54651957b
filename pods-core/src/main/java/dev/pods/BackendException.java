package dev.pods;

import org.jspecify.annotations.Nullable;

/**
 * A hypervisor operation failed: the operation, the instance domain it concerned and the backend's own error
 * code are kept, so callers can tell "domain not found" from "permission denied" without parsing text.
 *
 * <p>Message form: {@code start domain 'pods-abc-web-0' failed: <backend text> (code 55)}.
 */
public class BackendException extends PodsException {
  private static final long serialVersionUID = 1L;

  private final String operation;
  private final @Nullable String domain;
  private final int code;

  /**
   * @param operation what was attempted, e.g. {@code "define"}, {@code "start"}
   * @param domain the domain (instance) name, or {@code null} when the operation concerned none
   * @param code the backend's error code (libvirt's {@code virErrorNumber}), or {@code -1} when there is none
   * @param detail the backend's own text
   * @param cause the underlying exception, if any
   */
  public BackendException(
      String operation, @Nullable String domain, int code, String detail, @Nullable Throwable cause) {
    super(format(operation, domain, code, detail), cause);
    this.operation = operation;
    this.domain = domain;
    this.code = code;
  }

  private static String format(String operation, @Nullable String domain, int code, String detail) {
    StringBuilder b = new StringBuilder(operation);
    if (domain != null) {
      b.append(" domain '").append(domain).append('\'');
    }
    b.append(" failed: ").append(detail);
    if (code >= 0) {
      b.append(" (code ").append(code).append(')');
    }
    return b.toString();
  }

  /** What was attempted. */
  public String operation() {
    return operation;
  }

  /** The domain concerned, or {@code null}. */
  public @Nullable String domain() {
    return domain;
  }

  /** The backend's error code, or {@code -1}. */
  public int code() {
    return code;
  }
}
