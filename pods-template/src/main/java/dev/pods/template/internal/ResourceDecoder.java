package dev.pods.template.internal;

import dev.pods.ImagePolicy;
import dev.pods.Problem;
import dev.pods.SourceLocation;
import dev.pods.internal.HostStrings;
import dev.pods.internal.Names;
import dev.pods.spec.DomainRecord;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.InstanceOptions;
import dev.pods.spec.Journal;
import dev.pods.spec.JournalInput;
import dev.pods.RestartPolicy;
import dev.pods.spec.HealthCheck;
import dev.pods.spec.Mount;
import dev.pods.spec.NodePort;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spec.RecordType;
import dev.pods.spec.Reference;
import dev.pods.template.internal.Segment.YamlSegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.DumperOptions.ScalarStyle;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Decodes the YAML resources of a template ({@code kind: instance | firewall | domain | journal}) from SnakeYAML
 * nodes into the model's values, reporting every problem at the line and column of the node concerned. Keys are
 * Pritunl Cloud's (camelCase); an unknown key, kind or reference, a wrong type or a missing required field is an
 * error; a Pritunl field that does nothing on a pods host is a warning. Not thread-safe: one per parse.
 *
 * <p>Scalars are typed here, not by YAML's resolver: an integer is written in decimal, a boolean is
 * {@code true} or {@code false}, and {@code ~}, {@code null} or nothing is the same as leaving the key out.
 */
public final class ResourceDecoder {
  /** Every key of Pritunl Cloud's instance resource, in the order rendering writes them. */
  public static final List<String> INSTANCE_KEYS =
      List.of(
          "name", "kind", "count", "zone", "node", "shape", "vpc", "subnet", "image", "plan", "processors", "memory",
          "diskSize", "uefi", "secureBoot", "cloudType", "tpm", "vnc", "gui", "deleteProtection",
          "skipSourceDestCheck", "dhcpServer", "hostAddress", "publicAddress", "publicAddress6", "roles", "secrets",
          "certificates", "pods", "nodePorts", "mounts", "failover", "restart", "livenessTimeout",
          "readiness", "liveness");

  private static final Set<String> INSTANCE_KEY_SET = Set.copyOf(INSTANCE_KEYS);
  private static final Set<String> FIREWALL_KEYS = Set.of("name", "kind", "ingress");
  private static final Set<String> RULE_KEYS = Set.of("protocol", "port", "source");
  private static final Set<String> DOMAIN_KEYS = Set.of("name", "kind", "records");
  private static final Set<String> RECORD_KEYS = Set.of("name", "domain", "type", "select");
  private static final Set<String> JOURNAL_KEYS = Set.of("name", "kind", "inputs");
  private static final Set<String> INPUT_KEYS = Set.of("key", "type", "unit", "path");
  private static final Set<String> NODE_PORT_KEYS = Set.of("protocol", "externalPort", "internalPort");
  private static final Set<String> MOUNT_KEYS = Set.of("name", "type", "path", "hostPath", "disks", "readOnly");
  private static final Set<String> CHECK_KEYS =
      Set.of("exec", "tcp", "http", "port", "interval", "timeout", "failures", "grace");
  private static final String KINDS = "instance, firewall, domain or journal";

