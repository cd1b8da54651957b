package dev.pods.imds;

import org.jspecify.annotations.Nullable;

/**
 * A failure that becomes an error answer ({@code {"status": N, "error": "text"}}): what a request did wrong, or why
 * it is refused. Cheap (no stack trace). {@link #refused} also logs it, rate-limited per kind, for what a
 * well-behaved agent never causes.
 */
final class HttpError extends Exception {
  private static final long serialVersionUID = 1L;
  final int status;
  final @Nullable String allow;

  HttpError(int status, String message) {
    this(status, message, null);
  }

  /** An error answer with an {@code Allow} header (405). */
  HttpError(int status, String message, @Nullable String allow) {
    super(message, null, false, false);
    this.status = status;
    this.allow = allow;
  }

  /** An error answer that is also logged through {@code warnings} (at most once per period per kind). */
  static HttpError refused(RateLimitedLog warnings, int status, String kind, String message) {
    warnings.warn(kind, "refused with " + status + ": " + message);
    return new HttpError(status, message);
  }
}
