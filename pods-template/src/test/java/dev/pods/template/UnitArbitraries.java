package dev.pods.template;

import dev.pods.Block;
import dev.pods.Phase;
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
import dev.pods.spec.NodePort;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spec.RecordType;
import dev.pods.spec.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;

/** jqwik generators for valid units: every field of the model, prose and scripts included. */
final class UnitArbitraries {
  private UnitArbitraries() {}

  /** A list that may hold nulls, to carry more values than one combinator takes. */
  static List<Object> tuple(Object... values) {
    return java.util.Arrays.asList(values);
  }

  // ------------------------------------------------------------------------------------------------ small values

  /** A DNS label, as unit and resource names must be. */
  static Arbitrary<String> names() {
    Arbitrary<String> plain = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(8);
    Arbitrary<String> dashed =
        Combinators.combine(plain, Arbitraries.strings().withCharRange('0', '9').ofMaxLength(3), plain)
            .as((a, d, b) -> a + "-" + d + b);
    return Arbitraries.oneOf(plain, dashed, Arbitraries.of("web", "db", "lb", "api-1", "x", "0a", "null", "true"));
  }

  /** Text of any characters but surrogates: quotes, backslashes, control characters, emoji (as pairs). */
  static Arbitrary<String> anyText(int maxLength) {
    Arbitrary<String> bmp =
        Arbitraries.strings()
            .withCharRange('\u0000', '\uD7FF')
            .withCharRange('\uE000', '\uFFFF')
            .ofMaxLength(maxLength);
    Arbitrary<String> tricky =
        Arbitraries.of(
            "null", "~", "true", "yes", "No", "1.5", "0x1F", "8080", "2001-12-14", "a: b", "- x", "#c", "[x]",
            "{y}", "'q'", "\"dq\"", "a\\b", "\t", " lead", "trail ", "é", "😀", "\u2028", "\uFEFF", "*", "&a", "!t",
            "%p", "@at", "`b`", "a,b", "10.0.0.1");
    return Arbitraries.oneOf(bmp, tricky, Combinators.combine(tricky, bmp).as(String::concat));
  }

  static Arbitrary<String> nonBlankText(int maxLength) {
    return anyText(maxLength).filter(s -> !s.isBlank());
  }

  static Arbitrary<String> refPart() {
    Arbitrary<String> start = Arbitraries.strings().alpha().numeric().ofLength(1);
    Arbitrary<String> rest = Arbitraries.strings().alpha().numeric().withChars('.', '_', '-').ofMaxLength(6);
    return Combinators.combine(start, rest).as(String::concat);
  }

  static Arbitrary<Reference> refs(String kind) {
    return Combinators.combine(refPart(), refPart().injectNull(0.7), refPart().injectNull(0.7))
        .as((n, tag, sel) -> new Reference(kind, n, tag, sel));
  }

  /**
   * Absolute paths as the model accepts them (HostStrings): segments of any printable text (spaces, quotes, colons,
   * YAML-looking words, non-ASCII letters, emoji), never '.', '..' or empty, no control characters.
   */
  static Arbitrary<String> absolutePaths() {
    Arbitrary<String> segment = anyText(8)
        .map(t -> t.replace("/", "").codePoints()
            .filter(c -> !Character.isISOControl(c) && c != 0x2028 && c != 0x2029 && !(c >= 0x202a && c <= 0x202e)
                && !(c >= 0x2066 && c <= 0x2069) && c != 0x200e && c != 0x200f && c != 0x061c)
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString())
        .filter(t -> !t.isEmpty() && !t.equals(".") && !t.equals(".."));
    return Arbitraries.oneOf(
        Arbitraries.of("/", "/data", "/srv/app", "/var/log/app.log", "/mnt/with space", "/a:b", "/x/"),
        segment.list().ofMinSize(1).ofMaxSize(3).map(l -> "/" + String.join("/", l)));
  }

  /** Systemd unit names: letters, digits and ':_.@\-', a letter or digit first, no '..'. */
  static Arbitrary<String> unitNames() {
    Arbitrary<String> start = Arbitraries.strings().alpha().numeric().ofLength(1);
    Arbitrary<String> rest = Arbitraries.strings().alpha().numeric().withChars(':', '_', '.', '@', '\\', '-')
        .ofMaxLength(12).filter(r -> !r.contains(".."));
    return Combinators.combine(start, rest).as(String::concat).filter(u -> !u.contains(".."));
  }

