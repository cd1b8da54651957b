package dev.pods.etcd.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pods.PodsException;
import java.io.IOException;

/**
 * The JSON of the cluster's records in etcd (nodes, desired instances, assignments): records to bytes and back.
 * Stateless and thread-safe.
 */
public final class ClusterJson {
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private ClusterJson() {}

  /** {@code value} as JSON bytes. */
  public static byte[] write(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new PodsException("cannot write " + value.getClass().getSimpleName() + " as JSON: " + e.getMessage(), e);
    }
  }

  /** The {@code type} in {@code json}; {@code where} (the etcd key) names it in the exception. */
  public static <T> T read(byte[] json, Class<T> type, String where) {
    try {
      return JSON.readValue(json, type);
    } catch (IOException e) {
      throw new PodsException("etcd key " + where + " does not hold a " + type.getSimpleName() + ": "
          + e.getMessage(), e);
    }
  }
}
