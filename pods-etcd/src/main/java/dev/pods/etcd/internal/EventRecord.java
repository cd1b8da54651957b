package dev.pods.etcd.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.ExecResult;
import dev.pods.InstanceState;
import dev.pods.OutputStream;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Trigger;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A {@link PodEvent} as the node that saw it writes it to etcd ({@code PREFIX/cluster/events/POD/SEQ}: SEQ is the
 * node's name, '-', and a zero-padded counter, under a lease of ten minutes, so the feed expires), and back, for the
 * cluster's client runtime, which republishes it on the pod's feed. Every kind of event, field by field (type tag
 * {@code type}); instants as epoch milliseconds. Stateless and thread-safe.
 */
public final class EventRecord {
  private static final ObjectMapper JSON = new ObjectMapper();

  private EventRecord() {}

  /** {@code e} as JSON bytes. */
  public static byte[] write(PodEvent e) {
    ObjectNode o = JSON.createObjectNode();
    o.put("instance", e.instance());
    o.put("at", e.at().toEpochMilli());
    if (e instanceof PodEvent.StateChanged s) {
      o.put("type", "state");
      o.put("from", s.from().name());
      o.put("to", s.to().name());
      o.put("reason", s.reason());
    } else if (e instanceof PodEvent.PhaseStarted s) {
      o.put("type", "phaseStarted");
      o.put("trigger", s.trigger().name());
      o.put("run", s.run());
    } else if (e instanceof PodEvent.PhaseFinished f) {
      o.put("type", "phaseFinished");
      o.put("trigger", f.trigger().name());
      o.put("run", f.run());
      o.put("ok", f.ok());
      o.put("failedBlock", f.failedBlock());
      o.put("exitCode", f.exitCode());
      o.put("durationMillis", f.duration().toMillis());
    } else if (e instanceof PodEvent.OutputLine l) {
      o.put("type", "output");
      o.put("run", l.run());
      o.put("block", l.block());
      o.put("stream", l.stream().name());
      o.put("line", l.line());
    } else if (e instanceof PodEvent.ExecFinished x) {
      o.put("type", "exec");
      ArrayNode argv = o.putArray("argv");
      x.argv().forEach(argv::add);
      o.put("exitCode", x.result().exitCode());
      o.put("stdout", x.result().stdout());
      o.put("stderr", x.result().stderr());
      o.put("timedOut", x.result().timedOut());
    } else if (e instanceof PodEvent.JournalLine j) {
      o.put("type", "journal");
      o.put("key", j.key());
      o.put("line", j.line());
    } else if (e instanceof PodEvent.JournalDropped j) {
      o.put("type", "journalDropped");
      o.put("key", j.key());
      o.put("count", j.count());
    } else if (e instanceof PodEvent.EventsDropped d) {
      o.put("type", "eventsDropped");
      o.put("count", d.count());
    } else if (e instanceof PodEvent.Placed p) {
      o.put("type", "placed");
      o.put("node", p.node());
      o.put("why", p.why());
    }
    try {
      return JSON.writeValueAsBytes(o);
    } catch (IOException ex) {
      throw new PodsException("cannot write event " + e.getClass().getSimpleName() + " as JSON", ex);
    }
  }

  /**
   * The event in {@code json} (from {@link #write}).
   *
   * @param where the etcd key, for the message
   * @throws PodsException naming {@code where} and the field when it is not such an event
   */
  public static PodEvent read(byte[] json, String where) {
    try {
      JsonNode o = JSON.readTree(json);
      String instance = text(o, "instance");
      Instant at = Instant.ofEpochMilli(number(o, "at"));
      return switch (text(o, "type")) {
        case "state" -> new PodEvent.StateChanged(instance, at, InstanceState.valueOf(text(o, "from")),
            InstanceState.valueOf(text(o, "to")), o.path("reason").isTextual() ? o.get("reason").asText() : null);
        case "phaseStarted" -> new PodEvent.PhaseStarted(instance, at, Trigger.valueOf(text(o, "trigger")),
            text(o, "run"));
        case "phaseFinished" -> new PodEvent.PhaseFinished(instance, at, Trigger.valueOf(text(o, "trigger")),
            text(o, "run"), o.path("ok").asBoolean(), (int) number(o, "failedBlock"), (int) number(o, "exitCode"),
            Duration.ofMillis(number(o, "durationMillis")));
        case "output" -> new PodEvent.OutputLine(instance, at, text(o, "run"), (int) number(o, "block"),
            OutputStream.valueOf(text(o, "stream")), text(o, "line"));
        case "exec" -> {
          List<String> argv = new ArrayList<>();
          o.path("argv").forEach(a -> argv.add(a.asText()));
          yield new PodEvent.ExecFinished(instance, at, argv, new ExecResult((int) number(o, "exitCode"),
              Base64.getDecoder().decode(text(o, "stdout")), Base64.getDecoder().decode(text(o, "stderr")),
              o.path("timedOut").asBoolean()));
        }
        case "journal" -> new PodEvent.JournalLine(instance, at, text(o, "key"), text(o, "line"));
        case "journalDropped" -> new PodEvent.JournalDropped(instance, at, text(o, "key"), number(o, "count"));
        case "eventsDropped" -> new PodEvent.EventsDropped(instance, at, number(o, "count"));
        case "placed" -> new PodEvent.Placed(instance, at, o.path("node").isTextual() ? o.get("node").asText() : null,
            text(o, "why"));
        default -> throw new IllegalArgumentException("unknown type '" + o.path("type").asText() + "'");
      };
    } catch (IOException | IllegalArgumentException e) {
      throw new PodsException("etcd key " + where + " does not hold an event: " + e.getMessage(), e);
    }
  }

  private static String text(JsonNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException("missing text field '" + field + "'");
    }
    return v.asText();
  }

  private static long number(JsonNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || !v.isNumber()) {
      throw new IllegalArgumentException("missing number field '" + field + "'");
    }
    return v.asLong();
  }
}
