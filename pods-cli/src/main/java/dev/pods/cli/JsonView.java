package dev.pods.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.Block;
import dev.pods.Problem;
import dev.pods.Prose;
import dev.pods.ResourceBlock;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.spec.DomainRecord;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.InstanceOptions;
import dev.pods.spec.JournalInput;
import dev.pods.spec.Mount;
import dev.pods.spec.NodePort;
import dev.pods.spec.Reference;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.function.Function;

/**
 * The JSON view of the model printed by {@code pods render --json}: field names as in templates, values as
 * typed in the model, the document as an ordered list of blocks. Stateless and thread-safe.
 */
final class JsonView {
  private final ObjectMapper mapper;

  JsonView(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  ObjectNode unit(Unit u) {
    ObjectNode n = mapper.createObjectNode();
    n.put("name", u.name());
    n.put("count", u.count());
    n.put("image", u.image());
    n.put("processors", u.processors());
    n.put("memoryMib", u.memoryMib());
    n.put("diskSizeGib", u.diskSizeGib());
    n.put("vpc", u.vpc());
    if (u.subnet() != null) {
      n.put("subnet", u.subnet());
    }
    n.put("publicAddress", u.publicAddress());
    n.set("nodePorts", array(u.nodePorts(), this::nodePort));
    n.set("mounts", array(u.mounts(), this::mount));
    n.set("roles", array(u.roles(), mapper.getNodeFactory()::textNode));
    n.set("secrets", array(u.secrets(), this::ref));
    n.set("options", options(u.options()));
    n.set(
        "firewalls",
        array(
            u.firewalls(),
            f -> {
              ObjectNode o = mapper.createObjectNode().put("name", f.name());
              o.set("ingress", array(f.ingress(), this::rule));
              return o;
            }));
    n.set(
        "domains",
        array(
            u.domains(),
            d -> {
              ObjectNode o = mapper.createObjectNode().put("name", d.name());
              o.set("records", array(d.records(), this::record));
              return o;
            }));
    n.set(
        "journals",
        array(
            u.journals(),
            j -> {
              ObjectNode o = mapper.createObjectNode().put("name", j.name());
              o.set("inputs", array(j.inputs(), this::input));
              return o;
            }));
    n.set("blocks", array(u.blocks(), this::block));
    return n;
  }

  ObjectNode problem(Problem p) {
    ObjectNode o = mapper.createObjectNode();
    o.put("severity", p.severity().name().toLowerCase(java.util.Locale.ROOT));
    if (p.location() != null) {
      o.put("source", p.location().source());
      o.put("line", p.location().line());
      o.put("column", p.location().column());
    }
    o.put("field", p.field());
    o.put("message", p.message());
    return o;
  }

  private <T> ArrayNode array(List<T> items, Function<T, JsonNode> f) {
    ArrayNode a = mapper.createArrayNode();
    items.forEach(i -> a.add(f.apply(i)));
    return a;
  }

  private JsonNode ref(Reference r) {
    return mapper.getNodeFactory().textNode(r.toString());
  }

  private JsonNode nodePort(NodePort p) {
    return mapper.createObjectNode()
        .put("protocol", p.protocol().id())
        .put("externalPort", p.externalPort())
        .put("internalPort", p.internalPort());
  }

  private JsonNode mount(Mount m) {
    ObjectNode o = mapper.createObjectNode();
    if (m.name() != null) {
      o.put("name", m.name());
    }
    o.put("type", m.type().id()).put("path", m.path());
    if (m.hostPath() != null) {
      o.put("hostPath", m.hostPath());
      o.put("readOnly", m.readOnly());
    }
    o.set("disks", array(m.disks(), this::ref));
    return o;
  }

  private JsonNode rule(IngressRule r) {
    ObjectNode o = mapper.createObjectNode().put("protocol", r.protocol().id());
    if (r.ports() != null) {
      o.put("port", r.ports().toString());
    }
    o.set("source", array(r.sources(), s -> mapper.getNodeFactory().textNode(s.text())));
    ArrayNode units = mapper.createArrayNode();
    r.sources().stream()
        .filter(s -> s instanceof IngressSource.Unit)
        .forEach(s -> units.add(((IngressSource.Unit) s).unitName()));
    if (!units.isEmpty()) {
      o.set("units", units);
    }
    return o;
  }

  private JsonNode record(DomainRecord r) {
    ObjectNode o =
        mapper.createObjectNode().put("name", r.name()).put("domain", r.domain().toString()).put("type", r.type().id());
    if (r.select() != null) {
      o.put("select", r.select());
    }
    return o;
  }

  private JsonNode input(JournalInput i) {
    ObjectNode o = mapper.createObjectNode().put("key", i.key()).put("type", i.type().id());
    if (i.unit() != null) {
      o.put("unit", i.unit());
    }
    if (i.path() != null) {
      o.put("path", i.path());
    }
    return o;
  }

  private JsonNode options(InstanceOptions opts) {
    ObjectNode o = mapper.createObjectNode();
    for (RecordComponent rc : InstanceOptions.class.getRecordComponents()) {
      Object v;
      try {
        v = rc.getAccessor().invoke(opts);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
      if (v == null || (v instanceof List<?> l && l.isEmpty())) {
        continue;
      }
      if (v instanceof List<?> l) {
        ArrayNode a = o.putArray(rc.getName());
        l.forEach(x -> a.add(x.toString()));
      } else if (v instanceof Boolean b) {
        o.put(rc.getName(), b);
      } else {
        o.put(rc.getName(), v.toString());
      }
    }
    return o;
  }

  private JsonNode block(Block b) {
    ObjectNode o = mapper.createObjectNode();
    if (b instanceof Prose p) {
      o.put("type", "prose").put("markdown", p.markdown());
    } else if (b instanceof ResourceBlock r) {
      o.put("type", "resources");
      o.set("names", array(r.names(), mapper.getNodeFactory()::textNode));
    } else if (b instanceof Script s) {
      o.put("type", "script").put("language", s.language().id()).put("phase", s.phase().id());
      if (s.timeout() != null) {
        o.put("timeoutSeconds", s.timeout().toSeconds());
      }
      o.put("source", s.source());
    }
    return o;
  }
}
