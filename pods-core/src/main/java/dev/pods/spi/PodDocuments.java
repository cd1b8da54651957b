package dev.pods.spi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pods.Pod;
import java.io.IOException;
import java.util.Objects;

/**
 * A {@link Pod}'s full model (every unit, field and block) as a JSON document, and back: what a {@link StateStore}
 * record or a cluster's store keeps so that a pod built in code can be run again without its template. The
 * encoding is explicit, field by field, with a format number (see the class comment of the encoder for why it is
 * not a Markdown rendering).
 *
 * <p>Contract: {@code decode(encode(pod), where).equals(pod)} for every valid pod; {@link #decode} validates as the
 * builders do. Stateless and thread-safe.
 *
 * @since 0.2
 */
public final class PodDocuments {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PodDocuments() {}

  /** {@code pod} as UTF-8 JSON. */
  public static byte[] encode(Pod pod) {
    Objects.requireNonNull(pod, "pod");
    try {
      return JSON.writeValueAsBytes(PodJson.encode(pod));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode pod " + pod.name(), e);
    }
  }

  /**
   * The pod a document from {@link #encode} describes.
   *
   * @param where where the document comes from (a file or key), for messages
   * @throws IllegalArgumentException naming {@code where} and what is wrong when it is not such a pod (not JSON,
   *     unknown format, a missing or invalid field)
   */
  public static Pod decode(byte[] json, String where) {
    Objects.requireNonNull(json, "json");
    JsonNode o;
    try {
      o = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(where + ": not JSON: " + e.getMessage(), e);
    }
    if (o == null || !o.isObject()) {
      throw new IllegalArgumentException(where + ": not a JSON object");
    }
    try {
      return PodJson.decode(o);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  /**
   * The version of {@code unit}'s spec that an instance runs: the first 16 hex digits of the SHA-256 of the unit's
   * full model, the same value the local runtime records for each instance (and a cluster node reports), so that a
   * client of a cluster can tell whether an instance runs the desired unit.
   *
   * @since 0.2
   */
  public static String unitVersion(dev.pods.Unit unit) {
    Objects.requireNonNull(unit, "unit");
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(unit.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8))).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
