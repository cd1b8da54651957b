package dev.pods.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.Block;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.Prose;
import dev.pods.ResourceBlock;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.spec.DomainRecord;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.InstanceOptions;
import dev.pods.spec.Journal;
import dev.pods.spec.JournalInput;
import dev.pods.spec.Mount;
import dev.pods.spec.HealthCheck;
import dev.pods.spec.NodePort;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spec.RecordType;
import dev.pods.spec.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The full model of a {@link Pod} (every unit with every field and block) as a JSON tree, and back, for the state
 * a restarted runtime rebuilds its deployments from.
 *
 * <p>Why a JSON form in pods-core rather than a Markdown rendering through a {@code TemplateWriter} SPI next to
 * {@link dev.pods.spi.TemplateReader}: a pod built in code must be recoverable without pods-template on the class
 * path, the round trip must be exact (the spec version of an instance is a hash of its unit, so a lossy or
 * normalising round trip would make every adopted instance look changed), and the state must stay readable by an
 * older or newer template syntax. The encoding is explicit, field by field (no reflection), with a format number
 * so that a later change can still read this one.
 *
 * <p>Contract: {@code decode(encode(pod)).equals(pod)} for every valid pod. {@link #decode} validates as the
 * builders do and throws {@link IllegalArgumentException} naming what is wrong. Stateless and thread-safe.
 */
final class PodJson {
  /** The version of this encoding. */
  static final int FORMAT = 1;
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private PodJson() {}

  /** The pod as a JSON object. */
  static ObjectNode encode(Pod pod) {
    ObjectNode o = F.objectNode();
    o.put("format", FORMAT);
    o.put("name", pod.name());
    ArrayNode units = o.putArray("units");
    pod.units().forEach(u -> units.add(unit(u)));
    return o;
  }

  /**
   * The pod a JSON object from {@link #encode} describes.
   *
   * @throws IllegalArgumentException when the object is not such a pod (unknown format, missing or invalid field)
   */
  static Pod decode(JsonNode o) {
    try {
      int format = o.path("format").asInt(-1);
      if (format != FORMAT) {
        throw new IllegalArgumentException("unknown pod format " + o.path("format") + " (this runtime reads "
            + FORMAT + ")");
      }
      Pod.Builder b = Pod.builder().name(text(o, "name"));
      for (JsonNode u : array(o, "units")) {
        b.unit(unit(u));
      }
      return b.build();
    } catch (RuntimeException e) {
      if (e instanceof IllegalArgumentException) {
        throw e;
      }
      throw new IllegalArgumentException("invalid pod in state: " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------------------------------ units

  private static ObjectNode unit(Unit u) {
    ObjectNode o = F.objectNode();
    o.put("name", u.name());
    o.put("count", u.count());
    o.put("image", u.image());
    o.put("processors", u.processors());
    o.put("memoryMib", u.memoryMib());
    o.put("diskSizeGib", u.diskSizeGib());
    o.put("vpc", u.vpc());
    putNullable(o, "subnet", u.subnet());
    o.put("publicAddress", u.publicAddress());
    o.put("restart", u.restart().name());
    o.put("livenessTimeoutSeconds", u.livenessTimeout().toSeconds());
    checks(o.putArray("readinessChecks"), u.readinessChecks());
    checks(o.putArray("livenessChecks"), u.livenessChecks());
    ArrayNode ports = o.putArray("nodePorts");
    for (NodePort p : u.nodePorts()) {
      ports.addObject().put("protocol", p.protocol().name()).put("externalPort", p.externalPort())
          .put("internalPort", p.internalPort());
    }
    ArrayNode mounts = o.putArray("mounts");
    for (Mount m : u.mounts()) {
      ObjectNode mo = mounts.addObject();
      putNullable(mo, "name", m.name());
      mo.put("type", m.type().name());
      mo.put("path", m.path());
      putNullable(mo, "hostPath", m.hostPath());
      mo.put("readOnly", m.readOnly());
      refs(mo.putArray("disks"), m.disks());
    }
    u.roles().forEach(o.putArray("roles")::add);
    refs(o.putArray("secrets"), u.secrets());
    o.set("options", options(u.options()));
    ArrayNode fws = o.putArray("firewalls");
    for (Firewall f : u.firewalls()) {
      ObjectNode fo = fws.addObject().put("name", f.name());
      ArrayNode rules = fo.putArray("ingress");
      for (IngressRule r : f.ingress()) {
        ObjectNode ro = rules.addObject().put("protocol", r.protocol().name());
        putNullable(ro, "ports", r.ports() == null ? null : r.ports().toString());
        r.sources().forEach(s -> ro.withArray("sources").add(s.text()));
      }
    }
    ArrayNode domains = o.putArray("domains");
    for (DomainRecords d : u.domains()) {
      ObjectNode dobj = domains.addObject().put("name", d.name());
      ArrayNode recs = dobj.putArray("records");
      for (DomainRecord r : d.records()) {
        ObjectNode ro = recs.addObject().put("name", r.name()).put("domain", r.domain().toString())
            .put("type", r.type().name());
        putNullable(ro, "select", r.select());
      }
    }
    ArrayNode journals = o.putArray("journals");
    for (Journal j : u.journals()) {
      ObjectNode jo = journals.addObject().put("name", j.name());
      ArrayNode inputs = jo.putArray("inputs");
      for (JournalInput in : j.inputs()) {
        ObjectNode io = inputs.addObject().put("key", in.key()).put("type", in.type().name());
        putNullable(io, "unit", in.unit());
        putNullable(io, "path", in.path());
      }
    }
    ArrayNode blocks = o.putArray("blocks");
    for (Block b : u.blocks()) {
      ObjectNode bo = blocks.addObject();
      if (b instanceof Prose p) {
        bo.put("prose", p.markdown());
      } else if (b instanceof ResourceBlock r) {
        r.names().forEach(bo.putArray("resources")::add);
      } else if (b instanceof Script s) {
        ObjectNode so = bo.putObject("script");
        so.put("language", s.language().name()).put("phase", s.phase().name()).put("source", s.source());
        putNullable(so, "timeout", s.timeout() == null ? null : s.timeout().toString());
      }
    }
    return o;
  }

  private static Unit unit(JsonNode o) {
    Unit.Builder b = Unit.builder()
        .name(text(o, "name"))
        .count(integer(o, "count"))
        .image(text(o, "image"))
        .processors(integer(o, "processors"))
        .memoryMib(integer(o, "memoryMib"))
        .diskSizeGib(integer(o, "diskSizeGib"))
        .vpc(text(o, "vpc"))
        .subnet(nullableText(o, "subnet"))
        .publicAddress(bool(o, "publicAddress"));
    if (o.hasNonNull("restart")) { // absent from records of earlier versions: the defaults
      b.restart(dev.pods.RestartPolicy.valueOf(text(o, "restart")));
    }
    if (o.hasNonNull("livenessTimeoutSeconds")) {
      b.livenessTimeout(java.time.Duration.ofSeconds(integer(o, "livenessTimeoutSeconds")));
    }
    if (o.has("readinessChecks")) { // absent from records of earlier versions: none
      b.readinessChecks(list(o, "readinessChecks", PodJson::check));
    }
    if (o.has("livenessChecks")) {
      b.livenessChecks(list(o, "livenessChecks", PodJson::check));
    }
    b.nodePorts(list(o, "nodePorts", p -> new NodePort(Protocol.valueOf(text(p, "protocol")),
        integer(p, "externalPort"), integer(p, "internalPort"))));
    b.mounts(list(o, "mounts", m -> new Mount(nullableText(m, "name"), Mount.Type.valueOf(text(m, "type")),
        text(m, "path"), nullableText(m, "hostPath"), list(m, "disks", r -> Reference.parse(r.asText())),
        m.has("readOnly") ? m.get("readOnly").asBoolean() : Mount.Type.valueOf(text(m, "type")) == Mount.Type.HOST_PATH)));
    b.roles(list(o, "roles", JsonNode::asText));
    b.secrets(list(o, "secrets", r -> Reference.parse(r.asText())));
    b.options(options(field(o, "options")));
    b.firewalls(list(o, "firewalls", f -> new Firewall(text(f, "name"), list(f, "ingress", r -> {
      String ports = nullableText(r, "ports");
      return new IngressRule(Protocol.valueOf(text(r, "protocol")), ports == null ? null : PortRange.parse(ports),
          list(r, "sources", s -> IngressSource.parse(s.asText())));
    }))));
    b.domains(list(o, "domains", d -> new DomainRecords(text(d, "name"), list(d, "records",
        r -> new DomainRecord(text(r, "name"), Reference.parse(text(r, "domain")),
            RecordType.valueOf(text(r, "type")), nullableText(r, "select"))))));
    b.journals(list(o, "journals", j -> new Journal(text(j, "name"), list(j, "inputs",
        in -> new JournalInput(text(in, "key"), JournalInput.Type.valueOf(text(in, "type")),
            nullableText(in, "unit"), nullableText(in, "path"))))));
    b.blocks(list(o, "blocks", PodJson::block));
    return b.build();
  }

  private static Block block(JsonNode b) {
    if (b.has("prose")) {
      return new Prose(text(b, "prose"));
    }
    if (b.has("resources")) {
      return new ResourceBlock(list(b, "resources", JsonNode::asText));
    }
    JsonNode s = field(b, "script");
    String timeout = nullableText(s, "timeout");
    return new Script(Script.Language.valueOf(text(s, "language")), Phase.valueOf(text(s, "phase")),
        text(s, "source"), timeout == null ? null : Duration.parse(timeout));
  }

  private static ObjectNode options(InstanceOptions x) {
    ObjectNode o = F.objectNode();
    putNullable(o, "zone", ref(x.zone()));
    putNullable(o, "node", ref(x.node()));
    putNullable(o, "shape", ref(x.shape()));
    putNullable(o, "plan", ref(x.plan()));
    putNullable(o, "uefi", x.uefi());
    putNullable(o, "secureBoot", x.secureBoot());
    putNullable(o, "cloudType", x.cloudType());
    putNullable(o, "tpm", x.tpm());
    putNullable(o, "vnc", x.vnc());
    putNullable(o, "gui", x.gui());
    putNullable(o, "deleteProtection", x.deleteProtection());
    putNullable(o, "skipSourceDestCheck", x.skipSourceDestCheck());
    putNullable(o, "dhcpServer", x.dhcpServer());
    putNullable(o, "hostAddress", x.hostAddress());
    putNullable(o, "publicAddress6", x.publicAddress6());
    refs(o.putArray("certificates"), x.certificates());
    refs(o.putArray("pods"), x.pods());
    putNullable(o, "failover", x.failover());
    return o;
  }

  private static InstanceOptions options(JsonNode o) {
    return new InstanceOptions(nullableRef(o, "zone"), nullableRef(o, "node"), nullableRef(o, "shape"),
        nullableRef(o, "plan"), nullableBool(o, "uefi"), nullableBool(o, "secureBoot"), nullableText(o, "cloudType"),
        nullableBool(o, "tpm"), nullableBool(o, "vnc"), nullableBool(o, "gui"), nullableBool(o, "deleteProtection"),
        nullableBool(o, "skipSourceDestCheck"), nullableBool(o, "dhcpServer"), nullableBool(o, "hostAddress"),
        nullableBool(o, "publicAddress6"), list(o, "certificates", r -> Reference.parse(r.asText())),
        list(o, "pods", r -> Reference.parse(r.asText())), nullableText(o, "failover"));
  }

  // ------------------------------------------------------------------------------------------ helpers

  private static @Nullable String ref(@Nullable Reference r) {
    return r == null ? null : r.toString();
  }

  private static void refs(ArrayNode a, List<Reference> refs) {
    refs.forEach(r -> a.add(r.toString()));
  }

  private static void putNullable(ObjectNode o, String k, @Nullable String v) {
    if (v != null) {
      o.put(k, v);
    }
  }

  private static void putNullable(ObjectNode o, String k, @Nullable Boolean v) {
    if (v != null) {
      o.put(k, v);
    }
  }

  private static JsonNode field(JsonNode o, String k) {
    JsonNode v = o.get(k);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("missing field '" + k + "' in " + abbreviate(o));
    }
    return v;
  }

  private static String text(JsonNode o, String k) {
    JsonNode v = field(o, k);
    if (!v.isTextual()) {
      throw new IllegalArgumentException("field '" + k + "' is not a string in " + abbreviate(o));
    }
    return v.asText();
  }

  private static @Nullable String nullableText(JsonNode o, String k) {
    return o.hasNonNull(k) ? text(o, k) : null;
  }

  private static @Nullable Reference nullableRef(JsonNode o, String k) {
    String t = nullableText(o, k);
    return t == null ? null : Reference.parse(t);
  }

  private static int integer(JsonNode o, String k) {
    JsonNode v = field(o, k);
    if (!v.canConvertToInt() || !v.isIntegralNumber()) {
      throw new IllegalArgumentException("field '" + k + "' is not an integer in " + abbreviate(o));
    }
    return v.asInt();
  }

  private static boolean bool(JsonNode o, String k) {
    JsonNode v = field(o, k);
    if (!v.isBoolean()) {
      throw new IllegalArgumentException("field '" + k + "' is not a boolean in " + abbreviate(o));
    }
    return v.asBoolean();
  }

  private static @Nullable Boolean nullableBool(JsonNode o, String k) {
    return o.hasNonNull(k) ? bool(o, k) : null;
  }

  private static ArrayNode array(JsonNode o, String k) {
    JsonNode v = field(o, k);
    if (!v.isArray()) {
      throw new IllegalArgumentException("field '" + k + "' is not an array in " + abbreviate(o));
    }
    return (ArrayNode) v;
  }

  private static void checks(ArrayNode out, List<HealthCheck> checks) {
    for (HealthCheck c : checks) {
      ObjectNode co = out.addObject().put("kind", c.kind().name());
      ArrayNode cmd = co.putArray("command");
      c.command().forEach(cmd::add);
      co.put("port", c.port()).put("path", c.path()).put("intervalSeconds", c.interval().toSeconds())
          .put("timeoutSeconds", c.timeout().toSeconds()).put("failures", c.failures())
          .put("graceSeconds", c.grace().toSeconds());
    }
  }

  private static HealthCheck check(JsonNode c) {
    return new HealthCheck(HealthCheck.Kind.valueOf(text(c, "kind")), list(c, "command", JsonNode::asText),
        integer(c, "port"), text(c, "path"), java.time.Duration.ofSeconds(integer(c, "intervalSeconds")),
        java.time.Duration.ofSeconds(integer(c, "timeoutSeconds")), integer(c, "failures"),
        java.time.Duration.ofSeconds(integer(c, "graceSeconds")));
  }

  private static <T> List<T> list(JsonNode o, String k, Function<JsonNode, T> f) {
    List<T> out = new ArrayList<>();
    for (JsonNode e : array(o, k)) {
      out.add(f.apply(e));
    }
    return out;
  }

  private static String abbreviate(JsonNode o) {
    String s = o.toString();
    return s.length() <= 120 ? s : s.substring(0, 117) + "...";
  }
}
