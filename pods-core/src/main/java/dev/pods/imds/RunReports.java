package dev.pods.imds;

import static dev.pods.imds.Exchanges.bool;
import static dev.pods.imds.Exchanges.noContent;
import static dev.pods.imds.Exchanges.number;
import static dev.pods.imds.Exchanges.only;
import static dev.pods.imds.Exchanges.required;
import static dev.pods.imds.Exchanges.trigger;
import static dev.pods.imds.Exchanges.unknown;

import com.sun.net.httpserver.HttpExchange;
import dev.pods.Trigger;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run reports of one instance's agent, as single requests ({@code POST /v1/runs/...}) or batches
 * ({@code POST /v1/report}): each is checked against the served spec (block indexes, run ids) and handed to the
 * {@link RunTracker}, which keeps the runs and publishes their events; a status report updates the
 * {@link ServedState}. Thread-safe; blocks only while reading a request body.
 */
final class RunReports {
  private static final Logger LOG = LoggerFactory.getLogger(RunReports.class);

  private final ServedState state;
  private final RunTracker tracker;
  private final RequestBodies bodies;
  private final RateLimitedLog warnings;
  private final Consumer<AgentEvent> publish;

  RunReports(ServedState state, RunTracker tracker, RequestBodies bodies, RateLimitedLog warnings,
      Consumer<AgentEvent> publish) {
    this.state = state;
    this.tracker = tracker;
    this.bodies = bodies;
    this.warnings = warnings;
    this.publish = publish;
  }

  /** {@code runs/RUN/start | runs/RUN/end | runs/RUN/blocks/I/start|output|end}. */
  void runs(HttpExchange ex, String m, List<String> seg, Map<String, String> q, Instant now)
      throws HttpError, IOException {
    if (seg.size() < 3 || seg.get(1).isEmpty()) {
      throw unknown(seg);
    }
    if (!m.equals("POST")) {
      throw new HttpError(405, m + " not allowed here", "POST");
    }
    String run = seg.get(1);
    if (run.length() > ImdsProtocol.MAX_RUN_ID_LENGTH || !run.matches("[A-Za-z0-9._-]+")) {
      throw HttpError.refused(warnings, 400, "run-id",
          "a run id is 1-" + ImdsProtocol.MAX_RUN_ID_LENGTH + " of A-Z a-z 0-9 . _ -");
    }
    if (seg.size() == 3 && seg.get(2).equals("start")) {
      bodies.drain(ex);
      Trigger t = trigger(required(q, "trigger"));
      List<Integer> blocks = new ArrayList<>();
      String csv = q.getOrDefault("blocks", "");
      for (String s : csv.isEmpty() ? new String[0] : csv.split(",")) {
        blocks.add(number(s, "blocks"));
      }
      apply(new ReportBatch.RunStart(run, t, q.getOrDefault("version", ""), q.getOrDefault("hash", ""), blocks), now);
      noContent(ex);
      return;
    }
    if (seg.size() == 3 && seg.get(2).equals("end")) {
      bodies.drain(ex);
      boolean ok = bool(required(q, "ok"), "ok");
      int failed = ok ? -1 : number(q.getOrDefault("failedBlock", "-1"), "failedBlock");
      int exit = ok ? 0 : number(q.getOrDefault("exit", "1"), "exit");
      if (apply(new ReportBatch.RunEnd(run, ok, failed, exit), now) == RunTracker.Outcome.UNKNOWN_RUN) {
        throw new HttpError(404, "unknown run '" + run + "'");
      }
      noContent(ex);
      return;
    }
    if (seg.size() != 5 || !seg.get(2).equals("blocks")) {
      throw unknown(seg);
    }
    int block = number(seg.get(3), "block");
    ReportBatch.Record r;
    switch (seg.get(4)) {
      case "start" -> {
        bodies.drain(ex);
        r = new ReportBatch.BlockStart(run, block);
      }
      case "output" -> {
        String stream = required(q, "stream");
        OutputStream os =
            switch (stream) {
              case "stdout" -> OutputStream.STDOUT;
              case "stderr" -> OutputStream.STDERR;
              default -> throw new HttpError(400, "stream is stdout or stderr, not '" + ReportBatch.clip(stream) + "'");
            };
        long offset = number(required(q, "offset"), "offset");
        if (offset < 0) {
          throw new HttpError(400, "offset must not be negative");
        }
        r = new ReportBatch.Output(run, block, os, offset, bodies.read(ex, ImdsProtocol.MAX_OUTPUT_CHUNK_BYTES));
      }
      case "end" -> {
        bodies.drain(ex);
        r = new ReportBatch.BlockEnd(
            run, block, number(required(q, "exit"), "exit"), bool(q.getOrDefault("timedOut", "false"), "timedOut"));
      }
      default -> throw unknown(seg);
    }
    if (apply(r, now) == RunTracker.Outcome.UNKNOWN_RUN) {
      throw new HttpError(404, "unknown run '" + run + "'");
    }
    noContent(ex);
  }

