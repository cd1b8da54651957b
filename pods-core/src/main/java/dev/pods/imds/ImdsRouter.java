package dev.pods.imds;

import static dev.pods.imds.Exchanges.bool;
import static dev.pods.imds.Exchanges.error;
import static dev.pods.imds.Exchanges.json;
import static dev.pods.imds.Exchanges.noContent;
import static dev.pods.imds.Exchanges.number;
import static dev.pods.imds.Exchanges.only;
import static dev.pods.imds.Exchanges.required;
import static dev.pods.imds.Exchanges.text;
import static dev.pods.imds.Exchanges.unknown;
import static dev.pods.imds.Exchanges.waitSeconds;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of one instance's metadata service: admits exchanges onto the worker pool (at most
 * {@link ImdsProtocol#MAX_PENDING_REQUESTS} queued or running; the next is answered 503 at once), checks each
 * request (no browser headers, the instance's token), and routes it by path and method to the part that answers it:
 * {@link MetadataViews} (spec, meta-data, queries), {@link ServedState} (long polls on the state hash),
 * {@link RunReports} (runs, batches, status), {@link ExecBroker} (exec requests and results) and the journal.
 * Every failure becomes an error answer. Thread-safe; a handler blocks its worker while it reads a body or waits
 * in a long poll.
 */
final class ImdsRouter {
  private static final Logger LOG = LoggerFactory.getLogger(ImdsRouter.class);
  private static final ThreadLocal<Boolean> REJECT = new ThreadLocal<>();

  private final byte[] token;
  private final Clock clock;
  private final ServedState state;
  private final MetadataViews views;
  private final RunReports runs;
  private final ExecBroker execs;
  private final RequestBodies bodies;
  private final EventDispatcher events;
  private final RateLimitedLog warnings;
  private final BooleanSupplier closed;
  private final AtomicInteger pending = new AtomicInteger();

  ImdsRouter(byte[] token, Clock clock, ServedState state, MetadataViews views, RunReports runs, ExecBroker execs,
      RequestBodies bodies, EventDispatcher events, RateLimitedLog warnings, BooleanSupplier closed) {
    this.token = token.clone();
    this.clock = clock;
    this.state = state;
    this.views = views;
    this.runs = runs;
    this.execs = execs;
    this.bodies = bodies;
    this.events = events;
    this.warnings = warnings;
    this.closed = closed;
  }

  /**
   * The executor to give the HTTP server: every exchange (its headers, its body, its long poll) runs on a worker.
   * Beyond {@link ImdsProtocol#MAX_PENDING_REQUESTS} exchanges queued or running, the next one is answered 503 at
   * once on the server's dispatcher thread.
   */
  Executor admission(Executor workers) {
    return task -> {
      if (pending.incrementAndGet() > ImdsProtocol.MAX_PENDING_REQUESTS) {
        pending.decrementAndGet();
        REJECT.set(Boolean.TRUE);
        try {
          task.run();
        } finally {
          REJECT.remove();
        }
        return;
      }
      try {
        workers.execute(
            () -> {
              try {
                task.run();
              } finally {
                pending.decrementAndGet();
              }
            });
      } catch (RejectedExecutionException e) {
        pending.decrementAndGet();
      }
    };
  }

  /** Answers one exchange, and closes it. */
  void handle(HttpExchange ex) {
    try (ex) {
      try {
        if (REJECT.get() != null) {
          throw HttpError.refused(warnings, 503, "pending",
              "more than " + ImdsProtocol.MAX_PENDING_REQUESTS + " requests at once; refused");
        }
        route(ex);
      } catch (HttpError e) {
        if (e.allow != null) {
          ex.getResponseHeaders().set("Allow", e.allow);
        }
        error(ex, e.status, e.getMessage());
        bodies.discardIfRefused(ex);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        error(ex, 503, "the metadata service is shutting down");
      } catch (RuntimeException e) {
        LOG.warn("IMDS {}: {} {} failed", state.id(), ex.getRequestMethod(), ex.getRequestURI(), e);
        error(ex, 500, "internal error");
      }
    } catch (IOException e) {
      LOG.debug("IMDS {}: client went away", state.id(), e);
    }
  }

  private void route(HttpExchange ex) throws HttpError, IOException, InterruptedException {
    if (ex.getRequestHeaders().containsKey("Origin") || ex.getRequestHeaders().containsKey("Referer")) {
      throw new HttpError(403, "requests with Origin or Referer headers are refused");
    }
    String given = ex.getRequestHeaders().getFirst(ImdsProtocol.TOKEN_HEADER);
    if (given == null || !MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
      throw new HttpError(401, given == null ? "missing " + ImdsProtocol.TOKEN_HEADER : "wrong token");
    }
    Instant now = clock.instant();
    state.contact(now);
    String path = ex.getRequestURI().getRawPath();
    if (!path.startsWith(ImdsProtocol.PREFIX + "/")) {
      throw new HttpError(404, "unknown path " + path + " (this is protocol " + ImdsProtocol.PREFIX + ")");
    }
    List<String> seg = Arrays.asList(path.substring(ImdsProtocol.PREFIX.length() + 1).split("/", -1));
    Map<String, String> q = Exchanges.query(ex.getRequestURI().getRawQuery());
    String m = ex.getRequestMethod();
    switch (seg.get(0)) {
      case "spec" -> {
        only(m, "GET", seg, 1);
        text(ex, 200, views.specText());
      }
      case "state" -> {
        only(m, "GET", seg, 1);
        events.publish(new AgentEvent.Heartbeat(state.id(), now));
        text(ex, 200, "hash " + state.awaitChange(q.get("hash"), waitSeconds(q)) + "\n");
      }
      case "status" -> {
        only(m, "POST", seg, 1);
        bodies.drain(ex);
        AgentStatus st = AgentStatus.fromId(required(q, "status"));
        if (st == null) {
          throw new HttpError(400, "unknown status '" + q.get("status") + "'");
        }
        runs.status(st, now);
        noContent(ex);
      }
      case "meta-data" -> {
        only(m, "GET", seg, 1);
        json(ex, 200, views.metaData());
      }
      case "query" -> {
        if (seg.size() == 3 && seg.get(1).equals("secret")) {
          only(m, "GET", seg, 3);
          json(ex, 200, views.secret(seg.get(2)));
        } else {
          only(m, "GET", seg, 4);
          text(ex, 200, views.query(seg.get(1), seg.get(2), seg.get(3)) + "\n");
        }
      }
      case "runs" -> runs.runs(ex, m, seg, q, now);
      case "journal" -> {
        only(m, "POST", seg, 2);
        journal(ex, seg.get(1), q, now);
      }
      case "report" -> runs.report(ex, m, seg, now);
      case "exec" -> exec(ex, m, seg, q, now);
      default -> throw new HttpError(404, "unknown path " + path);
    }
  }

  /** {@code POST journal/KEY?dropped=N}: lines of a journal input the unit declares, one per body line. */
  private void journal(HttpExchange ex, String key, Map<String, String> q, Instant now)
      throws HttpError, IOException {
    if (!views.journalDeclared(key)) {
      bodies.drain(ex);
      throw new HttpError(404, "unit " + state.view().unit() + " has no journal input '" + key + "'");
    }
    long dropped;
    try {
      dropped = Long.parseLong(q.getOrDefault("dropped", "0"));
    } catch (NumberFormatException e) {
      throw new HttpError(400, "dropped must be a number, not '" + q.get("dropped") + "'");
    }
    String text = new String(bodies.read(ex, ImdsProtocol.MAX_OUTPUT_CHUNK_BYTES), StandardCharsets.UTF_8);
    List<String> lines = text.isEmpty() ? List.of() : Arrays.asList(text.split("\n", -1));
    if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines = lines.subList(0, lines.size() - 1);
    }
    events.publish(new AgentEvent.JournalLines(state.id(), now, key, lines, Math.max(0, dropped)));
    noContent(ex);
  }

  /** {@code GET exec/next} (the agent's one long poll) and {@code POST exec/ID/result}. */
  private void exec(HttpExchange ex, String m, List<String> seg, Map<String, String> q, Instant now)
      throws HttpError, IOException, InterruptedException {
    if (seg.size() == 2 && seg.get(1).equals("next")) {
      if (!m.equals("GET")) {
        throw new HttpError(405, m + " not allowed here", "GET");
      }
      String known = q.get("hash");
      if (known != null) {
        events.publish(new AgentEvent.Heartbeat(state.id(), now));
      }
      ExecBroker.PendingExec p = execs.awaitNext(waitSeconds(q),
          () -> closed.getAsBoolean() || (known != null && !known.equals(state.hash())));
      if (p != null) {
        text(ex, 200, ExecBroker.text(p));
      } else if (known != null && !known.equals(state.hash())) {
        text(ex, 200, "hash " + state.hash() + "\n");
      } else {
        noContent(ex);
      }
      return;
    }
    if (seg.size() == 3 && seg.get(2).equals("result")) {
      if (!m.equals("POST")) {
        throw new HttpError(405, m + " not allowed here", "POST");
      }
      String execId = seg.get(1);
      byte[] body;
      try {
        body = bodies.read(ex, ImdsProtocol.MAX_BODY_BYTES);
      } catch (HttpError e) {
        if (e.status == 413) {
          execs.fail(execId, "its result is larger than " + ImdsProtocol.MAX_BODY_BYTES + " bytes");
        }
        throw e;
      }
      if (!execs.inFlight(execId)) {
        throw new HttpError(404, "unknown or expired exec '" + ReportBatch.clip(execId) + "'");
      }
      String over = q.get("overLimit");
      if (over != null) {
        long n = number(over, "overLimit");
        execs.fail(execId, "its output passed the limit of " + ImdsProtocol.MAX_EXEC_OUTPUT_BYTES + " bytes (" + n
            + " bytes or more); the command was ended");
        noContent(ex);
        return;
      }
      int exit = number(required(q, "exit"), "exit");
      boolean timedOut = bool(q.getOrDefault("timedOut", "false"), "timedOut");
      int outBytes = number(required(q, "stdoutBytes"), "stdoutBytes");
      if (outBytes < 0 || outBytes > body.length) {
        throw new HttpError(400, "stdoutBytes " + outBytes + " outside the body of " + body.length + " bytes");
      }
      ExecBroker.PendingExec p = execs.take(execId);
      if (p == null) {
        throw new HttpError(404, "exec '" + execId + "' was answered already");
      }
      ExecResult r =
          new ExecResult(
              exit, Arrays.copyOfRange(body, 0, outBytes), Arrays.copyOfRange(body, outBytes, body.length), timedOut);
      events.publish(new AgentEvent.ExecFinished(state.id(), now, p.id(), p.request(), r));
      p.future().complete(r);
      noContent(ex);
      return;
    }
    throw unknown(seg);
  }
}
