package dev.pods;

import dev.pods.internal.SafeText;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One thing wrong (an error) or doubtful (a warning) in a pod description, with the field it concerns and,
 * for templates, where it is.
 *
 * @param severity error or warning
 * @param location where in the source, or {@code null} for descriptions built in code
 * @param field the field path, e.g. {@code units[web].memory} or {@code instance.nodePorts[0].externalPort}
 * @param message what is wrong, in words a user can act on
 */
public record Problem(Severity severity, @Nullable SourceLocation location, String field, String message) {

  /** How bad a problem is. */
  public enum Severity {
    /** The description cannot be used. */
    ERROR,
    /** The description is usable, but something in it has no effect or looks like a mistake. */
    WARNING
  }

  /**
   * Validates the parts, and makes {@code field} and {@code message} single printable lines: control characters
   * (which user text quoted in a message may carry) are escaped and very long text is cut, with a count
   * ({@link SafeText#oneLine(String)}), so a problem can never print as two lines or move a terminal's cursor.
   */
  public Problem {
    Objects.requireNonNull(severity, "severity");
    field = SafeText.oneLine(Objects.requireNonNull(field, "field"), 200);
    message = SafeText.oneLine(Objects.requireNonNull(message, "message"));
  }

  /** An error without a source location. */
  public static Problem error(String field, String message) {
    return new Problem(Severity.ERROR, null, field, message);
  }

  /** An error at a source location. */
  public static Problem error(@Nullable SourceLocation location, String field, String message) {
    return new Problem(Severity.ERROR, location, field, message);
  }

  /** A warning at a source location. */
  public static Problem warning(@Nullable SourceLocation location, String field, String message) {
    return new Problem(Severity.WARNING, location, field, message);
  }

  /** Whether this is an error. */
  public boolean isError() {
    return severity == Severity.ERROR;
  }

  /**
   * {@code file:line:col: error: field: message}, or {@code error: field: message} without a location; the
   * field part is left out when empty.
   */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    if (location != null) {
      b.append(location).append(": ");
    }
    b.append(severity == Severity.ERROR ? "error" : "warning").append(": ");
    if (!field.isEmpty()) {
      b.append(field).append(": ");
    }
    return b.append(message).toString();
  }
}
