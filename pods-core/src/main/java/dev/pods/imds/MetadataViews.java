package dev.pods.imds;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.Script;
import dev.pods.spec.Journal;
import dev.pods.spec.JournalInput;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the agent reads about its instance, rendered from the view being served: its spec (blocks, mounts, journal
 * inputs), its meta-data, the answers to its queries and the secrets its unit declares (403 for others). Reads only;
 * thread-safe (each answer is rendered from one snapshot) and never blocks.
 */
final class MetadataViews {
  private final ServedState state;
  private final Duration defaultBlockTimeout;

  MetadataViews(ServedState state, Duration defaultBlockTimeout) {
    this.state = state;
    this.defaultBlockTimeout = defaultBlockTimeout;
  }

  /** The body of {@code GET /v1/spec}. */
  String specText() {
    ServedState.Snapshot s = state.current();
    StringBuilder b = new StringBuilder("pods-spec 1\n");
    b.append("instance ").append(s.view().instanceId()).append('\n');
    b.append("version ").append(s.view().specVersion()).append('\n');
    b.append("hash ").append(s.hash()).append('\n');
    b.append("initialized ").append(state.initialized() ? 1 : 0).append('\n');
    List<Script> scripts = s.view().spec().scripts();
    Base64.Encoder enc = Base64.getEncoder();
    for (int i = 0; i < scripts.size(); i++) {
      Script sc = scripts.get(i);
      Duration t = sc.timeout() != null ? sc.timeout() : defaultBlockTimeout;
      long secs = Math.max(1, (t.toMillis() + 999) / 1000);
      String src = sc.source().endsWith("\n") ? sc.source() : sc.source() + "\n";
      b.append("block ").append(i).append(' ').append(sc.language().id()).append(' ').append(sc.phase().id())
          .append(' ').append(secs).append(' ')
          .append(enc.encodeToString(src.getBytes(StandardCharsets.UTF_8))).append('\n');
    }
    List<Mount> mounts = s.view().spec().mounts();
    for (int i = 0; i < mounts.size(); i++) {
      Mount mt = mounts.get(i);
      String where = enc.encodeToString(mt.path().getBytes(StandardCharsets.UTF_8));
      if (mt.type() == Mount.Type.DISK) {
        b.append("mount disk ").append(ImdsServer.diskSerial(i)).append(' ').append(where).append('\n');
      } else {
        b.append("mount host ").append(ImdsServer.folderTag(i)).append(' ').append(where)
            .append(mt.readOnly() ? " ro" : " rw").append('\n');
      }
    }
    for (Journal j : s.view().spec().journals()) {
      for (JournalInput in : j.inputs()) {
        String source = in.type() == JournalInput.Type.SYSTEMD ? in.unit() : in.path();
        b.append("journal ").append(in.key()).append(' ').append(in.type().id()).append(' ')
            .append(enc.encodeToString(Objects.requireNonNull(source).getBytes(StandardCharsets.UTF_8)))
            .append('\n');
      }
    }
    return b.append("end\n").toString();
  }

  /** The body of {@code GET /v1/meta-data}. */
  ObjectNode metaData() {
    ServedState.Snapshot s = state.current();
    InstanceView v = s.view();
    ObjectNode o = Exchanges.JSON.createObjectNode();
    o.put("protocol", ImdsProtocol.VERSION);
    o.put("instanceId", v.instanceId());
    o.put("hostname", v.hostname());
    o.put("pod", v.pod());
    o.put("unit", v.unit());
    o.put("index", v.index());
    o.put("specVersion", v.specVersion());
    o.put("stateHash", s.hash());
    o.put("initialized", state.initialized());
    v.privateIps().forEach(o.putArray("privateIps")::add);
    v.publicIps().forEach(o.putArray("publicIps")::add);
    ObjectNode units = o.putObject("units");
    v.units().forEach(
        (name, peers) -> {
          ArrayNode a = units.putArray(name);
          for (PeerInstance p : peers) {
            ObjectNode po = a.addObject();
            po.put("name", p.name());
            po.put("index", p.index());
            p.privateIps().forEach(po.putArray("privateIps")::add);
            p.publicIps().forEach(po.putArray("publicIps")::add);
            po.put("healthy", p.healthy());
          }
        });
    v.secrets().keySet().forEach(o.putArray("secrets")::add);
    return o;
  }

  /** The value of {@code +/KIND/NAME/SELECTOR} (the body of {@code GET /v1/query/KIND/NAME/SELECTOR}, less its newline). */
  String query(String kind, String name, String selector) throws HttpError {
    String text = "+/" + kind + "/" + name + "/" + selector;
    Reference ref;
    try {
      ref = Reference.parse(text);
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, e.getMessage());
    }
    InstanceView v = state.view();
    if (ref.kind().equals("secret")) {
      declared(v, ref.name());
    }
    Optional<String> value = QueryResolver.resolve(v, ref);
    if (value.isEmpty()) {
      throw new HttpError(404, "nothing at " + ref + " for " + v.instanceId());
    }
    return value.get();
  }

  /** Every field of secret {@code name} as a JSON object (the body of {@code GET /v1/query/secret/NAME}). */
  ObjectNode secret(String name) throws HttpError {
    ObjectNode o = Exchanges.JSON.createObjectNode();
    declared(state.view(), name).forEach(o::put);
    return o;
  }

  /** Whether the instance's unit declares journal input {@code key}. */
  boolean journalDeclared(String key) {
    return state.view().spec().journals().stream()
        .anyMatch(j -> j.inputs().stream().anyMatch(in -> in.key().equals(key)));
  }

  /** 403 unless the instance's unit declares secret {@code name}. */
  private static Map<String, String> declared(InstanceView v, String name) throws HttpError {
    Map<String, String> fields = v.secrets().get(name);
    if (fields == null) {
      throw new HttpError(403, "unit " + v.unit() + " does not declare +/secret/" + name
          + " (add it to the unit's secrets to read it)");
    }
    return fields;
  }
}
