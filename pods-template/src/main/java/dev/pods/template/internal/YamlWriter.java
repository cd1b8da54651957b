package dev.pods.template.internal;

import dev.pods.Unit;
import dev.pods.internal.Names;
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
import dev.pods.spec.Reference;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Writes resources as canonical YAML: keys in Pritunl Cloud's order, fields at their default left out, lists
 * of scalars in flow style ({@code [a, b]}), lists of records as block lists of flow mappings. A string is
 * written plain when every YAML 1.1 reader takes it for that same string (e.g. {@code +/unit/web},
 * {@code 10.0.0.0/8}), and double-quoted with escapes otherwise. Thread-safe (stateless).
 */
public final class YamlWriter {
  /** YAML 1.1's resolver, to quote anything another reader would take for a number, boolean or null. */
  private static final Resolver YAML11 = new Resolver();

  private YamlWriter() {}

  /** The instance resource of a unit. */
  public static void instance(Unit u, StringBuilder b) {
    InstanceOptions o = u.options();
    key(b, "name").append(scalar(u.name(), false)).append('\n');
    b.append("kind: instance\n");
    if (u.count() != Unit.DEFAULT_COUNT) {
      key(b, "count").append(u.count()).append('\n');
    }
    ref(b, "zone", o.zone());
    ref(b, "node", o.node());
    ref(b, "shape", o.shape());
    if (!u.vpc().equals(Unit.DEFAULT_VPC)) {
      key(b, "vpc").append("+/vpc/").append(u.vpc()).append('\n');
    }
    String subnet = u.subnet();
    if (subnet != null) {
      key(b, "subnet").append(Names.isValid(subnet) ? "+/subnet/" + subnet : scalar(subnet, false)).append('\n');
    }
    key(b, "image").append(scalar(u.image(), false)).append('\n');
    ref(b, "plan", o.plan());
    if (u.processors() != Unit.DEFAULT_PROCESSORS) {
      key(b, "processors").append(u.processors()).append('\n');
    }
    if (u.memoryMib() != Unit.DEFAULT_MEMORY_MIB) {
      key(b, "memory").append(u.memoryMib()).append('\n');
    }
    if (u.diskSizeGib() != Unit.DEFAULT_DISK_SIZE_GIB) {
      key(b, "diskSize").append(u.diskSizeGib()).append('\n');
    }
    bool(b, "uefi", o.uefi());
    bool(b, "secureBoot", o.secureBoot());
    if (o.cloudType() != null) {
      key(b, "cloudType").append(scalar(o.cloudType(), false)).append('\n');
    }
    bool(b, "tpm", o.tpm());
    bool(b, "vnc", o.vnc());
    bool(b, "gui", o.gui());
    bool(b, "deleteProtection", o.deleteProtection());
    bool(b, "skipSourceDestCheck", o.skipSourceDestCheck());
    bool(b, "dhcpServer", o.dhcpServer());
    bool(b, "hostAddress", o.hostAddress());
    if (u.publicAddress()) {
      b.append("publicAddress: true\n");
    }
    bool(b, "publicAddress6", o.publicAddress6());
    flowList(b, "roles", u.roles(), r -> r);
    flowList(b, "secrets", u.secrets(), Reference::toString);
    flowList(b, "certificates", o.certificates(), Reference::toString);
    flowList(b, "pods", o.pods(), Reference::toString);
    if (!u.nodePorts().isEmpty()) {
      b.append("nodePorts:\n");
      for (NodePort p : u.nodePorts()) {
        b.append("  - {protocol: ").append(p.protocol().id())
            .append(", externalPort: ").append(p.externalPort())
            .append(", internalPort: ").append(p.internalPort()).append("}\n");
      }
    }
    if (!u.mounts().isEmpty()) {
      b.append("mounts:\n");
      for (Mount m : u.mounts()) {
        b.append("  - {");
        if (m.name() != null) {
          b.append("name: ").append(scalar(m.name(), true)).append(", ");
        }
        b.append("type: ").append(m.type().id()).append(", path: ").append(scalar(m.path(), true));
        if (m.hostPath() != null) {
          b.append(", hostPath: ").append(scalar(m.hostPath(), true));
        }
        if (m.type() == Mount.Type.HOST_PATH && !m.readOnly()) {
          b.append(", readOnly: false");
        }
        if (!m.disks().isEmpty()) {
          b.append(", disks: ");
          flow(b, m.disks(), Reference::toString);
        }
        b.append("}\n");
      }
    }
    if (o.failover() != null) {
      key(b, "failover").append(scalar(o.failover(), false)).append('\n');
    }
    if (u.restart() != Unit.DEFAULT_RESTART) {
      key(b, "restart").append(u.restart().templateName()).append('\n');
    }
    if (!u.livenessTimeout().equals(Unit.DEFAULT_LIVENESS_TIMEOUT)) {
      key(b, "livenessTimeout").append(u.livenessTimeout().toSeconds()).append('\n');
    }
    checks(b, "readiness", u.readinessChecks());
    checks(b, "liveness", u.livenessChecks());
  }

