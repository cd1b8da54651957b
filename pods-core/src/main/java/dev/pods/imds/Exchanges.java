package dev.pods.imds;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.pods.Trigger;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP plumbing every endpoint shares: answers (text, JSON, no content, errors), the query string, and the
 * checks of paths, methods and parameters, which fail with {@link HttpError}s that name what is wrong. Static and
 * stateless; blocking only as far as writing an answer blocks.
 */
final class Exchanges {
  static final ObjectMapper JSON = new ObjectMapper();

  private Exchanges() {}

  static void text(HttpExchange ex, int status, String body) throws IOException {
    send(ex, status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
  }

  static void json(HttpExchange ex, int status, ObjectNode body) throws IOException {
    send(ex, status, "application/json", JSON.writeValueAsBytes(body));
  }

  static void noContent(HttpExchange ex) throws IOException {
    ex.sendResponseHeaders(204, -1);
  }

  static void error(HttpExchange ex, int status, @Nullable String message) {
    ObjectNode o = JSON.createObjectNode();
    o.put("status", status);
    o.put("error", message == null ? "error" : message);
    try {
      json(ex, status, o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    // flushed at once: closing the exchange first drains what is left of the request body, which a client that
    // declared a body it never sends would hold up until it gives up (it gives up once it has read the answer)
    if (body.length > 0) {
      ex.getResponseBody().write(body);
      ex.getResponseBody().flush();
    }
  }

  /** 404 unless the path has {@code segments} segments, 405 (with {@code Allow}) unless the method is allowed. */
  static void only(String method, String allowed, List<String> seg, int segments) throws HttpError {
    if (seg.size() != segments) {
      throw unknown(seg);
    }
    if (!method.equals(allowed)) {
      throw new HttpError(405, method + " not allowed here", allowed);
    }
  }

  /** 404 for a path (given as its segments after the protocol prefix). */
  static HttpError unknown(List<String> seg) {
    return new HttpError(404, "unknown path /" + String.join("/", seg));
  }

  static Map<String, String> query(@Nullable String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      String k = eq < 0 ? kv : kv.substring(0, eq);
      String v = eq < 0 ? "" : kv.substring(eq + 1);
      out.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  static String required(Map<String, String> q, String name) throws HttpError {
    String v = q.get(name);
    if (v == null) {
      throw new HttpError(400, "missing parameter '" + name + "'");
    }
    return v;
  }

  static int number(String s, String what) throws HttpError {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw new HttpError(400, what + " must be a number, not '" + s + "'");
    }
  }

  static boolean bool(String s, String what) throws HttpError {
    return switch (s) {
      case "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw new HttpError(400, what + " must be true or false, not '" + s + "'");
    };
  }

  static Trigger trigger(String s) throws HttpError {
    try {
      return Trigger.valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, "trigger is first_boot, reboot or cluster_change, not '" + s + "'");
    }
  }

  /** The {@code wait} parameter of a long poll: 0 when absent, at most {@link ImdsProtocol#MAX_WAIT_SECONDS}. */
  static int waitSeconds(Map<String, String> q) throws HttpError {
    String w = q.get("wait");
    if (w == null) {
      return 0;
    }
    try {
      return Math.max(0, Math.min(ImdsProtocol.MAX_WAIT_SECONDS, Integer.parseInt(w)));
    } catch (NumberFormatException e) {
      throw new HttpError(400, "wait must be a number of seconds, not '" + w + "'");
    }
  }
}
