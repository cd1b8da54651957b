package dev.pods.diff;

import dev.pods.Phase;
import dev.pods.Prose;
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
import dev.pods.spec.Reference;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The structural difference between two versions of a unit: which fields, resources and scripts changed,
 * each classified by its {@link Impact}.
 *
 * <p>Live changes (applied by a reload): {@code count}, scripts, firewalls, DNS records, journals, roles,
 * secrets, the public address, node ports, the restart policy and the health checks ({@code readiness},
 * {@code liveness}). Recreate changes (a new domain and disk):
 * {@code image}, {@code diskSize}, {@code processors}, {@code memory}, {@code vpc}, {@code subnet}, mounts,
 * {@code vnc}, {@code livenessTimeout} (the agent's poll interval on the guest's seed follows it), and the unit's
 * name. No impact: prose, and Pritunl options that have no effect on a pods host.
 *
 * <p>Immutable and thread-safe. Computing a diff does no I/O.
 */
public final class UnitDiff {
  private final String before;
  private final String after;
  private final List<Change> changes;

  private UnitDiff(String before, String after, List<Change> changes) {
    this.before = before;
    this.after = after;
    this.changes = List.copyOf(changes);
  }

  /** The changes that turn {@code before} into {@code after}, in a stable order (fields, resources, scripts, prose). */
  public static UnitDiff between(Unit before, Unit after) {
    Objects.requireNonNull(before, "before");
    Objects.requireNonNull(after, "after");
    List<Change> out = new ArrayList<>();
    field(out, "name", before.name(), after.name(), Impact.RECREATE);
    field(out, "count", before.count(), after.count(), Impact.LIVE);
    field(out, "image", before.image(), after.image(), Impact.RECREATE);
    field(out, "processors", before.processors(), after.processors(), Impact.RECREATE);
    field(out, "memory", before.memoryMib(), after.memoryMib(), Impact.RECREATE);
    field(out, "diskSize", before.diskSizeGib(), after.diskSizeGib(), Impact.RECREATE);
    field(out, "vpc", before.vpc(), after.vpc(), Impact.RECREATE);
    field(out, "subnet", before.subnet(), after.subnet(), Impact.RECREATE);
    field(out, "publicAddress", before.publicAddress(), after.publicAddress(), Impact.LIVE);
    field(out, "restart", before.restart().templateName(), after.restart().templateName(), Impact.LIVE);
    // the agent's poll interval follows it, and it is on the guest's seed
    field(out, "livenessTimeout", before.livenessTimeout().toSeconds(), after.livenessTimeout().toSeconds(),
        Impact.RECREATE);
    // checked by the runtime on the host: the next watch runs the new checks
    list(out, "readiness", before.readinessChecks(), after.readinessChecks(), UnitDiff::check, Impact.LIVE);
    list(out, "liveness", before.livenessChecks(), after.livenessChecks(), UnitDiff::check, Impact.LIVE);
    list(out, "nodePorts", before.nodePorts(), after.nodePorts(), UnitDiff::nodePort, Impact.LIVE);
    list(out, "mounts", before.mounts(), after.mounts(), UnitDiff::mount, Impact.RECREATE);
    list(out, "roles", before.roles(), after.roles(), s -> s, Impact.LIVE);
    list(out, "secrets", before.secrets(), after.secrets(), Reference::toString, Impact.LIVE);
    options(out, before.options(), after.options());
    named(out, "firewall", before.firewalls(), after.firewalls(), Firewall::name, f -> rules(f.ingress()));
    named(out, "domain", before.domains(), after.domains(), DomainRecords::name, d -> records(d.records()));
    named(out, "journal", before.journals(), after.journals(), Journal::name, j -> inputs(j.inputs()));
    scripts(out, before.scripts(), after.scripts());
    prose(out, before, after);
    return new UnitDiff(before.name(), after.name(), out);
  }

  /** Every change; empty when the units are equal. */
  public List<Change> changes() {
    return changes;
  }

  /** Whether nothing changed. */
  public boolean isEmpty() {
    return changes.isEmpty();
  }

  /** The most disruptive impact of all changes; {@link Impact#NONE} when there are none. */
  public Impact impact() {
    Impact i = Impact.NONE;
    for (Change c : changes) {
      i = i.max(c.impact());
    }
    return i;
  }