  /** {@link Names#isValid(String)} without a regular expression: 1-63 of [a-z0-9-], not starting or ending in '-'. */
  public static boolean isName(String name) {
    int n = name.length();
    if (n == 0 || n > 63 || name.charAt(0) == '-' || name.charAt(n - 1) == '-') {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = name.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return false;
      }
    }
    return true;
  }

  private final Problems problems;
  private YamlSegment segment;
  private int errors;
  private int resources;

  private @Nullable InstanceSpec instance;
  private final List<Firewall> firewalls = new ArrayList<>();
  private final List<DomainRecords> domains = new ArrayList<>();
  private final List<Journal> journals = new ArrayList<>();
  private final Map<String, SourceLocation> names = new HashMap<>();
  private final List<String> blockNames = new ArrayList<>();
  private final @Nullable ImagePolicy imagePolicy;
  /** Warnings about what takes no effect, reported only for a template without errors ({@link #reportNoEffect}). */
  private final List<Problem> notInEffect = new ArrayList<>();

  /**
   * @param problems where problems go
   * @param first the first fence (replaced by {@link #startBlock(YamlSegment)} for each fence)
   */
  public ResourceDecoder(Problems problems, YamlSegment first) {
    this(problems, first, null);
  }

  /**
   * @param problems where problems go
   * @param first the first fence (replaced by {@link #startBlock(YamlSegment)} for each fence)
   * @param imagePolicy the host's image policy, whose refusal of the unit's image is an error at the image, or
   *     {@code null} for none
   */
  public ResourceDecoder(Problems problems, YamlSegment first, @Nullable ImagePolicy imagePolicy) {
    this.problems = problems;
    this.segment = first;
    this.imagePolicy = imagePolicy;
  }

  /** Starts decoding the documents of another fence. */
  public void startBlock(YamlSegment next) {
    this.segment = next;
    blockNames.clear();
  }

  /** The names of the valid resources declared by the current fence, in order. */
  public List<String> blockNames() {
    return List.copyOf(blockNames);
  }

  /**
   * Reports what the template declares that takes no effect on a pods host ({@link NoEffectHere}). Called once the
   * template is read without errors: a template with errors gets its errors alone.
   */
  public void reportNoEffect() {
    notInEffect.forEach(problems::add);
  }

  /** The instance resource, when one was declared. */
  public @Nullable InstanceSpec instance() {
    return instance;
  }

  /** The valid firewall resources, in document order. */
  public List<Firewall> firewalls() {
    return firewalls;
  }

  /** The valid domain resources, in document order. */
  public List<DomainRecords> domains() {
    return domains;
  }

  /** The valid journal resources, in document order. */
  public List<Journal> journals() {
    return journals;
  }

  /** Decodes one YAML document of the current fence: one resource. */
  public void document(Node root) {
    if (root instanceof ScalarNode s && isNull(s)) {
      return; // an empty document, e.g. after a trailing "---"
    }
    if (++resources > Limits.MAX_RESOURCES) {
      if (resources == Limits.MAX_RESOURCES + 1) {
        error(root, "resources", "more than " + Limits.MAX_RESOURCES + " resources in one template (the limit)");
      }
      return;
    }
    MapView m = map(root, "resource", resourcePath(root));
    if (m == null) {
      return;
    }
    Node kindNode = m.get("kind");
    if (kindNode == null || isNull(kindNode)) {
      error(m.node, "kind", "'kind' is required: " + KINDS);
      return;
    }
    String kind = scalarText(kindNode, "kind");
    if (kind == null) {
      return;
    }
    switch (kind) {
      case "instance" -> instance(m, kindNode);
      case "firewall" -> firewall(m);
      case "domain" -> domain(m);
      case "journal" -> journal(m);
      case "image" ->
          error(
              kindNode,
              "kind",
              "kind 'image' (Pritunl Cloud's image-build units) is not supported: pods units run instances");
      default -> error(kindNode, "kind", "unknown kind '" + kind + "': expected " + KINDS);
    }
  }

  // ---------------------------------------------------------------------------------------------------- kinds

  private void instance(MapView m, Node kindNode) {
    if (instance != null) {
      error(
          kindNode,
          "instance",
          "a unit has one instance resource; the first is at line " + instance.start.line());
      return;
    }
    YamlSegment fence = segment; // the builder's problems are located after later fences were read
    InstanceSpec spec = new InstanceSpec(at(m.node), n -> YamlComposer.at(fence, problems, n.getStartMark()));
    instance = spec;
    int before = errors;
    m.checkKeys(INSTANCE_KEY_SET, "an instance");
    for (String key : m.keys()) {
      Node v = m.get(key);
      if (InstanceOptions.IGNORED_ON_POD_HOSTS.contains(key) && v != null && !isNull(v)) {
        problems.warning(
            at(m.keyNode(key)),
            "instance." + key,
            key.equals("node")
                ? "'node' has no effect on a single pods host; it pins the unit's instances to that node only in a"
                    + " cluster of nodes on etcd (pods-etcd)"
                : "'" + key + "' has no effect on a pods host; it is kept for Pritunl Cloud compatibility");
      }
      String noEffect = NoEffectHere.instanceKey(key);
      if (noEffect != null && v != null && !declaresNothing(v)) {
        notInEffect.add(Problem.warning(at(m.keyNode(key)), "instance." + key, noEffect));
      }
      if (v != null) {
        spec.fieldNodes.put(key, v);
      }
    }
    spec.name = name(m);
    spec.count = integer(m, "count");
    spec.image = image(m);
    spec.processors = integer(m, "processors");
    spec.memoryMib = integer(m, "memory");
    spec.diskSizeGib = integer(m, "diskSize");
    spec.vpc = namedRef(m, "vpc", false);
    spec.subnet = namedRef(m, "subnet", true);
    spec.publicAddress = bool(m, "publicAddress");
    List<Node> roles = list(m, "roles");
    for (int i = 0; i < roles.size(); i++) {
      String r = string(roles.get(i), "instance.roles[" + i + "]");
      if (r != null) {
        spec.roles.add(r);
      }
    }
    refs(m, "secrets", "secret", spec.secrets);
    refs(m, "certificates", "certificate", spec.certificates);
    refs(m, "pods", "pod", spec.pods);
    spec.zone = ref(m, "zone", "zone");
    spec.node = ref(m, "node", "node");
    spec.shape = ref(m, "shape", "shape");
    spec.plan = ref(m, "plan", "plan");
    spec.uefi = bool(m, "uefi");
    spec.secureBoot = bool(m, "secureBoot");
    spec.cloudType = choice(m, "cloudType", List.of("linux", "linux_legacy", "bsd"));
    spec.tpm = bool(m, "tpm");
    spec.vnc = bool(m, "vnc");
    spec.gui = bool(m, "gui");
    spec.deleteProtection = bool(m, "deleteProtection");
    spec.skipSourceDestCheck = bool(m, "skipSourceDestCheck");
    spec.dhcpServer = bool(m, "dhcpServer");
    spec.hostAddress = bool(m, "hostAddress");
    spec.publicAddress6 = bool(m, "publicAddress6");
    spec.failover = choice(m, "failover", List.of("primary"));
    String restart = choice(m, "restart", List.of("always", "on-failure", "never"));
    spec.restart = restart == null ? null : RestartPolicy.fromTemplateName(restart);
    spec.livenessTimeoutSeconds = integer(m, "livenessTimeout");
    checks(m, "readiness", spec.readinessChecks);
    checks(m, "liveness", spec.livenessChecks);
    List<Node> ports = list(m, "nodePorts");
    for (int i = 0; i < ports.size(); i++) {
      NodePort p = nodePort(ports.get(i), "instance.nodePorts[" + i + "]");
      if (p != null) {
        spec.nodePorts.add(p);
      }
    }
    List<Node> mounts = list(m, "mounts");
    for (int i = 0; i < mounts.size(); i++) {
      Mount mount = mount(mounts.get(i), "instance.mounts[" + i + "]");
      if (mount != null) {
        spec.mounts.add(mount);
      }
    }
    if (spec.image == null && m.get("image") == null) {
      error(m.node, "instance.image", "'image' is required: a catalogue name, +/image/NAME[:tag], a path or a URL");
    }
    if (spec.name != null && errors == before) {
      blockNames.add(spec.name);
    }
  }

  private void firewall(MapView m) {
    int before = errors;
    String name = name(m);
    m.checkKeys(FIREWALL_KEYS, "a firewall");
    List<IngressRule> rules = new ArrayList<>();
    List<Node> ingress = list(m, "ingress");
    for (int i = 0; i < ingress.size(); i++) {
      IngressRule r = rule(ingress.get(i), m.path + ".ingress[" + i + "]");
      if (r != null) {
        rules.add(r);
      }
    }
    if (name != null && errors == before) {
      firewalls.add(new Firewall(name, rules));
      blockNames.add(name);
    }
  }

  /** Why a firewall source admits nothing on a pods host, or null when it can admit something. */
  private static @Nullable String idleSource(IngressSource src) {
    if (src instanceof IngressSource.Cidr c && c.cidr().contains(":")) {
      return "IPv6 source '" + c.cidr() + "' admits nothing on a pods host (its instances have no IPv6)";
    }
    if (src instanceof IngressSource.Unit u && !u.selector().equals("private_ips")
        && !u.selector().equals("public_ips")) {
      return "'" + u.text() + "' admits nothing on a pods host: only private_ips and public_ips name addresses"
          + " here (no IPv6, no cloud provider, no host addresses)";
    }
    return null;
  }

  private @Nullable IngressRule rule(Node n, String path) {
    MapView m = map(n, path);
    if (m == null) {
      return null;
    }
    m.checkKeys(RULE_KEYS, "an ingress rule");
    int before = errors;
    Protocol protocol = null;
    String p = requiredString(m, "protocol");
    if (p != null) {
      protocol = Ids.protocol(p);
      if (protocol == null) {
        error(
            m.get("protocol"),
            path + ".protocol",
            "unknown protocol '" + p + "': expected " + ids(Protocol.values(), Protocol::id));
      }
      if (protocol == Protocol.MULTICAST || protocol == Protocol.BROADCAST) {
        problems.warning(at(m.get("protocol")), path + ".protocol", "'" + p + "' traffic never reaches a pods"
            + " instance (it sits alone on a routed /30): this rule admits nothing here");
      }
    }
    PortRange ports = null;
    Node portNode = m.get("port");
    if (portNode != null && !isNull(portNode)) {
      String text = scalarText(portNode, path + ".port");
      if (text != null) {
        try {
          ports = PortRange.parse(text);
        } catch (IllegalArgumentException e) {
          error(portNode, path + ".port", "invalid port '" + text + "': expected N or N-M, ports 1-65535");
        }
      }
    }
    List<IngressSource> sources = new ArrayList<>();
    List<Node> sourceNodes = list(m, "source");
    for (int i = 0; i < sourceNodes.size(); i++) {
      String s = string(sourceNodes.get(i), path + ".source[" + i + "]");
      if (s != null) {
        try {
          IngressSource src = IngressSource.parse(s);
          sources.add(src);
          String idle = idleSource(src);
          if (idle != null) {
            problems.warning(at(sourceNodes.get(i)), path + ".source[" + i + "]", idle);
          }
        } catch (IllegalArgumentException e) {
          error(sourceNodes.get(i), path + ".source[" + i + "]", message(e));
        }
      }
    }
    if (protocol == null || errors != before) {
      return null;
    }
    try {
      return new IngressRule(protocol, ports, sources);
    } catch (IllegalArgumentException e) {
      error(m.node, path, message(e));
      return null;
    }
  }

  private void domain(MapView m) {
    int before = errors;
    String name = name(m);
    m.checkKeys(DOMAIN_KEYS, "a domain");
    List<DomainRecord> records = new ArrayList<>();
    List<Node> nodes = list(m, "records");
    for (int i = 0; i < nodes.size(); i++) {
      String path = m.path + ".records[" + i + "]";
      MapView r = map(nodes.get(i), path);
      if (r == null) {
        continue;
      }
      r.checkKeys(RECORD_KEYS, "a DNS record");
      int recordErrors = errors;
      String recordName = requiredString(r, "name");
      Reference domain = null;
      Node domainNode = r.get("domain");
      if (domainNode == null || isNull(domainNode)) {
        missing(r, "domain", "+/domain/NAME");
      } else {
        domain = reference(domainNode, path + ".domain", "domain");
      }
      RecordType type = null;
      String t = requiredString(r, "type");
      if (t != null) {
        type = Ids.recordType(t);
        if (type == null) {
          error(r.get("type"), path + ".type", "unknown record type '" + t + "': expected " + ids(RecordType.values(), RecordType::id));
        }
      }
      String select = choice(r, "select", List.of("primary"));
      if (errors != recordErrors || recordName == null || domain == null || type == null) {
        continue;
      }
      try {
        records.add(new DomainRecord(recordName, domain, type, select, at(r.node)));
      } catch (IllegalArgumentException e) {
        error(r.node, path, message(e));
      }
    }
    if (name != null && errors == before) {
      domains.add(new DomainRecords(name, records));
      blockNames.add(name);
    }
  }

  private void journal(MapView m) {
    int before = errors;
    String name = name(m);
    m.checkKeys(JOURNAL_KEYS, "a journal");
    List<JournalInput> inputs = new ArrayList<>();
    List<Node> nodes = list(m, "inputs");
    for (int i = 0; i < nodes.size(); i++) {
      String path = m.path + ".inputs[" + i + "]";
      MapView r = map(nodes.get(i), path);
      if (r == null) {
        continue;
      }
      r.checkKeys(INPUT_KEYS, "a journal input");
      int inputErrors = errors;
      String key = requiredString(r, "key");
      JournalInput.Type type = null;
      String t = requiredString(r, "type");
      if (t != null) {
        type = Ids.inputType(t);
        if (type == null) {
          error(r.get("type"), path + ".type", "unknown input type '" + t + "': expected systemd or file");
        }
      }
      String unit = string(r, "unit");
      String file = string(r, "path");
      hostString(r, "unit", path + ".unit", unit, HostStrings.unitProblem(unit == null ? "x" : unit));
      hostString(r, "path", path + ".path", file, HostStrings.pathProblem(file == null ? "/" : file));
      if (errors != inputErrors || key == null || type == null) {
        continue;
      }
      try {
        inputs.add(new JournalInput(key, type, unit, file));
      } catch (IllegalArgumentException e) {
        error(r.node, path, message(e));
      }
    }
    if (name != null && errors == before) {
      journals.add(new Journal(name, inputs));
      blockNames.add(name);
    }
  }

  private @Nullable NodePort nodePort(Node n, String path) {
    MapView m = map(n, path);
    if (m == null) {
      return null;
    }
    m.checkKeys(NODE_PORT_KEYS, "a node port");
    int before = errors;
    Protocol protocol = null;
    String p = requiredString(m, "protocol");
    if (p != null) {
      protocol = Ids.protocol(p);
      if (protocol == null || !protocol.hasPorts()) {
        error(m.get("protocol"), path + ".protocol", "a node port's protocol is tcp or udp, not '" + p + "'");
        protocol = null;
      }
      if (protocol == Protocol.UDP) {
        problems.warning(at(m.get("protocol")), path + ".protocol", "udp node ports are not forwarded on a pods host"
            + " (only tcp): deploying this unit fails");
      }
    }
    Integer external = requiredInteger(m, "externalPort");
    Integer internal = requiredInteger(m, "internalPort");
    if (protocol == null || external == null || internal == null || errors != before) {
      return null;
    }
    try {
      return new NodePort(protocol, external, internal);
    } catch (IllegalArgumentException e) {
      error(m.node, path, message(e));
      return null;
    }
  }

  private void checks(MapView m, String key, List<HealthCheck> out) {
    List<Node> items = list(m, key);
    for (int i = 0; i < items.size(); i++) {
      HealthCheck c = check(items.get(i), m.path + "." + key + "[" + i + "]");
      if (c != null) {
        out.add(c);
      }
    }
  }

  /** A health check: exactly one of {@code exec}, {@code tcp}, {@code http} (with {@code port}), and its timing. */
  private @Nullable HealthCheck check(Node n, String path) {
    MapView m = map(n, path);
    if (m == null) {
      return null;
    }
    m.checkKeys(CHECK_KEYS, "a health check");
    int before = errors;
    List<String> kinds = new ArrayList<>();
    for (String k : List.of("exec", "tcp", "http")) {
      if (m.get(k) != null && !isNull(m.get(k))) {
        kinds.add(k);
      }
    }
    if (kinds.size() != 1) {
      error(m.node, path, kinds.isEmpty() ? "a health check needs one of exec, tcp or http"
          : "a health check has one of exec, tcp or http, not " + String.join(" and ", kinds));
      return null;
    }
    HealthCheck c = null;
    switch (kinds.get(0)) {
      case "exec" -> {
        List<String> command = new ArrayList<>();
        List<Node> args = list(m, "exec");
        for (int i = 0; i < args.size(); i++) {
          String a = string(args.get(i), path + ".exec[" + i + "]");
          if (a != null) {
            command.add(a);
          }
        }
        if (m.get("port") != null) {
          error(m.get("port"), path + ".port", "an exec check has no port");
        }
        if (errors == before) {
          c = attempt(m.get("exec"), path + ".exec", () -> HealthCheck.exec(command.toArray(new String[0])));
        }
      }
      case "tcp" -> {
        Integer port = integer(m, "tcp");
        if (m.get("port") != null) {
          error(m.get("port"), path + ".port", "a tcp check names its port in 'tcp'");
        }
        if (port != null && errors == before) {
          c = attempt(m.get("tcp"), path + ".tcp", () -> HealthCheck.tcp(port));
        }
      }
      default -> {
        String p = string(m, "http");
        Integer port = requiredInteger(m, "port");
        if (p != null && port != null && errors == before) {
          c = attempt(m.get("http"), path + ".http", () -> HealthCheck.http(p, port));
        }
      }
    }
    if (c == null) {
      return null;
    }
    Integer interval = integer(m, "interval");
    Integer timeout = integer(m, "timeout");
    Integer failures = integer(m, "failures");
    Integer grace = integer(m, "grace");
    if (errors != before) {
      return null;
    }
    HealthCheck base = c;
    HealthCheck timed = attempt(m.get("interval"), path + ".interval", () -> interval == null ? base
        : base.interval(java.time.Duration.ofSeconds(interval)));
    if (timed == null) {
      return null;
    }
    HealthCheck t = timed;
    HealthCheck withTimeout = attempt(m.get("timeout"), path + ".timeout",
        () -> timeout == null ? t : t.timeout(java.time.Duration.ofSeconds(timeout)));
    if (withTimeout == null) {
      return null;
    }
    HealthCheck w = withTimeout;
    HealthCheck withFailures = attempt(m.get("failures"), path + ".failures",
        () -> failures == null ? w : w.failures(failures));
    if (withFailures == null) {
      return null;
    }
    HealthCheck f = withFailures;
    return attempt(m.get("grace"), path + ".grace",
        () -> grace == null ? f : f.grace(java.time.Duration.ofSeconds(grace)));
  }

  /** {@code make}'s value, or null after an error at {@code n} (else the check's node) with its message. */
  private @Nullable HealthCheck attempt(@Nullable Node n, String path, Supplier<HealthCheck> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException e) {
      error(n, path, message(e));
      return null;
    }
  }

  private @Nullable Mount mount(Node n, String path) {
    MapView m = map(n, path);
    if (m == null) {
      return null;
    }
    m.checkKeys(MOUNT_KEYS, "a mount");
    int before = errors;
    String name = string(m, "name");
    String where = requiredString(m, "path");
    String hostPath = string(m, "hostPath");
    hostString(m, "path", path + ".path", where, HostStrings.pathProblem(where == null ? "/" : where));
    hostString(m, "hostPath", path + ".hostPath", hostPath,
        HostStrings.pathProblem(hostPath == null ? "/" : hostPath));
    Boolean readOnly = bool(m, "readOnly");
    List<Reference> disks = new ArrayList<>();
    List<Node> diskNodes = list(m, "disks");
    for (int i = 0; i < diskNodes.size(); i++) {
      Reference d = reference(diskNodes.get(i), path + ".disks[" + i + "]", "disk");
      if (d != null) {
        disks.add(d);
      }
    }
    Mount.Type type = null;
    String t = string(m, "type");
    if (t != null) {
      type = Ids.mountType(t);
      if (type == null) {
        error(m.get("type"), path + ".type", "unknown mount type '" + t + "': expected disk or host_path");
      }
    } else if (!disks.isEmpty()) {
      type = Mount.Type.DISK;
    } else if (hostPath != null) {
      type = Mount.Type.HOST_PATH;
    } else if (errors == before) {
      error(m.node, path, "a mount names disks (type disk) or a hostPath (type host_path)");
    }
    if (where == null || type == null || errors != before) {
      return null;
    }
    try {
      return new Mount(name, type, where, hostPath, disks,
          readOnly != null ? readOnly : type == Mount.Type.HOST_PATH, at(m.node));
    } catch (IllegalArgumentException e) {
      error(m.node, path, message(e));
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------------- fields

  /**
   * Reports, at the value of {@code key}, why a string that reaches the host or the guest's system (a path, a unit
   * name) is refused; nothing when {@code value} is absent or {@code problem} is {@code null}.
   */
  private void hostString(MapView m, String key, String field, @Nullable String value, @Nullable String problem) {
    // a relative path is the resource's own rule (its message names the combination): not reported twice
    if (value != null && problem != null && (value.startsWith("/") || !key.toLowerCase(Locale.ROOT).endsWith("path"))) {
      error(m.get(key), field, problem);
    }
  }

  /** The resource's name (required, a DNS label, unique in the unit); {@code null} when invalid. */
  private @Nullable String name(MapView m) {
    Node n = m.get("name");
    String kindPath = m.path;
    if (n == null || isNull(n)) {
      error(m.node, kindPath + ".name", "'name' is required");
      return null;
    }
    String name = scalarText(n, kindPath + ".name");
    if (name == null) {
      return null;
    }
    if (!isName(name)) {
      error(n, kindPath + ".name", "'" + name + "' is invalid: " + Names.rule());
      return null;
    }
    SourceLocation first = names.putIfAbsent(name, at(n));
    if (first != null) {
      error(n, kindPath + ".name", "resource name '" + name + "' is already used at line " + first.line());
      return null;
    }
    return name;
  }

  private @Nullable String image(MapView m) {
    Node n = m.get("image");
    if (n == null) {
      return null;
    }
    if (isNull(n)) {
      missing(m, "image", "a catalogue name, +/image/NAME[:tag], a path or a URL");
      return null;
    }
    String image = scalarText(n, "instance.image");
    if (image == null) {
      return null;
    }
    if (image.isBlank()) {
      error(n, "instance.image", "'image' is empty");
      return null;
    }
    if (Reference.isReference(image)) {
      try {
        Reference r = References.parse(image);
        if (!r.kind().equals("image") && !r.kind().equals("build")) {
          error(n, "instance.image", "expected +/image/NAME[:tag] or +/build/UNIT[:tag], not '" + image + "'");
          return null;
        }
      } catch (IllegalArgumentException e) {
        error(n, "instance.image", message(e));
        return null;
      }
    }
    if (imagePolicy != null) {
      Optional<String> refused = imagePolicy.refusal(image);
      if (refused.isPresent()) {
        error(n, "instance.image", "image '" + image + "' is refused by the host's image policy: " + refused.get());
        return null;
      }
    }
    return image;
  }

  /**
   * {@code vpc: +/vpc/NAME} or {@code NAME}; {@code subnet: +/subnet/NAME}, {@code NAME} or a CIDR. The model
   * keeps the name (or CIDR).
   */
  private @Nullable String namedRef(MapView m, String key, boolean cidrAllowed) {
    Node n = m.get(key);
    if (n == null || isNull(n)) {
      return null;
    }
    String field = m.path + "." + key;
    String text = scalarText(n, field);
    if (text == null) {
      return null;
    }
    if (!Reference.isReference(text)) {
      return text; // the builder checks names and CIDRs
    }
    Reference r = reference(n, field, key);
    if (r == null) {
      return null;
    }
    if (r.tag() != null || r.selector() != null) {
      error(n, field, "a " + key + " reference is +/" + key + "/NAME, without tag or selector: '" + text + "'");
      return null;
    }
    if (!isName(r.name())) {
      error(n, field, "'" + r.name() + "' is invalid: " + Names.rule());
      return null;
    }
    return r.name();
  }

  private void refs(MapView m, String key, String kind, List<Reference> out) {
    List<Node> nodes = list(m, key);
    for (int i = 0; i < nodes.size(); i++) {
      int index = i;
      Reference r = reference(nodes.get(i), () -> m.path + "." + key + "[" + index + "]", kind);
      if (r != null) {
        out.add(r);
      }
    }
  }

  private @Nullable Reference ref(MapView m, String key, String kind) {
    Node n = m.get(key);
    return n == null || isNull(n) ? null : reference(n, () -> m.path + "." + key, kind);
  }

  /** A reference of one kind, e.g. {@code +/secret/db}; {@code null} after reporting a problem. */
  private @Nullable Reference reference(Node n, String field, String kind) {
    return reference(n, () -> field, kind);
  }

  private @Nullable Reference reference(Node n, Supplier<String> fieldPath, String kind) {
    String text = scalarText(n, fieldPath);
    if (text == null) {
      return null;
    }
    if (Reference.isReference(text)) {
      try {
        Reference r = References.parse(text);
        if (r.kind().equals(kind)) {
          return r;
        }
      } catch (IllegalArgumentException e) {
        // reported below, with the field path
      }
    }
    return referenceProblem(n, fieldPath.get(), kind, text);
  }

  private @Nullable Reference referenceProblem(Node n, String field, String kind, String text) {
    if (!Reference.isReference(text)) {
      error(n, field, "expected a reference +/" + kind + "/NAME, not '" + text + "'");
      return null;
    }
    try {
      Reference r = References.parse(text);
      if (!r.kind().equals(kind)) {
        error(n, field, "expected a reference +/" + kind + "/NAME, not '" + text + "'");
        return null;
      }
      return r;
    } catch (IllegalArgumentException e) {
      error(n, field, message(e));
      return null;
    }
  }

  private @Nullable String choice(MapView m, String key, List<String> allowed) {
    String v = string(m, key);
    if (v != null && !allowed.contains(v)) {
      error(
          m.get(key),
          m.path + "." + key,
          "'" + v + "' is not a valid " + key + ": expected " + String.join(" or ", allowed));
      return null;
    }
    return v;
  }

  private @Nullable String string(MapView m, String key) {
    Node n = m.get(key);
    return n == null || isNull(n) ? null : scalarText(n, () -> m.path + "." + key);
  }

  private @Nullable String requiredString(MapView m, String key) {
    Node n = m.get(key);
    if (n == null || isNull(n)) {
      missing(m, key, null);
      return null;
    }
    return scalarText(n, () -> m.path + "." + key);
  }

  private @Nullable String string(Node n, String field) {
    if (isNull(n)) {
      error(n, field, "expected a string, not null");
      return null;
    }
    return scalarText(n, field);
  }

  private @Nullable Integer integer(MapView m, String key) {
    Node n = m.get(key);
    return n == null || isNull(n) ? null : integer(n, () -> m.path + "." + key);
  }

  private @Nullable Integer requiredInteger(MapView m, String key) {
    Node n = m.get(key);
    if (n == null || isNull(n)) {
      missing(m, key, null);
      return null;
    }
    return integer(n, () -> m.path + "." + key);
  }

  private @Nullable Integer integer(Node n, Supplier<String> field) {
    if (!(n instanceof ScalarNode s) || !s.isPlain() || !Tag.STR.equals(s.getTag()) || !isDecimal(s.getValue())) {
      error(n, field.get(), "expected a whole number, not " + describe(n));
      return null;
    }
    String v = s.getValue();
    try {
      return Integer.parseInt(v.startsWith("+") ? v.substring(1) : v);
    } catch (NumberFormatException e) {
      error(n, field.get(), v + " is too large");
      return null;
    }
  }

  private static boolean isDecimal(String v) {
    int i = v.startsWith("-") || v.startsWith("+") ? 1 : 0;
    if (i == v.length()) {
      return false;
    }
    for (; i < v.length(); i++) {
      if (v.charAt(i) < '0' || v.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private @Nullable Boolean bool(MapView m, String key) {
    Node n = m.get(key);
    if (n == null || isNull(n)) {
      return null;
    }
    if (n instanceof ScalarNode s && s.isPlain() && Tag.STR.equals(s.getTag())) {
      switch (s.getValue()) {
        case "true", "True", "TRUE" -> {
          return Boolean.TRUE;
        }
        case "false", "False", "FALSE" -> {
          return Boolean.FALSE;
        }
        default -> {}
      }
    }
    error(n, m.path + "." + key, "expected true or false, not " + describe(n));
    return null;
  }

  /** A list field; absent or null is empty, anything but a list is an error. */
  private List<Node> list(MapView m, String key) {
    Node n = m.get(key);
    if (n == null || isNull(n)) {
      return List.of();
    }
    if (!(n instanceof SequenceNode s)) {
      error(n, m.path + "." + key, "expected a list, not " + describe(n));
      return List.of();
    }
    List<Node> items = s.getValue();
    if (items.size() > Limits.MAX_LIST_ITEMS) {
      error(n, m.path + "." + key, "more than " + Limits.MAX_LIST_ITEMS + " items (the limit)");
      return List.of();
    }
    return items;
  }

  /** The text of a non-null scalar; an error for collections and tagged values. */
  private @Nullable String scalarText(Node n, String field) {
    return scalarText(n, () -> field);
  }

  /** As {@link #scalarText(Node, String)}, with the field path built only for an error (the common path is hot). */
  private @Nullable String scalarText(Node n, Supplier<String> field) {
    if (n instanceof ScalarNode s) {
      if (!Tag.STR.equals(s.getTag())) {
        error(n, field.get(), "YAML tags such as '" + s.getTag().getValue() + "' are not supported");
        return null;
      }
      return s.getValue();
    }
    error(n, field.get(), "expected a string, not " + describe(n));
    return null;
  }

  private void missing(MapView m, String key, @Nullable String hint) {
    error(m.node, m.path + "." + key, "'" + key + "' is required" + (hint == null ? "" : ": " + hint));
  }

  // ---------------------------------------------------------------------------------------------------- helpers

  /** Whether a value asks for nothing: null, {@code false} or an empty list. */
  private static boolean declaresNothing(Node n) {
    return isNull(n) || (n instanceof SequenceNode q && q.getValue().isEmpty())
        || (n instanceof ScalarNode sc && "false".equals(sc.getValue()));
  }

  static boolean isNull(Node n) {
    if (!(n instanceof ScalarNode s) || s.getScalarStyle() != ScalarStyle.PLAIN || !Tag.STR.equals(s.getTag())) {
      return n instanceof ScalarNode s2 && Tag.NULL.equals(s2.getTag());
    }
    String v = s.getValue();
    return v.isEmpty() || v.equals("~") || v.equals("null") || v.equals("Null") || v.equals("NULL");
  }

  private static String describe(Node n) {
    if (n instanceof SequenceNode) {
      return "a list";
    }
    if (n instanceof MappingNode) {
      return "a mapping";
    }
    ScalarNode s = (ScalarNode) n;
    if (isNull(s)) {
      return "null";
    }
    String v = s.getValue();
    if (v.length() > 40) {
      v = v.substring(0, 40) + "...";
    }
    return s.isPlain() ? "'" + v + "'" : "the string \"" + v + "\"";
  }

  private static <T> String ids(T[] values, java.util.function.Function<T, String> id) {
    return Arrays.stream(values).map(id).collect(Collectors.joining(", "));
  }

  private static String message(IllegalArgumentException e) {
    return String.valueOf(e.getMessage());
  }

  private SourceLocation at(Node n) {
    return YamlComposer.at(segment, problems, n.getStartMark());
  }

  private void error(@Nullable Node n, String field, String message) {
    errors++;
    problems.error(n == null ? YamlComposer.at(segment, problems, null) : at(n), field, message);
  }

  private @Nullable MapView map(Node n, String path) {
    return map(n, path, path);
  }

  private @Nullable MapView map(Node n, String pathIfNotMapping, String path) {
    if (!(n instanceof MappingNode m)) {
      error(n, pathIfNotMapping, "expected a mapping of keys to values, not " + describe(n));
      return null;
    }
    return new MapView(m, path);
  }

  /**
   * The field path prefix of a resource, known before its keys are checked so that every problem of the
   * resource carries it: {@code instance}, {@code firewall[NAME]} (or {@code firewall} without a valid name), and
   * {@code resource} when the kind is unknown.
   */
  private static String resourcePath(Node root) {
    if (!(root instanceof MappingNode m)) {
      return "resource";
    }
    String kind = peek(m, "kind");
    if (kind == null || !(kind.equals("firewall") || kind.equals("domain") || kind.equals("journal")
        || kind.equals("instance"))) {
      return "resource";
    }
    if (kind.equals("instance")) {
      return kind;
    }
    String name = peek(m, "name");
    return name != null && isName(name) ? kind + "[" + name + "]" : kind;
  }

  private static @Nullable String peek(MappingNode m, String key) {
    for (NodeTuple t : m.getValue()) {
      if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
        return t.getValueNode() instanceof ScalarNode v ? v.getValue() : null;
      }
    }
    return null;
  }

  /** A mapping's entries by key, after checking that keys are unique strings. */
  private final class MapView {
    final MappingNode node;
    final String path;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

    MapView(MappingNode node, String path) {
      this.node = node;
      this.path = path;
      for (NodeTuple t : node.getValue()) {
        Node k = t.getKeyNode();
        if (!(k instanceof ScalarNode ks) || isNull(k)) {
          error(k, path, "a key is a string, not " + describe(k));
          continue;
        }
        NodeTuple first = entries.putIfAbsent(ks.getValue(), t);
        if (first != null) {
          error(
              k,
              path + "." + ks.getValue(),
              "duplicate key '" + ks.getValue() + "' (first at line " + at(first.getKeyNode()).line() + ")");
        }
      }
    }

    @Nullable Node get(String key) {
      NodeTuple t = entries.get(key);
      return t == null ? null : t.getValueNode();
    }

    Node keyNode(String key) {
      return entries.get(key).getKeyNode();
    }

    Set<String> keys() {
      return entries.keySet();
    }

    void checkKeys(Set<String> known, String what) {
      for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
        String key = e.getKey();
        if (!known.contains(key)) {
          String hint = key.equals("<<") ? " (YAML merge keys are not supported)" : suggestion(key, known);
          error(e.getValue().getKeyNode(), path + "." + key, "unknown key '" + key + "' in " + what + hint);
        }
      }
    }
  }

  /** {@code " (did you mean 'x'?)"} for a close known key, else empty. */
  static String suggestion(String key, Set<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    String folded = fold(key);
    for (String k : known.stream().sorted().toList()) {
      int d = fold(k).equals(folded) ? 0 : distance(key, k);
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return best != null && bestDistance <= Math.max(1, Math.min(2, key.length() / 3))
        ? " (did you mean '" + best + "'?)"
        : "";
  }

  private static String fold(String s) {
    return s.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
  }

  private static int distance(String a, String b) {
    if (Math.abs(a.length() - b.length()) > 2 || a.length() > 64 || b.length() > 64) {
      return Integer.MAX_VALUE;
    }
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
