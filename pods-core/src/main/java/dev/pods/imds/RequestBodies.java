package dev.pods.imds;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.Semaphore;

/**
 * Reads the request bodies of one instance's server within its bounds: the length must be declared
 * ({@code Content-Length}), a larger one than the endpoint takes is refused (413) before a byte is read, and the
 * bodies being read at once hold at most {@link ImdsProtocol#MAX_BODY_BYTES_IN_FLIGHT} bytes (503 beyond). A refused
 * body of moderate size is read and dropped after the answer ({@link #discardIfRefused}), so that a client still
 * sending it reads the answer instead of a reset. Thread-safe; reading blocks as the client sends.
 */
final class RequestBodies {
  /** A refused body up to this size is read and dropped after the answer; a larger one is not read. */
  private static final long DISCARD_LIMIT = 4L * ImdsProtocol.MAX_BODY_BYTES;
  private static final ThreadLocal<Boolean> DISCARD = new ThreadLocal<>();

  private final Semaphore budget = new Semaphore(ImdsProtocol.MAX_BODY_BYTES_IN_FLIGHT);
  private final RateLimitedLog warnings;

  RequestBodies(RateLimitedLog warnings) {
    this.warnings = warnings;
  }

  /** Reads a body of at most {@code limit} bytes (see the class comment for the refusals). */
  byte[] read(HttpExchange ex, int limit) throws IOException, HttpError {
    String cl = ex.getRequestHeaders().getFirst("Content-Length");
    String te = ex.getRequestHeaders().getFirst("Transfer-Encoding");
    long declared;
    if (cl == null) {
      if (te != null) {
        throw HttpError.refused(warnings, 411, "body", "a request body needs a Content-Length");
      }
      declared = 0;
    } else {
      try {
        declared = Long.parseLong(cl.trim());
      } catch (NumberFormatException e) {
        throw HttpError.refused(warnings, 400, "body", "Content-Length is not a number");
      }
    }
    if (declared < 0 || declared > limit) {
      if (declared > 0 && declared <= DISCARD_LIMIT) {
        // answered first, then read and dropped (no memory held): a client still sending its body then reads
        // the answer instead of a reset, and one that never sends it holds up nobody but its own server
        DISCARD.set(Boolean.TRUE);
      }
      throw HttpError.refused(warnings, 413, "body",
          "body of " + declared + " bytes refused: at most " + limit + " bytes here");
    }
    int n = (int) declared;
    if (!budget.tryAcquire(n)) {
      throw HttpError.refused(warnings, 503, "body-budget", "request bodies in flight would pass "
          + ImdsProtocol.MAX_BODY_BYTES_IN_FLIGHT + " bytes; refused");
    }
    try (InputStream in = ex.getRequestBody()) {
      byte[] b = in.readNBytes(n);
      if (b.length != n) {
        throw new HttpError(400, "body ended after " + b.length + " of " + n + " bytes");
      }
      return b;
    } finally {
      budget.release(n);
    }
  }

  /** Reads and drops a small body that an endpoint does not use (at most 64 KiB). */
  void drain(HttpExchange ex) throws IOException, HttpError {
    read(ex, 64 * 1024);
  }

  /** After an error answer: reads and drops the body that {@link #read} refused on this thread, if it said so. */
  void discardIfRefused(HttpExchange ex) throws IOException {
    if (DISCARD.get() != null) {
      DISCARD.remove();
      try (InputStream in = ex.getRequestBody()) {
        in.transferTo(java.io.OutputStream.nullOutputStream());
      }
    }
  }
}