  // ------------------------------------------------------------------------------------------------ instance parts

  static Arbitrary<String> images() {
    return Arbitraries.oneOf(
        Arbitraries.of("debian12", "almalinux9", "/var/lib/pods/images/base.qcow2", "https://example.com/a b.img"),
        refs("image").map(r -> new Reference("image", r.name(), r.tag(), null).toString()),
        refs("build").map(r -> new Reference("build", r.name(), r.tag(), null).toString()),
        nonBlankText(20).filter(s -> !Reference.isReference(s)));
  }

  static Arbitrary<String> subnets() {
    return Arbitraries.oneOf(
        names(), Arbitraries.of("10.1.0.0/16", "192.168.3.0/24", "fd00::/64", "10.0.0.1", "0.0.0.0/0"));
  }

  static Arbitrary<NodePort> nodePorts() {
    return Combinators.combine(
            Arbitraries.of(Protocol.TCP, Protocol.UDP),
            Arbitraries.integers().between(1, 65535),
            Arbitraries.integers().between(1, 65535))
        .as(NodePort::new);
  }

  static Arbitrary<Mount> mounts() {
    Arbitrary<Mount> disk =
        Combinators.combine(mountNames().injectNull(0.5), absolutePaths(), refs("disk").list().ofMinSize(1).ofMaxSize(2))
            .as((name, path, disks) -> new Mount(name, Mount.Type.DISK, path, null, disks));
    Arbitrary<Mount> host =
        Combinators.combine(mountNames().injectNull(0.5), absolutePaths(), absolutePaths(), Arbitraries.of(true, false))
            .as((name, path, hostPath, ro) -> new Mount(name, Mount.Type.HOST_PATH, path, hostPath, List.of(), ro));
    return Arbitraries.oneOf(disk, host);
  }

  static Arbitrary<String> mountNames() {
    return roles().filter(n -> !n.contains(".."));
  }

  static Arbitrary<String> roles() {
    Arbitrary<String> start = Arbitraries.strings().alpha().numeric().ofLength(1);
    Arbitrary<String> rest = Arbitraries.strings().alpha().numeric().withChars('_', '.', '-').ofMaxLength(8);
    return Combinators.combine(start, rest).as(String::concat);
  }

  static Arbitrary<InstanceOptions> options() {
    Arbitrary<Boolean> flag = Arbitraries.of(true, false).injectNull(0.6);
    Arbitrary<InstanceOptions> some =
        Combinators.combine(
                Combinators.combine(
                        refs("zone").injectNull(0.5),
                        refs("node").injectNull(0.6),
                        refs("shape").injectNull(0.6),
                        refs("plan").injectNull(0.6),
                        flag,
                        flag,
                        Arbitraries.of("linux", "linux_legacy", "bsd").injectNull(0.6),
                        flag)
                    .as(UnitArbitraries::tuple),
                Combinators.combine(flag, flag, flag, flag, flag, flag, flag).as(UnitArbitraries::tuple),
                refs("certificate").list().ofMaxSize(2),
                refs("pod").list().ofMaxSize(2),
                Arbitraries.just("primary").injectNull(0.7))
            .as(
                (a, b, certs, pods, failover) ->
                    new InstanceOptions(
                        (Reference) a.get(0), (Reference) a.get(1), (Reference) a.get(2), (Reference) a.get(3),
                        (Boolean) a.get(4), (Boolean) a.get(5), (String) a.get(6), (Boolean) a.get(7),
                        (Boolean) b.get(0), (Boolean) b.get(1), (Boolean) b.get(2), (Boolean) b.get(3),
                        (Boolean) b.get(4), (Boolean) b.get(5), (Boolean) b.get(6), certs, pods, failover));
    return Arbitraries.oneOf(Arbitraries.just(InstanceOptions.NONE), some);
  }

  // ------------------------------------------------------------------------------------------------ resources

