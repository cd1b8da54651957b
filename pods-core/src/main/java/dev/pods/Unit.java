package dev.pods;

import dev.pods.internal.Cidrs;
import dev.pods.internal.Names;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.Firewall;
import dev.pods.spec.InstanceOptions;
import dev.pods.spec.Journal;
import dev.pods.spec.Mount;
import dev.pods.spec.HealthCheck;
import dev.pods.spec.NodePort;
import dev.pods.spec.Reference;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One kind of instance in a pod, run {@link #count()} times: the VM's image and size, its network (VPC,
 * subnet, public address), its resources (firewalls, DNS records, journals) and the script blocks that run
 * inside it, in document order together with the prose that documents them.
 *
 * <p>A unit comes from a Markdown template (module {@code pods-template}) or from {@link #builder()}; both
 * give the same immutable value, and {@code equals} compares everything, prose included. Instances are
 * immutable and thread-safe; {@link #toBuilder()} derives modified copies.
 *
 * <pre>{@code
 * Unit lb = Unit.builder()
 *     .name("lb").image("debian12").count(1)
 *     .script(Phase.RELOAD, Script.shell("nginx -s reload"))
 *     .build();
 * }</pre>
 *
 * <p>Defaults, stated rather than silent: {@code count} 1, {@code processors} 1, {@code memoryMib} 1024,
 * {@code diskSizeGib} 10, {@code vpc} {@code default}, no subnet (the runtime allocates one), no public
 * address, {@code restart} {@link RestartPolicy#ALWAYS}, {@code livenessTimeout} 60 s, no health checks.
 */
public final class Unit {
  /** The default number of instances. */
  public static final int DEFAULT_COUNT = 1;
  /** The default number of virtual processors. */
  public static final int DEFAULT_PROCESSORS = 1;
  /** The default memory, in MiB. */
  public static final int DEFAULT_MEMORY_MIB = 1024;
  /** The default root disk size, in GiB. */
  public static final int DEFAULT_DISK_SIZE_GIB = 10;
  /** The default VPC's name. */
  public static final String DEFAULT_VPC = "default";
  /** The default restart policy. */
  public static final RestartPolicy DEFAULT_RESTART = RestartPolicy.ALWAYS;
  /** The default liveness timeout: three times the agent's longest poll (20 s). */
  public static final java.time.Duration DEFAULT_LIVENESS_TIMEOUT = java.time.Duration.ofSeconds(60);
  /** The shortest liveness timeout. */
  public static final java.time.Duration MIN_LIVENESS_TIMEOUT = java.time.Duration.ofSeconds(3);
  /** The longest liveness timeout. */
  public static final java.time.Duration MAX_LIVENESS_TIMEOUT = java.time.Duration.ofHours(1);

  /** The largest replica count. */
  public static final int MAX_COUNT = 1000;
  /** The largest number of processors. */
  public static final int MAX_PROCESSORS = 256;
  /** The smallest memory, in MiB. */
  public static final int MIN_MEMORY_MIB = 64;
  /** The largest memory, in MiB (4 TiB). */
  public static final int MAX_MEMORY_MIB = 4 * 1024 * 1024;
  /** The largest root disk, in GiB (64 TiB). */
  public static final int MAX_DISK_SIZE_GIB = 64 * 1024;

  private static final java.util.regex.Pattern ROLE = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  private final String name;
  private final int count;
  private final String image;
  private final int processors;
  private final int memoryMib;
  private final int diskSizeGib;
  private final String vpc;
  private final @Nullable String subnet;
  private final boolean publicAddress;
  private final RestartPolicy restart;
  private final java.time.Duration livenessTimeout;
  private final List<HealthCheck> readinessChecks;
  private final List<HealthCheck> livenessChecks;
  private final List<NodePort> nodePorts;
  private final List<Mount> mounts;
  private final List<String> roles;
  private final List<Reference> secrets;
  private final InstanceOptions options;
  private final List<Firewall> firewalls;
  private final List<DomainRecords> domains;
  private final List<Journal> journals;
  private final List<Block> blocks;

  private Unit(Builder b, List<Block> blocks) {
    this.name = Objects.requireNonNull(b.name);
    this.count = b.count;
    this.image = Objects.requireNonNull(b.image);
    this.processors = b.processors;
    this.memoryMib = b.memoryMib;
    this.diskSizeGib = b.diskSizeGib;
    this.vpc = b.vpc;
    this.subnet = b.subnet;
    this.publicAddress = b.publicAddress;
    this.restart = b.restart;
    this.livenessTimeout = b.livenessTimeout;
    this.readinessChecks = List.copyOf(b.readinessChecks);
    this.livenessChecks = List.copyOf(b.livenessChecks);
    this.nodePorts = List.copyOf(b.nodePorts);
    this.mounts = List.copyOf(b.mounts);
    this.roles = List.copyOf(b.roles);
    this.secrets = List.copyOf(b.secrets);
    this.options = b.options;
    this.firewalls = List.copyOf(b.firewalls);
    this.domains = List.copyOf(b.domains);
    this.journals = List.copyOf(b.journals);
    this.blocks = List.copyOf(blocks);
  }

  /** A new, empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads a unit from a Markdown template, with the reader of module {@code pods-template} (found through
   * {@link java.util.ServiceLoader}). Blocks while reading the file.
   *
   * @throws TemplateException with every problem of the file, each with its line and column
   * @throws PodsException when no template reader is on the class path
   */
  public static Unit fromMarkdown(java.nio.file.Path file) {
    Objects.requireNonNull(file, "file");
    return java.util.ServiceLoader.load(dev.pods.spi.TemplateReader.class, Unit.class.getClassLoader())
        .findFirst()
        .orElseThrow(
            () ->
                new PodsException(
                    "cannot read template " + file + ": no template reader; add dev.pods:pods-template to the class path"))
        .read(file);
  }

  /** A builder holding this unit's values, to derive a modified copy. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.name = name;
    b.count = count;
    b.image = image;
    b.processors = processors;
    b.memoryMib = memoryMib;
    b.diskSizeGib = diskSizeGib;
    b.vpc = vpc;
    b.subnet = subnet;
    b.publicAddress = publicAddress;
    b.restart = restart;
    b.livenessTimeout = livenessTimeout;
    b.readinessChecks.addAll(readinessChecks);
    b.livenessChecks.addAll(livenessChecks);
    b.nodePorts.addAll(nodePorts);
    b.mounts.addAll(mounts);
    b.roles.addAll(roles);
    b.secrets.addAll(secrets);
    b.options = options;
    b.firewalls.addAll(firewalls);
    b.domains.addAll(domains);
    b.journals.addAll(journals);
    b.blocks.addAll(blocks);
    return b;
  }

  /** The unit's name, also the name of its instance resource; a DNS label. */
  public String name() {
    return name;
  }

  /** How many instances run (0 to {@value #MAX_COUNT}). */
  public int count() {
    return count;
  }

  /**
   * The base image: a name the runtime's image catalogue knows (e.g. {@code debian12}), an {@code +/image/...}
   * reference, a local path or an {@code http(s)://} URL.
   */
  public String image() {
    return image;
  }

  /** Virtual processors per instance. */
  public int processors() {
    return processors;
  }

  /** Memory per instance, in MiB. */
  public int memoryMib() {
    return memoryMib;
  }

  /** Root disk size per instance, in GiB. */
  public int diskSizeGib() {
    return diskSizeGib;
  }

  /** The VPC's name: instances of one VPC reach each other by private address. */
  public String vpc() {
    return vpc;
  }

  /** The subnet (a name or a CIDR), or {@code null} when the runtime allocates one. */
  public @Nullable String subnet() {
    return subnet;
  }

  /** Whether each instance gets a public address, NATed 1:1 to its private one. */
  public boolean publicAddress() {
    return publicAddress;
  }

  /**
   * Whether the runtime starts an instance again after its domain stopped behind its back; default
   * {@link RestartPolicy#ALWAYS} (template key {@code restart}).
   */
  public RestartPolicy restart() {
    return restart;
  }

  /**
   * How long a {@link InstanceState#READY} instance's guest may go without contacting its metadata service before
   * the instance is {@link InstanceState#UNHEALTHY}; default {@link #DEFAULT_LIVENESS_TIMEOUT} (template key
   * {@code livenessTimeout}, in seconds). The guest's agent contacts its metadata service at least every third
   * of it (at most every 20 s), so a live guest never reaches it. A guest silent for twice this is a failure under
   * {@link RestartPolicy#ALWAYS} and {@link RestartPolicy#ON_FAILURE}: its domain is powered off and the restart
   * policy starts it again.
   */
  public java.time.Duration livenessTimeout() {
    return livenessTimeout;
  }

  /**
   * The readiness checks (template key {@code readiness}; see {@link HealthCheck}): while one of them fails, a
   * READY instance is {@link InstanceState#UNHEALTHY} and its peers do not list it. Empty by default. A change is
   * live: running instances are checked with the new list from the next watch on.
   */
  public List<HealthCheck> readinessChecks() {
    return readinessChecks;
  }

  /**
   * The liveness checks (template key {@code liveness}; see {@link HealthCheck}): one that fails makes the runtime
   * power the instance's domain off as a failure, and {@link #restart()} starts it again (under
   * {@link RestartPolicy#NEVER} the instance is {@link InstanceState#UNHEALTHY} until the check passes). Empty by
   * default. A change is live.
   */
  public List<HealthCheck> livenessChecks() {
    return livenessChecks;
  }

  /**
   * Ports of the runtime's node address forwarded to the unit's ready instances (see {@link NodePort}); a pod with
   * node ports needs a runtime with a node address ({@code PodRuntime.Builder.nodeAddress}).
   */
  public List<NodePort> nodePorts() {
    return nodePorts;
  }

  /**
   * File systems mounted in the guest before the unit's blocks run, on every boot: named persistent disks (instance
   * {@code i} gets the {@code i}-th disk of a mount's list; see {@link Disks}) and host folders the runtime allows
   * ({@link PodRuntime.Builder#hostFolder}).
   */
  public List<Mount> mounts() {
    return mounts;
  }

  /** Free-form roles (used by firewall policies and SSH authorities). */
  public List<String> roles() {
    return roles;
  }

  /**
   * Secrets ({@code +/secret/NAME}) the instances may read through the metadata service
   * ({@code pods get +/secret/NAME/KEY}); their values come from the runtime's {@link dev.pods.spi.SecretStore}.
   */
  public List<Reference> secrets() {
    return secrets;
  }

  /** Pritunl Cloud compatibility options, kept as written. */
  public InstanceOptions options() {
    return options;
  }

  /** The unit's firewall resources. */
  public List<Firewall> firewalls() {
    return firewalls;
  }

  /** The unit's DNS record resources. */
  public List<DomainRecords> domains() {
    return domains;
  }

  /**
   * The unit's journal resources: inputs the agent follows and ships ({@link Instance#journal(String)},
   * {@link PodEvent.JournalLine}).
   */
  public List<Journal> journals() {
    return journals;
  }

  /**
   * The document: prose, resource blocks and scripts, in order. Adjacent prose is merged into one block (joined
   * by a blank line), as a template cannot tell two apart.
   */
  public List<Block> blocks() {
    return blocks;
  }

  /** The script blocks, in document order. */
  public List<Script> scripts() {
    List<Script> out = new ArrayList<>();
    for (Block b : blocks) {
      if (b instanceof Script s) {
        out.add(s);
      }
    }
    return out;
  }

  /** The script blocks that run for a trigger, in document order (see {@link Phase#runsOn(Trigger)}). */
  public List<Script> scripts(Trigger trigger) {
    return Phase.select(scripts(), trigger);
  }

  /** The names of every resource of the unit: the instance (the unit's name), firewalls, domains, journals. */
  public List<String> resourceNames() {
    List<String> out = new ArrayList<>();
    out.add(name);
    firewalls.forEach(f -> out.add(f.name()));
    domains.forEach(d -> out.add(d.name()));
    journals.forEach(j -> out.add(j.name()));
    return out;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Unit u)) {
      return false;
    }
    return count == u.count
        && processors == u.processors
        && memoryMib == u.memoryMib
        && diskSizeGib == u.diskSizeGib
        && publicAddress == u.publicAddress
        && restart == u.restart
        && livenessTimeout.equals(u.livenessTimeout)
        && readinessChecks.equals(u.readinessChecks)
        && livenessChecks.equals(u.livenessChecks)
        && name.equals(u.name)
        && image.equals(u.image)
        && vpc.equals(u.vpc)
        && Objects.equals(subnet, u.subnet)
        && nodePorts.equals(u.nodePorts)
        && mounts.equals(u.mounts)
        && roles.equals(u.roles)
        && secrets.equals(u.secrets)
        && options.equals(u.options)
        && firewalls.equals(u.firewalls)
        && domains.equals(u.domains)
        && journals.equals(u.journals)
        && blocks.equals(u.blocks);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        name, count, image, processors, memoryMib, diskSizeGib, vpc, subnet, publicAddress, restart,
        livenessTimeout, readinessChecks, livenessChecks, nodePorts, mounts, roles, secrets, options, firewalls,
        domains, journals, blocks);
  }

  @Override
  public String toString() {
    return "Unit[name=" + name + ", count=" + count + ", image=" + image + ", processors=" + processors
        + ", memoryMib=" + memoryMib + ", diskSizeGib=" + diskSizeGib + ", vpc=" + vpc + ", subnet=" + subnet
        + ", publicAddress=" + publicAddress + ", restart=" + restart + ", livenessTimeout=" + livenessTimeout
        + ", readinessChecks=" + readinessChecks + ", livenessChecks=" + livenessChecks
        + ", nodePorts=" + nodePorts + ", mounts=" + mounts + ", roles="
        + roles + ", secrets=" + secrets + ", options=" + options + ", firewalls=" + firewalls + ", domains="
        + domains + ", journals=" + journals + ", blocks=" + blocks + "]";
  }

  /**
   * Builds a {@link Unit}. Setters only record values; {@link #build()} validates everything and reports
   * every problem at once. Not thread-safe; a builder may be reused after {@code build()}.
   */
  public static final class Builder {
    private @Nullable String name;
    private int count = DEFAULT_COUNT;
    private @Nullable String image;
    private int processors = DEFAULT_PROCESSORS;
    private int memoryMib = DEFAULT_MEMORY_MIB;
    private int diskSizeGib = DEFAULT_DISK_SIZE_GIB;
    private String vpc = DEFAULT_VPC;
    private @Nullable String subnet;
    private boolean publicAddress;
    private RestartPolicy restart = DEFAULT_RESTART;
    private java.time.Duration livenessTimeout = DEFAULT_LIVENESS_TIMEOUT;
    private final List<HealthCheck> readinessChecks = new ArrayList<>();
    private final List<HealthCheck> livenessChecks = new ArrayList<>();
    private final List<NodePort> nodePorts = new ArrayList<>();
    private final List<Mount> mounts = new ArrayList<>();
    private final List<String> roles = new ArrayList<>();
    private final List<Reference> secrets = new ArrayList<>();
    private InstanceOptions options = InstanceOptions.NONE;
    private final List<Firewall> firewalls = new ArrayList<>();
    private final List<DomainRecords> domains = new ArrayList<>();
    private final List<Journal> journals = new ArrayList<>();
    private final List<Block> blocks = new ArrayList<>();

    private Builder() {}

    /** The unit's name (required). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** How many instances run; default {@value Unit#DEFAULT_COUNT}. */
    public Builder count(int count) {
      this.count = count;
      return this;
    }

    /** The base image (required): a catalogue name, an {@code +/image/...} reference, a path or a URL. */
    public Builder image(String image) {
      this.image = Objects.requireNonNull(image, "image");
      return this;
    }

    /** Virtual processors; default {@value Unit#DEFAULT_PROCESSORS}. */
    public Builder processors(int processors) {
      this.processors = processors;
      return this;
    }

    /** Memory in MiB; default {@value Unit#DEFAULT_MEMORY_MIB}. */
    public Builder memoryMib(int memoryMib) {
      this.memoryMib = memoryMib;
      return this;
    }

    /** Root disk size in GiB; default {@value Unit#DEFAULT_DISK_SIZE_GIB}. */
    public Builder diskSizeGib(int diskSizeGib) {
      this.diskSizeGib = diskSizeGib;
      return this;
    }

    /** The VPC's name; default {@code default}. */
    public Builder vpc(String vpc) {
      this.vpc = Objects.requireNonNull(vpc, "vpc");
      return this;
    }

    /**
     * The subnet (a name or a CIDR), kept for Pritunl Cloud templates: a pods host does not act on it yet (the
     * runtime gives each instance a /30 of its private range whatever it says; {@code pods validate} warns).
     */
    public Builder subnet(@Nullable String subnet) {
      this.subnet = subnet;
      return this;
    }

    /** Whether instances get a public address; default {@code false}. */
    public Builder publicAddress(boolean publicAddress) {
      this.publicAddress = publicAddress;
      return this;
    }

    /** The restart policy (see {@link Unit#restart()}); default {@link RestartPolicy#ALWAYS}. */
    public Builder restart(RestartPolicy restart) {
      this.restart = Objects.requireNonNull(restart, "restart");
      return this;
    }

    /**
     * The liveness timeout (see {@link Unit#livenessTimeout()}): whole seconds from {@link #MIN_LIVENESS_TIMEOUT}
     * to {@link #MAX_LIVENESS_TIMEOUT}; default {@link #DEFAULT_LIVENESS_TIMEOUT}.
     */
    public Builder livenessTimeout(java.time.Duration livenessTimeout) {
      this.livenessTimeout = Objects.requireNonNull(livenessTimeout, "livenessTimeout");
      return this;
    }

    /** Adds a readiness check (see {@link Unit#readinessChecks()}). */
    public Builder readinessCheck(HealthCheck check) {
      readinessChecks.add(Objects.requireNonNull(check, "check"));
      return this;
    }

    /** Replaces the readiness checks. */
    public Builder readinessChecks(List<HealthCheck> checks) {
      this.readinessChecks.clear();
      checks.forEach(this::readinessCheck);
      return this;
    }

    /** Adds a liveness check (see {@link Unit#livenessChecks()}). */
    public Builder livenessCheck(HealthCheck check) {
      livenessChecks.add(Objects.requireNonNull(check, "check"));
      return this;
    }

    /** Replaces the liveness checks. */
    public Builder livenessChecks(List<HealthCheck> checks) {
      this.livenessChecks.clear();
      checks.forEach(this::livenessCheck);
      return this;
    }

    /** Adds a node port. */
    public Builder nodePort(NodePort nodePort) {
      nodePorts.add(Objects.requireNonNull(nodePort, "nodePort"));
      return this;
    }

    /** Replaces the node ports. */
    public Builder nodePorts(List<NodePort> nodePorts) {
      this.nodePorts.clear();
      nodePorts.forEach(this::nodePort);
      return this;
    }

    /** Adds a mount. */
    public Builder mount(Mount mount) {
      mounts.add(Objects.requireNonNull(mount, "mount"));
      return this;
    }

    /** Replaces the mounts. */
    public Builder mounts(List<Mount> mounts) {
      this.mounts.clear();
      mounts.forEach(this::mount);
      return this;
    }

    /**
     * Adds a role, kept for Pritunl Cloud templates: a pods host does not act on roles yet ({@code pods validate}
     * warns).
     */
    public Builder role(String role) {
      roles.add(Objects.requireNonNull(role, "role"));
      return this;
    }

    /** Replaces the roles. */
    public Builder roles(List<String> roles) {
      this.roles.clear();
      roles.forEach(this::role);
      return this;
    }

    /** Adds a secret reference ({@code +/secret/NAME}). */
    public Builder secret(Reference secret) {
      secrets.add(Objects.requireNonNull(secret, "secret"));
      return this;
    }

    /** Replaces the secrets. */
    public Builder secrets(List<Reference> secrets) {
      this.secrets.clear();
      secrets.forEach(this::secret);
      return this;
    }

    /** Sets the Pritunl Cloud compatibility options. */
    public Builder options(InstanceOptions options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /** Adds a firewall resource. */
    public Builder firewall(Firewall firewall) {
      firewalls.add(Objects.requireNonNull(firewall, "firewall"));
      return this;
    }

    /** Replaces the firewall resources. */
    public Builder firewalls(List<Firewall> firewalls) {
      this.firewalls.clear();
      firewalls.forEach(this::firewall);
      return this;
    }

    /** Adds a DNS record resource. */
    public Builder domain(DomainRecords domain) {
      domains.add(Objects.requireNonNull(domain, "domain"));
      return this;
    }

    /** Replaces the DNS record resources. */
    public Builder domains(List<DomainRecords> domains) {
      this.domains.clear();
      domains.forEach(this::domain);
      return this;
    }

    /** Adds a journal resource. */
    public Builder journal(Journal journal) {
      journals.add(Objects.requireNonNull(journal, "journal"));
      return this;
    }

    /** Replaces the journal resources. */
    public Builder journals(List<Journal> journals) {
      this.journals.clear();
      journals.forEach(this::journal);
      return this;
    }

    /** Appends a script block to the document. */
    public Builder script(Script script) {
      blocks.add(Objects.requireNonNull(script, "script"));
      return this;
    }

    /** Appends a script block to the document, with the given phase. */
    public Builder script(Phase phase, Script script) {
      return script(script.withPhase(phase));
    }

    /** Removes every script block, keeping prose and resource blocks. */
    public Builder clearScripts() {
      blocks.removeIf(b -> b instanceof Script);
      return this;
    }

    /** Appends documentation to the document. */
    public Builder prose(String markdown) {
      blocks.add(new Prose(markdown));
      return this;
    }

    /** Appends a resource block naming resources declared in it. */
    public Builder resourceBlock(List<String> names) {
      blocks.add(new ResourceBlock(names));
      return this;
    }

    /** Appends any block. */
    public Builder block(Block block) {
      blocks.add(Objects.requireNonNull(block, "block"));
      return this;
    }

    /** Replaces the whole document. */
    public Builder blocks(List<? extends Block> blocks) {
      this.blocks.clear();
      blocks.forEach(this::block);
      return this;
    }

    /**
     * Validates and builds the unit.
     *
     * @throws PodSpecException listing every problem found
     */
    public Unit build() {
      List<Problem> problems = new ArrayList<>();
      String what = name == null ? "unit" : "unit '" + name + "'";
      if (name == null) {
        problems.add(Problem.error("name", "is required"));
      } else if (!Names.isValid(name)) {
        problems.add(Problem.error("name", "'" + name + "' is invalid: " + Names.rule()));
      }
      if (image == null || image.isBlank()) {
        problems.add(Problem.error("image", "is required"));
      }
      range(problems, "count", count, 0, MAX_COUNT);
      range(problems, "processors", processors, 1, MAX_PROCESSORS);
      range(problems, "memory", memoryMib, MIN_MEMORY_MIB, MAX_MEMORY_MIB);
      range(problems, "diskSize", diskSizeGib, 1, MAX_DISK_SIZE_GIB);
      if (livenessTimeout.getNano() != 0 || livenessTimeout.compareTo(MIN_LIVENESS_TIMEOUT) < 0
          || livenessTimeout.compareTo(MAX_LIVENESS_TIMEOUT) > 0) {
        problems.add(Problem.error("livenessTimeout", (livenessTimeout.getNano() == 0
            ? livenessTimeout.toSeconds() + " s" : livenessTimeout.toMillis() + " ms") + " is out of range "
            + MIN_LIVENESS_TIMEOUT.toSeconds() + "-" + MAX_LIVENESS_TIMEOUT.toSeconds() + " s (whole seconds)"));
      }
      if (!Names.isValid(vpc)) {
        problems.add(Problem.error("vpc", "'" + vpc + "' is invalid: " + Names.rule()));
      }
      if (subnet != null && !Names.isValid(subnet)) {
        try {
          Cidrs.normalize(subnet);
        } catch (IllegalArgumentException e) {
          problems.add(Problem.error("subnet", "'" + subnet + "' is neither a subnet name nor a CIDR"));
        }
      }
      for (int i = 0; i < roles.size(); i++) {
        if (!ROLE.matcher(roles.get(i)).matches()) {
          problems.add(Problem.error("roles[" + i + "]", "'" + roles.get(i) + "' is not a valid role"));
        }
      }
      for (int i = 0; i < secrets.size(); i++) {
        if (!secrets.get(i).kind().equals("secret")) {
          problems.add(Problem.error("secrets[" + i + "]", "expected +/secret/NAME, not '" + secrets.get(i) + "'"));
        }
      }
      Set<String> ports = new HashSet<>();
      for (int i = 0; i < nodePorts.size(); i++) {
        NodePort p = nodePorts.get(i);
        if (!ports.add(p.protocol().id() + "/" + p.externalPort())) {
          problems.add(
              Problem.error(
                  "nodePorts[" + i + "]",
                  "external " + p.protocol().id() + " port " + p.externalPort() + " is used twice"));
        }
      }
      Set<String> resources = new HashSet<>();
      if (name != null) {
        resources.add(name);
      }
      List<String> declared = new ArrayList<>();
      firewalls.forEach(f -> declared.add(f.name()));
      domains.forEach(d -> declared.add(d.name()));
      journals.forEach(j -> declared.add(j.name()));
      for (String r : declared) {
        if (!resources.add(r)) {
          problems.add(Problem.error("resources", "resource name '" + r + "' is used twice"));
        }
      }
      if (problems.stream().anyMatch(Problem::isError)) {
        throw new PodSpecException(what, problems);
      }
      return new Unit(this, layout());
    }

    private static void range(List<Problem> problems, String field, int value, int min, int max) {
      if (value < min || value > max) {
        problems.add(Problem.error(field, value + " is out of range " + min + "-" + max));
      }
    }

    /** Makes resource blocks name each existing resource exactly once (see {@link ResourceBlock}). */
    private List<Block> layout() {
      List<String> all = new ArrayList<>();
      all.add(Objects.requireNonNull(name));
      firewalls.forEach(f -> all.add(f.name()));
      domains.forEach(d -> all.add(d.name()));
      journals.forEach(j -> all.add(j.name()));
      Set<String> placed = new HashSet<>();
      List<Block> out = new ArrayList<>();
      int firstResourceBlock = -1;
      for (Block b : blocks) {
        if (b instanceof ResourceBlock rb) {
          Set<String> kept = new LinkedHashSet<>();
          for (String n : rb.names()) {
            if (all.contains(n) && !placed.contains(n)) {
              kept.add(n);
            }
          }
          placed.addAll(kept);
          if (firstResourceBlock < 0) {
            firstResourceBlock = out.size();
            out.add(new ResourceBlock(List.copyOf(kept)));
          } else if (!kept.isEmpty()) {
            out.add(new ResourceBlock(List.copyOf(kept)));
          }
        } else {
          out.add(b);
        }
      }
      List<String> missing = all.stream().filter(n -> !placed.contains(n)).toList();
      if (firstResourceBlock < 0) {
        out.add(0, new ResourceBlock(missing));
      } else if (!missing.isEmpty()) {
        ResourceBlock first = (ResourceBlock) out.get(firstResourceBlock);
        List<String> names = new ArrayList<>(first.names());
        names.addAll(missing);
        out.set(firstResourceBlock, new ResourceBlock(names));
      }
      // Blocks emptied by removals go; the instance always has a home, so one resource block remains.
      out.removeIf(b -> b instanceof ResourceBlock rb && rb.names().isEmpty());
      // Adjacent prose is one piece of documentation (a template cannot tell two apart).
      List<Block> merged = new ArrayList<>();
      for (Block b : out) {
        int last = merged.size() - 1;
        if (b instanceof Prose p && last >= 0 && merged.get(last) instanceof Prose q) {
          merged.set(last, new Prose(q.markdown() + "\n\n" + p.markdown()));
        } else {
          merged.add(b);
        }
      }
      return merged;
    }
  }
}
