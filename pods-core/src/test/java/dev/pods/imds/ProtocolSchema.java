package dev.pods.imds;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks IMDS responses against {@link ImdsProtocol#SCHEMA_RESOURCE}: status, content type, and the body
 * (JSON Schema subset for JSON, whole-body regular expression for line formats).
 */
final class ProtocolSchema {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNode ROOT = load();

  private ProtocolSchema() {}

  private static JsonNode load() {
    try (InputStream in = ProtocolSchema.class.getResourceAsStream(ImdsProtocol.SCHEMA_RESOURCE)) {
      assertThat(in).as("schema resource").isNotNull();
      return JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Asserts that the response conforms to the named response description. */
  static void check(String name, HttpResponse<String> r) {
    JsonNode d = ROOT.path("responses").path(name);
    assertThat(d.isMissingNode()).as("schema has %s", name).isFalse();
    List<Integer> statuses = new ArrayList<>();
    d.path("status").forEach(s -> statuses.add(s.asInt()));
    assertThat(statuses).as("%s status", name).contains(r.statusCode());
    if (r.statusCode() == 204) {
      assertThat(r.body()).isEmpty();
      return;
    }
    if (d.has("contentType")) {
      assertThat(r.headers().firstValue("Content-Type")).as("%s content type", name).hasValue(d.get("contentType").asText());
    }
    if (d.has("bodyPattern")) {
      assertThat(Pattern.compile(d.get("bodyPattern").asText()).matcher(r.body()).matches())
          .as("%s body matches %s:%n%s", name, d.get("bodyPattern").asText(), r.body())
          .isTrue();
    }
    if (d.has("schema")) {
      JsonNode body;
      try {
        body = JSON.readTree(r.body());
      } catch (IOException e) {
        throw new AssertionError(name + " body is not JSON: " + r.body(), e);
      }
      List<String> problems = new ArrayList<>();
      validate(d.get("schema"), body, "$", problems);
      assertThat(problems).as("%s body %s", name, r.body()).isEmpty();
    }
  }

  /** The JSON Schema subset the schema file uses. */
  static void validate(JsonNode schema, JsonNode v, String at, List<String> problems) {
    String type = schema.path("type").asText("");
    boolean typeOk =
        switch (type) {
          case "object" -> v.isObject();
          case "array" -> v.isArray();
          case "string" -> v.isTextual();
          case "integer" -> v.isIntegralNumber();
          case "boolean" -> v.isBoolean();
          case "" -> true;
          default -> throw new IllegalArgumentException("unsupported type " + type);
        };
    if (!typeOk) {
      problems.add(at + ": expected " + type + ", got " + v.getNodeType());
      return;
    }
    if (schema.has("enum")) {
      boolean found = false;
      for (JsonNode e : schema.get("enum")) {
        found |= e.equals(v);
      }
      if (!found) {
        problems.add(at + ": " + v + " not in " + schema.get("enum"));
      }
    }
    if (schema.has("pattern") && !Pattern.compile(schema.get("pattern").asText()).matcher(v.asText()).find()) {
      problems.add(at + ": '" + v.asText() + "' does not match " + schema.get("pattern").asText());
    }
    if (schema.has("minimum") && v.asLong() < schema.get("minimum").asLong()) {
      problems.add(at + ": " + v + " below " + schema.get("minimum"));
    }
    if (v.isObject()) {
      for (JsonNode req : schema.path("required")) {
        if (!v.has(req.asText())) {
          problems.add(at + ": missing " + req.asText());
        }
      }
      JsonNode props = schema.path("properties");
      JsonNode extra = schema.get("additionalProperties");
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        if (props.has(f.getKey())) {
          validate(props.get(f.getKey()), f.getValue(), at + "." + f.getKey(), problems);
        } else if (extra != null && extra.isBoolean() && !extra.asBoolean()) {
          problems.add(at + ": unexpected property " + f.getKey());
        } else if (extra != null && extra.isObject()) {
          validate(extra, f.getValue(), at + "." + f.getKey(), problems);
        }
      }
    }
    if (v.isArray() && schema.has("items")) {
      for (int i = 0; i < v.size(); i++) {
        validate(schema.get("items"), v.get(i), at + "[" + i + "]", problems);
      }
    }
  }
}