  static Arbitrary<IngressSource> sources() {
    Arbitrary<IngressSource> cidr =
        Arbitraries.of("10.0.0.0/8", "0.0.0.0/0", "192.168.1.7", "::/0", "fd00::1/128", "2001:db8::/32")
            .map(IngressSource.Cidr::new);
    Arbitrary<IngressSource> unit =
        Combinators.combine(names(), Arbitraries.of(IngressSource.Unit.SELECTORS).injectNull(0.5))
            .as((n, sel) -> new IngressSource.Unit(new Reference("unit", n, null, sel)));
    return Arbitraries.oneOf(cidr, unit);
  }

  static Arbitrary<IngressRule> rules() {
    Arbitrary<PortRange> ports =
        Arbitraries.integers().between(1, 65535)
            .flatMap(a -> Arbitraries.integers().between(a, Math.min(65535, a + 2000)).map(b -> new PortRange(a, b)));
    Arbitrary<IngressRule> withPorts =
        Combinators.combine(Arbitraries.of(Protocol.TCP, Protocol.UDP), ports, sources().list().ofMinSize(1).ofMaxSize(3))
            .as(IngressRule::new);
    Arbitrary<IngressRule> without =
        Combinators.combine(
                Arbitraries.of(Protocol.ALL, Protocol.ICMP, Protocol.MULTICAST, Protocol.BROADCAST),
                sources().list().ofMinSize(1).ofMaxSize(2))
            .as((p, s) -> new IngressRule(p, null, s));
    return Arbitraries.oneOf(withPorts, without);
  }

  static Arbitrary<DomainRecord> records() {
    Arbitrary<String> recordName =
        Arbitraries.oneOf(Arbitraries.of("*", "api", "_srv", "a.b", "www-1"), names());
    return Combinators.combine(
            recordName, refs("domain"), Arbitraries.of(RecordType.class), Arbitraries.just("primary").injectNull(0.6))
        .as(DomainRecord::new);
  }

  static Arbitrary<JournalInput> inputs() {
    Arbitrary<String> key = roles();
    Arbitrary<JournalInput> systemd =
        Combinators.combine(key, unitNames()).as((k, u) -> new JournalInput(k, JournalInput.Type.SYSTEMD, u, null));
    Arbitrary<JournalInput> file =
        Combinators.combine(key, absolutePaths()).as((k, p) -> new JournalInput(k, JournalInput.Type.FILE, null, p));
    return Arbitraries.oneOf(systemd, file);
  }

  // ------------------------------------------------------------------------------------------------ document

  /** Script source: any lines, including backtick runs that would close a short fence, never blank. */
  static Arbitrary<String> scriptSources() {
    Arbitrary<String> line =
        Arbitraries.oneOf(
            anyText(30).map(s -> s.replace('\r', ' ').replace('\n', ' ')),
            Arbitraries.of(
                "```", "````", "  ```", "```bash", "~~~", "\t```", "    ````````", "echo \"$HOME\"", "", "   ",
                "set -e", "export A=1", "print('x')", "<!--", "---", "# not a heading"));
    return line.list().ofMinSize(1).ofMaxSize(6).map(l -> String.join("\n", l)).filter(s -> !s.isBlank());
  }

  static Arbitrary<Script> scripts() {
    Arbitrary<Duration> timeouts =
        Arbitraries.oneOf(
            Arbitraries.longs().between(1, Duration.ofDays(1).toNanos()).map(Duration::ofNanos),
            Arbitraries.longs().between(1, 86_400).map(Duration::ofSeconds),
            Arbitraries.of(Duration.ofSeconds(30), Duration.ofMinutes(2), Duration.ofMinutes(90)));
    return Combinators.combine(
            Arbitraries.of(Script.Language.class),
            Arbitraries.of(Phase.class),
            scriptSources(),
            timeouts.injectNull(0.6))
        .as(Script::new);
  }

