package dev.pods.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.InstanceState;
import dev.pods.Pod;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a runtime records about one deployment so that a new runtime (another JVM) can rebuild it: the pod's full
 * model ({@link dev.pods.spi.PodDocuments}), the owner, whether it is being destroyed, and per instance its identity, addresses,
 * spec version, agent token and last known state. Written before anything of an instance is built (so every
 * resource a crash leaves behind is named by a record), once the addresses are allocated, when an instance enters
 * or leaves READY or FAILED (the states adoption cannot tell from the resources), and when a destroy starts.
 *
 * <p>An immutable value; {@link #toBytes()} and {@link #parse(byte[])} are exact inverses.
 *
 * @param pod the pod as deployed
 * @param owner the owner label of the runtime that made it
 * @param destroying whether {@code destroy()} started: a new runtime finishes the removal instead of adopting
 * @param instances every instance, in the deployment's order
 */
record DeploymentRecord(Pod pod, String owner, boolean destroying, List<InstanceRecord> instances) {
  /** The version of this record's layout. */
  static final int FORMAT = 1;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Validates and copies. */
  DeploymentRecord {
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(owner, "owner");
    instances = List.copyOf(instances);
  }

  /**
   * One instance.
   *
   * @param unit the unit's name
   * @param index the index in the unit
   * @param id the network instance id (also the address pools' holder)
   * @param domain the domain name
   * @param subnet the private /30, or {@code null} before it was allocated
   * @param publicAddress the public address, or {@code null}
   * @param specVersion the version of the unit spec it was built from
   * @param token the agent's token (the guest keeps it on its seed)
   * @param state the last known state
   * @param failure why it failed, when {@code state} is {@link InstanceState#FAILED}; why it stopped, when
   *     {@link InstanceState#STOPPED}
   * @param held whether it was stopped by {@code Instance.stop()} (a new runtime leaves it stopped)
   * @param initialized whether the guest on its disk finished its initial phase
   */
  record InstanceRecord(String unit, int index, String id, String domain, @Nullable String subnet,
      @Nullable String publicAddress, String specVersion, String token, InstanceState state,
      @Nullable String failure, boolean held, boolean initialized) {
    /** Validates. */
    InstanceRecord {
      Objects.requireNonNull(unit, "unit");
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(domain, "domain");
      Objects.requireNonNull(specVersion, "specVersion");
      Objects.requireNonNull(token, "token");
      Objects.requireNonNull(state, "state");
    }

    /** A record that is not held by {@code Instance.stop()}, initialized when {@code state} is READY. */
    InstanceRecord(String unit, int index, String id, String domain, @Nullable String subnet,
        @Nullable String publicAddress, String specVersion, String token, InstanceState state,
        @Nullable String failure) {
      this(unit, index, id, domain, subnet, publicAddress, specVersion, token, state, failure, false,
          state == InstanceState.READY);
    }
  }

  /** The record as pretty-printed JSON. */
  byte[] toBytes() {
    ObjectNode o = JSON.createObjectNode();
    o.put("format", FORMAT);
    o.put("pod", pod.name());
    o.put("owner", owner);
    o.put("destroying", destroying);
    ArrayNode list = o.putArray("instances");
    for (InstanceRecord i : instances) {
      ObjectNode r = list.addObject();
      r.put("unit", i.unit());
      r.put("index", i.index());
      r.put("id", i.id());
      r.put("domain", i.domain());
      if (i.subnet() != null) {
        r.put("subnet", i.subnet());
      }
      if (i.publicAddress() != null) {
        r.put("publicAddress", i.publicAddress());
      }
      r.put("specVersion", i.specVersion());
      r.put("token", i.token());
      r.put("state", i.state().name());
      if (i.failure() != null) {
        r.put("failure", i.failure());
      }
      if (i.held()) {
        r.put("held", true);
      }
      if (i.initialized() && i.state() != InstanceState.READY) {
        r.put("initialized", true);
      }
    }
    try {
      o.set("spec", JSON.readTree(dev.pods.spi.PodDocuments.encode(pod)));
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode pod " + pod.name(), e);
    }
    try {
      return JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode the record of pod " + pod.name(), e);
    }
  }

  /**
   * Reads a record written by {@link #toBytes()}.
   *
   * @throws IllegalArgumentException when the bytes are not such a record
   */
  static DeploymentRecord parse(byte[] bytes) {
    JsonNode o;
    try {
      o = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    if (o == null || !o.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    if (o.path("format").asInt(-1) != FORMAT) {
      throw new IllegalArgumentException("unknown record format " + o.path("format") + " (this runtime reads "
          + FORMAT + ")");
    }
    Pod pod;
    try {
      pod = dev.pods.spi.PodDocuments.decode(JSON.writeValueAsBytes(o.path("spec")), "its spec");
    } catch (IOException e) {
      throw new IllegalArgumentException("its spec cannot be read: " + e.getMessage(), e);
    }
    if (!pod.name().equals(o.path("pod").asText())) {
      throw new IllegalArgumentException("record of pod '" + o.path("pod").asText() + "' holds pod " + pod.name());
    }
    List<InstanceRecord> list = new ArrayList<>();
    for (JsonNode r : o.path("instances")) {
      String state = text(r, "state");
      InstanceState st;
      try {
        st = InstanceState.valueOf(state);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown instance state '" + state + "'", e);
      }
      if (!r.path("index").isIntegralNumber()) {
        throw new IllegalArgumentException("instance without an index: " + r);
      }
      list.add(new InstanceRecord(text(r, "unit"), r.path("index").asInt(), text(r, "id"), text(r, "domain"),
          r.hasNonNull("subnet") ? text(r, "subnet") : null,
          r.hasNonNull("publicAddress") ? text(r, "publicAddress") : null, text(r, "specVersion"),
          text(r, "token"), st, r.hasNonNull("failure") ? text(r, "failure") : null,
          r.path("held").asBoolean(false), st == InstanceState.READY || r.path("initialized").asBoolean(false)));
    }
    return new DeploymentRecord(pod, text(o, "owner"), o.path("destroying").asBoolean(false), list);
  }

  private static String text(JsonNode o, String k) {
    JsonNode v = o.get(k);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException("missing or non-text field '" + k + "'");
    }
    return v.asText();
  }
}