  /**
   * The diff as text for people: a header, then one line per change ({@code +} added, {@code -} removed,
   * {@code ~} changed) with its impact, and line diffs under changed scripts and prose.
   */
  public String toText() {
    StringBuilder b = new StringBuilder();
    String title = before.equals(after) ? "unit " + after : "unit " + before + " -> " + after;
    if (changes.isEmpty()) {
      return b.append(title).append(": no changes\n").toString();
    }
    b.append(title)
        .append(": ")
        .append(changes.size())
        .append(changes.size() == 1 ? " change" : " changes")
        .append(" (")
        .append(impact().name().toLowerCase(java.util.Locale.ROOT))
        .append(")\n");
    for (Change c : changes) {
      char mark = c.isAddition() ? '+' : c.isRemoval() ? '-' : '~';
      b.append("  ").append(mark).append(' ').append(c.path());
      if (c.lines().isEmpty()) {
        if (c.isAddition()) {
          b.append(": ").append(c.after());
        } else if (c.isRemoval()) {
          b.append(": ").append(c.before());
        } else {
          b.append(": ").append(c.before()).append(" -> ").append(c.after());
        }
      }
      b.append("  [").append(c.impact().name().toLowerCase(java.util.Locale.ROOT)).append("]\n");
      for (String l : c.lines()) {
        b.append("      ").append(l).append('\n');
      }
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return toText();
  }

  private static void field(List<Change> out, String path, @Nullable Object a, @Nullable Object b, Impact impact) {
    if (!Objects.equals(a, b)) {
      out.add(new Change(path, a == null ? "(none)" : a.toString(), b == null ? "(none)" : b.toString(), impact, List.of()));
    }
  }

  private static <T> void list(
      List<Change> out, String path, List<T> a, List<T> b, Function<T, String> text, Impact impact) {
    if (!a.equals(b)) {
      out.add(new Change(path, listText(a, text), listText(b, text), impact, List.of()));
    }
  }

  private static <T> String listText(List<T> l, Function<T, String> text) {
    return l.stream().map(text).collect(Collectors.joining(", ", "[", "]"));
  }

  private static void options(List<Change> out, InstanceOptions a, InstanceOptions b) {
    for (RecordComponent rc : InstanceOptions.class.getRecordComponents()) {
      Object x = read(rc, a);
      Object y = read(rc, b);
      if (!Objects.equals(x, y)) {
        Impact impact = rc.getName().equals("vnc") ? Impact.RECREATE : Impact.NONE;
        field(out, rc.getName(), empty(x) ? null : x, empty(y) ? null : y, impact);
      }
    }
  }

  private static boolean empty(@Nullable Object o) {
    return o == null || (o instanceof List<?> l && l.isEmpty());
  }

  private static @Nullable Object read(RecordComponent rc, InstanceOptions o) {
    try {
      return rc.getAccessor().invoke(o);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read option " + rc.getName(), e);
    }
  }

  private static <T> void named(
      List<Change> out,
      String kind,
      List<T> a,
      List<T> b,
      Function<T, String> name,
      Function<T, List<String>> items) {
    Map<String, T> before = index(a, name);
    Map<String, T> after = index(b, name);
    for (Map.Entry<String, T> e : before.entrySet()) {
      String path = kind + "[" + e.getKey() + "]";
      T next = after.get(e.getKey());
      List<String> x = items.apply(e.getValue());
      if (next == null) {
        out.add(new Change(path, String.join("; ", x), null, Impact.LIVE, List.of()));
        continue;
      }
      List<String> y = items.apply(next);
      int n = Math.max(x.size(), y.size());
      for (int i = 0; i < n; i++) {
        String u = i < x.size() ? x.get(i) : null;
        String v = i < y.size() ? y.get(i) : null;
        if (!Objects.equals(u, v)) {
          out.add(new Change(path + "[" + i + "]", u, v, Impact.LIVE, List.of()));
        }
      }
    }
    for (Map.Entry<String, T> e : after.entrySet()) {
      if (!before.containsKey(e.getKey())) {
        out.add(
            new Change(
                kind + "[" + e.getKey() + "]", null, String.join("; ", items.apply(e.getValue())), Impact.LIVE, List.of()));
      }
    }
  }

  private static <T> Map<String, T> index(List<T> l, Function<T, String> name) {
    Map<String, T> m = new LinkedHashMap<>();
    l.forEach(t -> m.put(name.apply(t), t));
    return m;
  }

  private static void scripts(List<Change> out, List<Script> a, List<Script> b) {
    for (Phase phase : Phase.values()) {
      List<Script> x = a.stream().filter(s -> s.phase() == phase).toList();
      List<Script> y = b.stream().filter(s -> s.phase() == phase).toList();
      int n = Math.max(x.size(), y.size());
      for (int i = 0; i < n; i++) {
        Script u = i < x.size() ? x.get(i) : null;
        Script v = i < y.size() ? y.get(i) : null;
        if (Objects.equals(u, v)) {
          continue;
        }
        String path = "scripts." + phase.id() + "[" + i + "]";
        String ut = u == null ? null : scriptHeader(u);
        String vt = v == null ? null : scriptHeader(v);
        List<String> lines = LineDiff.diff(u == null ? "" : u.source(), v == null ? "" : v.source());
        if (u == null) {
          lines = v.source().lines().map(l -> "+ " + l).toList();
        } else if (v == null) {
          lines = u.source().lines().map(l -> "- " + l).toList();
        }
        out.add(new Change(path, ut, vt, Impact.LIVE, lines));
      }
    }
    List<Phase> orderA = a.stream().map(Script::phase).toList();
    List<Phase> orderB = b.stream().map(Script::phase).toList();
    if (!orderA.equals(orderB) && out.stream().noneMatch(c -> c.path().startsWith("scripts."))) {
      out.add(new Change("scripts.order", phases(orderA), phases(orderB), Impact.LIVE, List.of()));
    }
  }

  private static String phases(List<Phase> l) {
    return l.stream().map(Phase::id).collect(Collectors.joining(", ", "[", "]"));
  }

  private static String scriptHeader(Script s) {
    return s.language().id() + " {phase=" + s.phase().id() + (s.timeout() == null ? "" : ", timeout=" + s.timeout()) + "}";
  }

  private static void prose(List<Change> out, Unit a, Unit b) {
    String x = proseText(a);
    String y = proseText(b);
    if (!x.equals(y)) {
      out.add(new Change("documentation", x.isEmpty() ? null : "(prose)", y.isEmpty() ? null : "(prose)", Impact.NONE, LineDiff.diff(x, y).stream().filter(l -> !l.startsWith("  ")).toList()));
    }
  }

  private static String proseText(Unit u) {
    return u.blocks().stream()
        .filter(bl -> bl instanceof Prose)
        .map(bl -> ((Prose) bl).markdown())
        .collect(Collectors.joining("\n\n"));
  }

  static String rule(IngressRule r) {
    StringBuilder b = new StringBuilder(r.protocol().id());
    if (r.ports() != null) {
      b.append(' ').append(r.ports());
    }
    b.append(" from ").append(r.sources().stream().map(IngressSource::text).collect(Collectors.joining(", ")));
    return b.toString();
  }

  private static List<String> rules(List<IngressRule> l) {
    return l.stream().map(UnitDiff::rule).toList();
  }

  private static List<String> records(List<DomainRecord> l) {
    return l.stream()
        .map(r -> r.name() + " " + r.domain() + " " + r.type().id() + (r.select() == null ? "" : " select=" + r.select()))
        .toList();
  }

  private static List<String> inputs(List<JournalInput> l) {
    return l.stream()
        .map(i -> i.key() + " " + i.type().id() + " " + (i.unit() != null ? i.unit() : i.path()))
        .toList();
  }

  private static String check(HealthCheck c) {
    return c.describe() + " every " + c.interval().toSeconds() + " s, timeout " + c.timeout().toSeconds()
        + " s, failures " + c.failures() + ", grace " + c.grace().toSeconds() + " s";
  }

  private static String nodePort(NodePort p) {
    return p.protocol().id() + " " + p.externalPort() + "->" + p.internalPort();
  }

  private static String mount(Mount m) {
    return m.path()
        + " "
        + m.type().id()
        + (m.hostPath() != null ? " " + m.hostPath() + (m.readOnly() ? " ro" : " rw") : "")
        + (m.disks().isEmpty() ? "" : " " + m.disks());
  }
}