  /**
   * Prose that reads back as itself: Markdown constructs that never hold a top-level script or yaml fence and
   * never leave one open, including the tricky ones (other fences with script-like content, indented fences,
   * script fences inside list items, HTML comments, tilde fences, long backtick runs, any inline text).
   */
  static Arbitrary<String> prose() {
    Arbitrary<String> word = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8);
    Arbitrary<String> inline =
        Combinators.combine(word, anyText(40)).as((w, t) -> w + t.replace('\r', ' ').replace('\n', ' '));
    Arbitrary<String> construct =
        Arbitraries.oneOf(
            inline,
            inline.map(t -> "# " + t),
            inline.map(t -> "### " + t),
            inline.list().ofMinSize(1).ofMaxSize(3).map(l -> String.join("\n", l)),
            inline.map(t -> "- " + t),
            inline.map(t -> "1. " + t),
            inline.map(t -> "> " + t),
            inline.map(t -> "```text\n" + t + "\n```bash\n```"),
            inline.map(t -> "````\n```yaml\n" + t + "\n```\n````"),
            inline.map(t -> "~~~ text\n```python\n" + t + "\n~~~"),
            inline.map(t -> "    ```yaml\n    kind: instance " + t),
            inline.map(t -> "- item " + t + "\n\n  ```bash\n  echo nested\n  ```"),
            inline.map(t -> "<!-- " + t.replace("-->", "") + " -->"),
            inline.map(t -> "| a | b |\n|---|---|\n| " + t.replace("|", "") + " | 2 |"),
            Arbitraries.of("---", "***", "Setext\n===", "text with trailing spaces   ", "\u00e9t\u00e9 \u2603 😀"));
    return construct.list().ofMinSize(1).ofMaxSize(5).map(l -> String.join("\n\n", l));
  }

  // ------------------------------------------------------------------------------------------------ units

  @SuppressWarnings("unchecked")
  private static List<dev.pods.spec.HealthCheck> checkList(Object o) {
    return (List<dev.pods.spec.HealthCheck>) o;
  }

  /** Valid health checks of every kind and timing. */
  static Arbitrary<dev.pods.spec.HealthCheck> checks() {
    Arbitrary<dev.pods.spec.HealthCheck> kind = Arbitraries.oneOf(
        Arbitraries.integers().between(1, 65535).map(dev.pods.spec.HealthCheck::tcp),
        Combinators.combine(Arbitraries.of("/", "/healthz", "/a%20b?x=1", "/-1", "/#x"),
            Arbitraries.integers().between(1, 65535)).as(dev.pods.spec.HealthCheck::http),
        Arbitraries.of("true", "-f", "a b", "yes", "1", "~", "x: y").list().ofMinSize(1).ofMaxSize(3)
            .map(l -> dev.pods.spec.HealthCheck.exec(l.toArray(new String[0]))));
    return Combinators.combine(kind, Arbitraries.integers().between(1, 3600), Arbitraries.integers().between(1, 3600),
            Arbitraries.integers().between(1, 100), Arbitraries.integers().between(0, 3600))
        .as((c, interval, timeout, failures, grace) -> c.interval(java.time.Duration.ofSeconds(interval))
            .timeout(java.time.Duration.ofSeconds(Math.min(timeout, interval))).failures(failures)
            .grace(java.time.Duration.ofSeconds(grace)));
  }

  /** Valid units of every shape: all fields, 0-3 resources of each kind, prose and scripts in any order. */
  static Arbitrary<Unit> units() {
    Arbitrary<Unit.Builder> base =
        Combinators.combine(
                Combinators.combine(
                        names(),
                        Arbitraries.integers().between(0, Unit.MAX_COUNT).withDistribution(RandomDistribution.biased()),
                        images(),
                        Arbitraries.integers().between(1, Unit.MAX_PROCESSORS),
                        Arbitraries.integers().between(Unit.MIN_MEMORY_MIB, Unit.MAX_MEMORY_MIB),
                        Arbitraries.integers().between(1, Unit.MAX_DISK_SIZE_GIB),
                        Arbitraries.oneOf(Arbitraries.just(Unit.DEFAULT_VPC), names()),
                        subnets().injectNull(0.5))
                    .as(UnitArbitraries::tuple),
                Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(dev.pods.RestartPolicy.class),
                        Arbitraries.integers().between(3, 3600), checks().list().ofMaxSize(2),
                        checks().list().ofMaxSize(2))
                    .as((p, r, l, ready, live) -> List.<Object>of(p, r, l, ready, live)),
                nodePorts().list().ofMaxSize(3).uniqueElements(p -> p.protocol() + "/" + p.externalPort()),
                mounts().list().ofMaxSize(2),
                roles().list().ofMaxSize(3),
                refs("secret").list().ofMaxSize(3),
                options())
            .as(
                (a, pub, ports, mounts, roles, secrets, options) ->
                    Unit.builder()
                        .name((String) a.get(0))
                        .count((Integer) a.get(1))
                        .image((String) a.get(2))
                        .processors((Integer) a.get(3))
                        .memoryMib((Integer) a.get(4))
                        .diskSizeGib((Integer) a.get(5))
                        .vpc((String) a.get(6))
                        .subnet((String) a.get(7))
                        .publicAddress((Boolean) pub.get(0))
                        .restart((dev.pods.RestartPolicy) pub.get(1))
                        .livenessTimeout(java.time.Duration.ofSeconds((Integer) pub.get(2)))
                        .readinessChecks(checkList(pub.get(3)))
                        .livenessChecks(checkList(pub.get(4)))
                        .nodePorts(ports)
                        .mounts(mounts)
                        .roles(roles)
                        .secrets(secrets)
                        .options(options));
    return Combinators.combine(
            base,
            names().list().ofMaxSize(6).uniqueElements(),
            rules().list().ofMaxSize(3),
            records().list().ofMaxSize(3),
            inputs().list().ofMaxSize(3),
            documents())
        .as(UnitArbitraries::assemble);
  }

  /** Resource names are distinct from the unit's; each kind gets some of them; blocks lay them out. */
  private static Unit assemble(
      Unit.Builder b,
      List<String> resourceNames,
      List<IngressRule> rules,
      List<DomainRecord> records,
      List<JournalInput> inputs,
      List<Object> layout) {
    String unitName = b.build().name();
    List<String> free = new ArrayList<>(resourceNames);
    free.remove(unitName);
    List<String> declared = new ArrayList<>();
    declared.add(unitName);
    for (int i = 0; i < free.size(); i++) {
      String n = free.get(i);
      switch (i % 3) {
        case 0 -> b.firewall(new Firewall(n, rules.subList(0, Math.min(rules.size(), i % 4))));
        case 1 -> b.domain(new DomainRecords(n, records.subList(0, Math.min(records.size(), i % 4))));
        default -> b.journal(new Journal(n, inputs.subList(0, Math.min(inputs.size(), i % 4))));
      }
      declared.add(n);
    }
    // The layout is a sequence of prose, scripts and resource-block markers; the resources are dealt out to the
    // markers in order, every marker getting at least one (a marker left over is dropped).
    List<Block> blocks = new ArrayList<>();
    int markers = (int) layout.stream().filter(o -> o instanceof Integer).count();
    int used = Math.max(1, Math.min(markers, declared.size()));
    int perBlock = (declared.size() + used - 1) / used;
    int next = 0;
    boolean placedAny = false;
    for (Object o : layout) {
      if (o instanceof Integer) {
        if (next < declared.size()) {
          int end = Math.min(declared.size(), next + perBlock);
          blocks.add(new ResourceBlock(declared.subList(next, end)));
          next = end;
          placedAny = true;
        }
      } else {
        Block block = (Block) o;
        if (block instanceof Prose && !blocks.isEmpty() && blocks.get(blocks.size() - 1) instanceof Prose) {
          continue; // two prose blocks in a row read back as one
        }
        blocks.add(block);
      }
    }
    if (!placedAny || next < declared.size()) {
      blocks.add(new ResourceBlock(declared.subList(placedAny ? next : 0, declared.size())));
    }
    Unit u = b.blocks(blocks).build();
    Set<String> unique = new HashSet<>(u.resourceNames());
    if (unique.size() != u.resourceNames().size()) {
      throw new IllegalStateException("generator made duplicate names");
    }
    return u;
  }

  /** A document layout: prose, scripts and resource-block markers (integers) in any order. */
  static Arbitrary<List<Object>> documents() {
    Arbitrary<Object> block =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(3, prose().map(Prose::new)),
            net.jqwik.api.Tuple.of(3, scripts()),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(0)));
    return block.list().ofMaxSize(10).map(l -> new ArrayList<Object>(l));
  }
}