  private static void checks(StringBuilder b, String key, List<HealthCheck> checks) {
    if (checks.isEmpty()) {
      return;
    }
    b.append(key).append(":\n");
    for (HealthCheck c : checks) {
      b.append("  - {");
      switch (c.kind()) {
        case EXEC -> {
          b.append("exec: ");
          flow(b, c.command(), a -> a);
        }
        case TCP -> b.append("tcp: ").append(c.port());
        case HTTP -> b.append("http: ").append(scalar(c.path(), true)).append(", port: ").append(c.port());
      }
      if (!c.interval().equals(HealthCheck.DEFAULT_INTERVAL)) {
        b.append(", interval: ").append(c.interval().toSeconds());
      }
      if (!c.timeout().equals(HealthCheck.DEFAULT_TIMEOUT)) {
        b.append(", timeout: ").append(c.timeout().toSeconds());
      }
      if (c.failures() != HealthCheck.DEFAULT_FAILURES) {
        b.append(", failures: ").append(c.failures());
      }
      if (!c.grace().isZero()) {
        b.append(", grace: ").append(c.grace().toSeconds());
      }
      b.append("}\n");
    }
  }

  /** A firewall resource. */
  public static void firewall(Firewall f, StringBuilder b) {
    key(b, "name").append(scalar(f.name(), false)).append('\n');
    b.append("kind: firewall\n");
    if (f.ingress().isEmpty()) {
      b.append("ingress: []\n");
      return;
    }
    b.append("ingress:\n");
    for (IngressRule r : f.ingress()) {
      b.append("  - {protocol: ").append(r.protocol().id());
      if (r.ports() != null) {
        // A single port is a bare number, as in Pritunl's own templates; a range is a plain string.
        b.append(", port: ").append(r.ports().isSingle() ? r.ports().toString() : scalar(r.ports().toString(), true));
      }
      b.append(", source: ");
      flow(b, r.sources(), IngressSource::text);
      b.append("}\n");
    }
  }

  /** A domain resource. */
  public static void domain(DomainRecords d, StringBuilder b) {
    key(b, "name").append(scalar(d.name(), false)).append('\n');
    b.append("kind: domain\n");
    if (d.records().isEmpty()) {
      b.append("records: []\n");
      return;
    }
    b.append("records:\n");
    for (DomainRecord r : d.records()) {
      b.append("  - {name: ").append(scalar(r.name(), true))
          .append(", domain: ").append(scalar(r.domain().toString(), true))
          .append(", type: ").append(r.type().id());
      if (r.select() != null) {
        b.append(", select: ").append(scalar(r.select(), true));
      }
      b.append("}\n");
    }
  }

  /** A journal resource. */
  public static void journal(Journal j, StringBuilder b) {
    key(b, "name").append(scalar(j.name(), false)).append('\n');
    b.append("kind: journal\n");
    if (j.inputs().isEmpty()) {
      b.append("inputs: []\n");
      return;
    }
    b.append("inputs:\n");
    for (JournalInput in : j.inputs()) {
      b.append("  - {key: ").append(scalar(in.key(), true)).append(", type: ").append(in.type().id());
      if (in.unit() != null) {
        b.append(", unit: ").append(scalar(in.unit(), true));
      }
      if (in.path() != null) {
        b.append(", path: ").append(scalar(in.path(), true));
      }
      b.append("}\n");
    }
  }

  private static StringBuilder key(StringBuilder b, String key) {
    return b.append(key).append(": ");
  }

  private static void ref(StringBuilder b, String key, @Nullable Reference r) {
    if (r != null) {
      key(b, key).append(scalar(r.toString(), false)).append('\n');
    }
  }

  private static void bool(StringBuilder b, String key, @Nullable Boolean value) {
    if (value != null) {
      key(b, key).append(value).append('\n');
    }
  }

  private static <T> void flowList(StringBuilder b, String key, List<T> items, Function<T, String> text) {
    if (!items.isEmpty()) {
      key(b, key);
      flow(b, items, text);
      b.append('\n');
    }
  }

  private static <T> void flow(StringBuilder b, List<T> items, Function<T, String> text) {
    b.append('[');
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) {
        b.append(", ");
      }
      b.append(scalar(text.apply(items.get(i)), true));
    }
    b.append(']');
  }

  /**
   * A string as a YAML scalar: plain when that is safe in the context, double-quoted otherwise.
   *
   * @param flow whether the scalar stands inside {@code [...]} or {@code {...}}
   */
  public static String scalar(String s, boolean flow) {
    return isPlainSafe(s, flow) ? s : quoted(s);
  }

  private static boolean isPlainSafe(String s, boolean flow) {
    if (s.isEmpty()) {
      return false;
    }
    char first = s.charAt(0);
    if (!(isAsciiAlnum(first) || first == '_' || first == '.' || first == '/' || first == '+')) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok =
          isAsciiAlnum(c) || c == '_' || c == '.' || c == '/' || c == '+' || c == '-' || c == '@' || c == '='
              || (c == ':' && !flow && i + 1 < s.length());
      if (!ok) {
        return false;
      }
    }
    return YAML11.resolve(NodeId.scalar, s, true).equals(Tag.STR);
  }

  private static boolean isAsciiAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  /** A double-quoted scalar; escapes what YAML does not allow raw or would fold. */
  public static String quoted(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        case '\r' -> b.append("\\r");
        case 0 -> b.append("\\0");
        default -> {
          if (c >= 0x20 && c < 0x7F) {
            b.append((char) c);
          } else if (c < 0x100 && (c < 0x20 || c >= 0x7F && c < 0xA0)) {
            b.append(String.format("\\x%02X", c));
          } else if (c == 0xFEFF || c == 0x2028 || c == 0x2029 || (c <= 0xFFFF && Character.isSurrogate((char) c))
              || !StreamReader.isPrintable(c)) {
            if (c > 0xFFFF) {
              b.append(String.format("\\U%08X", c));
            } else {
              b.append(String.format("\\u%04X", c));
            }
          } else {
            b.appendCodePoint(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