  /** {@code POST /v1/report}: a batch, parsed whole before any record is applied. */
  void report(HttpExchange ex, String m, List<String> seg, Instant now) throws HttpError, IOException {
    only(m, "POST", seg, 1);
    List<ReportBatch.Record> records;
    try {
      records = ReportBatch.parse(bodies.read(ex, ImdsProtocol.MAX_BODY_BYTES));
    } catch (ReportBatch.MalformedException e) {
      throw HttpError.refused(warnings, 400, "report", "malformed report: " + e.getMessage());
    }
    for (ReportBatch.Record r : records) {
      RunTracker.Outcome o = apply(r, now);
      if (o == RunTracker.Outcome.UNKNOWN_RUN) {
        LOG.debug("IMDS {}: report {} names an unknown run; skipped", state.id(), r);
      }
    }
    noContent(ex);
  }

  /** Applies one report, from a batch or from a single-purpose request. */
  private RunTracker.Outcome apply(ReportBatch.Record r, Instant now) throws HttpError {
    int scripts = state.view().spec().scripts().size();
    if (r instanceof ReportBatch.Status s) {
      status(s.status(), now);
      return RunTracker.Outcome.APPLIED;
    } else if (r instanceof ReportBatch.RunStart s) {
      if (s.blocks().size() > scripts || s.blocks().stream().anyMatch(b -> b < 0 || b >= scripts)
          || s.blocks().stream().distinct().count() != s.blocks().size()) {
        throw HttpError.refused(warnings, 400, "blocks",
            "run " + s.run() + ": blocks must be distinct indexes below " + scripts);
      }
      return tracker.start(s.run(), s.trigger(), s.version(), s.hash(), s.blocks(), now);
    } else if (r instanceof ReportBatch.BlockStart s) {
      checkDeclared(s.run(), s.block());
      return tracker.blockStart(s.run(), s.block(), now);
    } else if (r instanceof ReportBatch.Output s) {
      checkDeclared(s.run(), s.block());
      return tracker.output(s.run(), s.block(), s.stream(), s.offset(), s.bytes(), now);
    } else if (r instanceof ReportBatch.BlockEnd s) {
      checkDeclared(s.run(), s.block());
      return tracker.blockEnd(s.run(), s.block(), s.exit(), s.timedOut(), now);
    } else if (r instanceof ReportBatch.RunEnd s) {
      return tracker.end(s.run(), s.ok(), s.failedBlock(), s.exit(), now, t -> {
        if (s.ok() && t == Trigger.FIRST_BOOT) {
          state.markInitialized();
        }
      });
    }
    throw new IllegalStateException("unknown record " + r);
  }

  /** The agent reported its status ({@code POST /v1/status} or a batch's {@code status} record). */
  void status(AgentStatus status, Instant now) {
    state.status(status);
    publish.accept(new AgentEvent.StatusReported(state.id(), now, status));
  }

  private void checkDeclared(String run, int block) throws HttpError {
    if (tracker.isOpen(run) && !tracker.declared(run, block)) {
      throw HttpError.refused(warnings, 400, "blocks", "block " + block + " is not one that run " + run + " declared");
    }
  }
}
