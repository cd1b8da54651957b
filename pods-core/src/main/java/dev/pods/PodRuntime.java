package dev.pods;

import dev.pods.spec.Reference;
import dev.pods.spi.Cidr;
import dev.pods.spi.DnsProvider;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorConfig;
import dev.pods.spi.HypervisorProvider;
import dev.pods.spi.InstanceFiles;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkDriverConfig;
import dev.pods.spi.Providers;
import dev.pods.spi.RuntimeSettings;
import dev.pods.spi.DiskStore;
import dev.pods.spi.SecretStore;
import dev.pods.spi.StateStore;
import dev.pods.secrets.InMemorySecretStore;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Runs pods: turns a {@link Pod} into a {@link Deployment} of VMs, each with its own network, files and metadata
 * service, through a {@link Hypervisor}, a {@link NetworkDriver} and an {@link InstanceFiles}.
 *
 * <pre>{@code
 * try (PodRuntime runtime = PodRuntime.builder()
 *         .hypervisor(hv).networkDriver(net).instanceFiles(files)
 *         .images(image -> BootImage.kernel(kernel, initrd, cmdline))
 *         .stateDir(Path.of("/var/lib/pods/state"))
 *         .build()) {
 *   Deployment d = runtime.deploy(shop);
 *   d.awaitReady(Duration.ofMinutes(2));
 *   d.destroy();
 * }
 * }</pre>
 *
 * <p><b>Contract.</b> Thread-safe. {@link #deploy} blocks only to allocate addresses and write the deployment's
 * state file, then returns; the instances are built in parallel on the executor. The caller owns the hypervisor,
 * network driver and executor it passed and closes them after the runtime; the runtime owns its own default
 * executor, its event threads and its metadata-service listeners. {@link #close()} (idempotent) stops those
 * threads and listeners, but leaves VMs, networks, files and address allocations in place: only
 * {@link Deployment#destroy()} removes them.
 *
 * <p><b>Restarts.</b> The state folder holds one record per deployment (the pod, and per instance its addresses,
 * agent token and last known state), written atomically before anything is built and at every change adoption
 * depends on. A runtime built with the same owner and state folder (in this JVM or another, after a crash or a {@link #close()}) adopts
 * those deployments: it starts the metadata services of the instances that run (their agents reconnect with the
 * same token), rebuilds what is missing (network, files, domain) with the recorded addresses and token, finishes
 * destroys a crash interrupted, and removes what the owner has but no record wants (domains, networks, files,
 * address allocations). It never touches what another owner made. While it runs, an instance whose domain vanished
 * is recreated (fresh disk: its initial phase runs again), except during {@link Deployment#destroy()}.
 *
 * @since 0.1
 */
public interface PodRuntime extends AutoCloseable {

  /**
   * Schedules every instance (unit x count) of {@code pod}: allocates their addresses, then builds each one in
   * parallel (network, files and seed with a fresh agent token, domain, metadata service, start). An instance whose
   * creation fails is cleaned up and marked {@link InstanceState#FAILED}; the others go on.
   *
   * @throws PodSpecException when the runtime's {@link ImagePolicy} refuses the image of a unit (nothing is
   *     recorded nor built then)
   * @throws PodsException when addresses cannot be allocated (nothing is left allocated then)
   * @throws IllegalStateException when a pod of that name is already deployed by this runtime, or the runtime is
   *     closed
   */
  Deployment deploy(Pod pod);

  /**
   * The deployments made by this runtime, or adopted when it started (recorded in its state folder by an earlier
   * runtime of the same owner), and not yet destroyed.
   */
  List<Deployment> deployments();

  /** The deployment of the pod named {@code pod}, made or adopted by this runtime and not yet destroyed. */
  Optional<Deployment> deployment(String pod);

  /**
   * The runtime's named persistent disks: list (size, usage, the instance using each), create ahead of a deploy,
   * delete. A runtime without a disk store ({@link Builder#disks}) lists none and refuses to create one.
   */
  Disks disks();

  /**
   * Where an instance's metadata service listens in its namespace unless the builder says otherwise, and where the
   * guest agent calls it: 169.254.169.254, port 80 (a literal: no name is looked up).
   */
  InetSocketAddress DEFAULT_METADATA_ADDRESS = new InetSocketAddress("169.254.169.254", 80);

  /** The owner label on every domain and network this runtime creates. */
  String owner();

  /** Stops the runtime's threads and metadata listeners; VMs and networks keep running. Idempotent. */
  @Override
  void close();

  /** A builder; hypervisor, network driver, instance files, images and state dir are required. */
  static Builder builder() {
    return new Builder(false);
  }

  /**
   * The runtime of this host with every default of {@link #localBuilder()}: the best available hypervisor and
   * network driver ({@code pods-kvm} and {@code pods-net} on the class path: libvirt and Linux namespaces), the
   * hypervisor's image catalogue, everything under the {@linkplain #defaultDataDir() data folder}, and a stable owner
   * label, so that a runtime built later on the same folder finds the same deployments.
   *
   * @throws BackendUnavailableException when no hypervisor or network driver can run here; the message lists every
   *     candidate and why it cannot
   * @throws ConflictException when another runtime uses the same data folder
   */
  static PodRuntime local() {
    return localBuilder().build();
  }

  /**
   * A builder for the local host: what is not set explicitly is discovered when {@link Builder#build()} runs, and
   * the parts it makes (hypervisor connection, network driver) are owned and closed by the runtime. Defaults, each
   * replaceable with the builder's setter: data folder {@link #defaultDataDir()}; state dir {@code <data>/state};
   * hypervisor from {@link Providers#hypervisor()} with {@link HypervisorConfig#DEFAULT}; instance files, image
   * catalogue and persistent disks from that provider, under {@code <data>} (the disks only when the provider is
   * discovered, that is when one of the other three is not given); network driver from {@link Providers#network()} with state
   * {@code <data>/net} and the name prefix's letters and digits as its prefix; owner
   * {@code dev.pods/local=<data folder>}.
   */
  static Builder localBuilder() {
    return new Builder(true);
  }

  /**
   * The local runtime's data folder: system property {@code pods.dataDir}, else environment variable
   * {@code PODS_DATA_DIR}, else {@code /var/lib/pods} for root, else {@code $XDG_DATA_HOME/pods} (by default
   * {@code ~/.local/share/pods}).
   */
  static Path defaultDataDir() {
    String p = System.getProperty("pods.dataDir");
    if (p == null || p.isBlank()) {
      p = System.getenv("PODS_DATA_DIR");
    }
    if (p != null && !p.isBlank()) {
      return Path.of(p).toAbsolutePath().normalize();
    }
    if ("root".equals(System.getProperty("user.name"))) {
      return Path.of("/var/lib/pods");
    }
    String xdg = System.getenv("XDG_DATA_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
        : Path.of(System.getProperty("user.home"), ".local", "share");
    return base.resolve("pods").toAbsolutePath().normalize();
  }

  /**
   * The public network: instances of units with a public address get one from {@code range}, NATed 1:1 to their
   * private one, with {@code gateway} as their way out through {@code bridge}.
   *
   * @param bridge the uplink bridge (existing; not created nor deleted by pods)
   * @param range the public addresses; its prefix is the on-link prefix
   * @param gateway the default gateway in {@code range} (never handed out)
   */
  record PublicNetwork(String bridge, Cidr range, Inet4Address gateway) {
    /** Validates. */
    public PublicNetwork {
      Objects.requireNonNull(bridge, "bridge");
      Objects.requireNonNull(range, "range");
      if (!range.contains(gateway)) {
        throw new IllegalArgumentException("gateway " + gateway.getHostAddress() + " is not in " + range);
      }
    }
  }

  /**
   * A DNS domain the host application registered ({@link Builder#domain(String, String, DnsProvider)}): records
   * naming {@code +/domain/NAME} get names under {@code zone}, answered by every instance's resolver and, with a
   * {@code provider}, published to a DNS server.
   *
   * @param name the name templates use in {@code +/domain/NAME}
   * @param zone the zone, without the trailing dot (e.g. {@code example.com})
   * @param provider where the records are published beyond the pod, or {@code null} for pod-internal answers only
   */
  record DnsDomain(String name, String zone, @Nullable DnsProvider provider) {
    private static final java.util.regex.Pattern ZONE =
        java.util.regex.Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
            + "(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");

    /** Validates; lower-cases the zone. */
    public DnsDomain {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(zone, "zone");
      Reference.of("domain", name); // the NAME of +/domain/NAME: throws naming what is wrong
      if (zone.length() > 200 || !ZONE.matcher(zone).matches()) {
        throw new IllegalArgumentException("bad zone '" + zone + "' for domain " + name
            + ": expected a DNS name such as example.com, without the trailing dot");
      }
      zone = zone.toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Builds a {@link PodRuntime}. Defaults: private range {@code 10.98.0.0/16} (one /30 per instance), no public
   * network, no DNS servers, host namespace = the driver's default, owner {@code dev.pods/session=<uuid>}, name
   * prefix {@code pods-}, metadata address {@code 169.254.169.254:80} inside each instance's namespace, an owned
   * cached pool of daemon threads, {@link Clock#systemUTC()}. Not thread-safe.
   */
  final class Builder {
    private final boolean local;
    private @Nullable Path dataDir;
    private @Nullable Hypervisor hypervisor;
    private @Nullable NetworkDriver networkDriver;
    private @Nullable InstanceFiles instanceFiles;
    private @Nullable ImageResolver images;
    private ImagePolicy imagePolicy = ImagePolicy.catalogueOnly();
    private @Nullable Path stateDir;
    private @Nullable StateStore stateStore;
    private dev.pods.spi.@Nullable PodMembership membership;
    private @Nullable SecretStore secrets;
    private @Nullable DiskStore disks;
    private final List<Path> hostFolders = new ArrayList<>();
    private Cidr privateRange = Cidr.parse("10.98.0.0/16");
    private @Nullable PublicNetwork publicNetwork;
    private final List<Inet4Address> dnsServers = new ArrayList<>();
    private @Nullable String hostNamespace;
    private @Nullable Inet4Address nodeAddress;
    private @Nullable String owner;
    private String namePrefix = "pods-";
    private InetSocketAddress metadataAddress = DEFAULT_METADATA_ADDRESS;
    private @Nullable Executor executor;
    private Clock clock = Clock.systemUTC();
    private final java.util.Map<String, DnsDomain> domains = new java.util.LinkedHashMap<>();

    private Builder(boolean local) {
      this.local = local;
    }

    /**
     * The data folder of a {@link #localBuilder() local} runtime (state, networks, instance files); ignored by a
     * plain builder.
     */
    public Builder dataDir(Path dir) {
      this.dataDir = Objects.requireNonNull(dir, "dataDir");
      return this;
    }

    /** The hypervisor; the caller keeps owning it. */
    public Builder hypervisor(Hypervisor h) {
      this.hypervisor = Objects.requireNonNull(h, "hypervisor");
      return this;
    }

    /** The network driver; the caller keeps owning it. */
    public Builder networkDriver(NetworkDriver d) {
      this.networkDriver = Objects.requireNonNull(d, "networkDriver");
      return this;
    }

    /** Where instance disks and seeds are written. */
    public Builder instanceFiles(InstanceFiles f) {
      this.instanceFiles = Objects.requireNonNull(f, "instanceFiles");
      return this;
    }

    /** How unit images map to boot files. */
    public Builder images(ImageResolver r) {
      this.images = Objects.requireNonNull(r, "images");
      return this;
    }

    /**
     * Which images units may name ({@link ImagePolicy#catalogueOnly()} by default): {@link PodRuntime#deploy} and
     * {@link Deployment#plan} refuse a pod with a unit whose image the policy refuses ({@link PodSpecException}
     * naming the unit, the image and the rule), and a {@link #localBuilder() local} runtime's image catalogue
     * applies it when it copies or downloads an image (symbolic links resolved, size bound, redirects and
     * destination addresses checked).
     */
    public Builder imagePolicy(ImagePolicy policy) {
      this.imagePolicy = Objects.requireNonNull(policy, "imagePolicy");
      return this;
    }

    /**
     * The runtime's state folder (created when missing, mode 0700): one small JSON file per deployment, mode 0600
     * (it holds agent tokens). A runtime with the same owner and folder adopts what an earlier one recorded.
     */
    public Builder stateDir(Path dir) {
      this.stateDir = Objects.requireNonNull(dir, "stateDir");
      return this;
    }

    /**
     * Where deployment records are kept instead of files in the state folder (which the runtime still locks, so
     * that one runtime at a time uses the store). The caller keeps owning the store.
     */
    public Builder stateStore(StateStore store) {
      this.stateStore = Objects.requireNonNull(store, "stateStore");
      return this;
    }

    /**
     * Where the values of the secrets units declare come from (default: an empty {@link InMemorySecretStore}, so a
     * pod declaring a secret cannot be deployed). Deploying a unit that declares a secret the store has no value for
     * fails before anything is built. The metadata service serves a secret's fields to the instances of units
     * declaring it only; a change of a value in the store is a live change for those instances (their
     * {@code reload} blocks run). The caller keeps owning the store.
     */
    public Builder secrets(SecretStore store) {
      this.secrets = Objects.requireNonNull(store, "secrets");
      return this;
    }

    /**
     * Where named persistent disks live (a {@link #localBuilder() local} runtime that discovers its hypervisor
     * provider: that provider's store in the data folder). Without one, deploying a unit with a disk mount fails before anything is built. The caller
     * keeps owning the store.
     */
    public Builder disks(DiskStore store) {
      this.disks = Objects.requireNonNull(store, "disks");
      return this;
    }

    /**
     * Allows {@code host_path} mounts of {@code folder} and what is below it (repeatable; none by default, so a
     * template cannot read the host unless the host application allows it). A mount's {@code hostPath} is resolved
     * (symbolic links followed) when a pod is deployed and must then lie inside an allowed folder, else the deploy
     * fails naming the unit, the mount and the path. The folder is shared with virtiofs and mounted at the mount's
     * {@code path} before the unit's blocks run, read-only unless the mount says {@code readOnly: false} (enforced on
     * the host: root in the guest cannot write to a read-only folder).
     */
    public Builder hostFolder(Path folder) {
      Path f = Objects.requireNonNull(folder, "folder");
      if (!f.isAbsolute()) {
        throw new IllegalArgumentException("an allowed host folder is absolute, not " + folder);
      }
      hostFolders.add(f.normalize());
      return this;
    }

    /** The range private subnets (one /30 per instance) are allocated from. */
    public Builder privateRange(Cidr range) {
      this.privateRange = Objects.requireNonNull(range, "privateRange");
      return this;
    }

    /** The public network (uplink bridge and address pool); none by default. */
    public Builder publicNetwork(@Nullable PublicNetwork n) {
      this.publicNetwork = n;
      return this;
    }

    /**
     * The upstream DNS servers: each instance's resolver (the dnsmasq of its namespace, which DHCP hands the guest
     * as its DNS server) answers the pod's DNS records itself and forwards every other query to these. None: it
     * answers only the pod's records.
     */
    public Builder dnsServer(Inet4Address... servers) {
      for (Inet4Address a : servers) {
        dnsServers.add(Objects.requireNonNull(a, "dnsServer"));
      }
      return this;
    }

    /**
     * Registers a DNS domain: DNS records ({@code kind: domain}) that name {@code +/domain/NAME} publish
     * {@code RECORD.zone}, answered by the resolver of every instance of the pod (its private or public addresses,
     * following the pod as it changes). Deploying a pod with a record of an unregistered domain fails, naming the
     * record. Without a provider, the names are answered inside the pod only.
     *
     * @param name the NAME of {@code +/domain/NAME}
     * @param zone the zone the records are named under, without the trailing dot
     * @throws IllegalStateException when {@code name} was registered already
     * @throws IllegalArgumentException when the name or zone is not valid
     */
    public Builder domain(String name, String zone) {
      return register(new DnsDomain(name, zone, null));
    }

    /**
     * Registers a DNS domain whose records are also published through {@code provider} (see
     * {@link #domain(String, String)}): the runtime replaces each name's A records when its instances change, and
     * removes them when the pod is destroyed. The caller keeps owning the provider.
     *
     * @throws IllegalStateException when {@code name} was registered already
     * @throws IllegalArgumentException when the name or zone is not valid
     */
    public Builder domain(String name, String zone, DnsProvider provider) {
      return register(new DnsDomain(name, zone, Objects.requireNonNull(provider, "provider")));
    }

    private Builder register(DnsDomain d) {
      if (domains.containsKey(d.name())) {
        throw new IllegalStateException("domain " + d.name() + " was already registered");
      }
      domains.put(d.name(), d);
      return this;
    }

    /** The named network namespace holding the uplink and VPC bridges ({@code null}: the driver's default). */
    public Builder hostNamespace(@Nullable String ns) {
      this.hostNamespace = ns;
      return this;
    }

    /**
     * The node address: units' node ports ({@code nodePorts}) listen on it, in the host namespace
     * ({@link #hostNamespace}, or the JVM's own), and forward each TCP connection to the {@code internalPort} of one
     * ready instance of their unit, taken in turn. The address must be one of that namespace's. None by default: a
     * pod with node ports is then refused.
     */
    public Builder nodeAddress(@Nullable Inet4Address address) {
      this.nodeAddress = address;
      return this;
    }

    /**
     * The owner label of everything this runtime creates. One owner, one state folder: on start the runtime removes
     * whatever of its owner (domains, networks) no record in its state folder wants.
     */
    public Builder owner(String label) {
      this.owner = Objects.requireNonNull(label, "owner");
      return this;
    }

    /** What domain names start with (domain = prefix + instance id); per-run prefixes keep tests apart. */
    public Builder namePrefix(String prefix) {
      this.namePrefix = Objects.requireNonNull(prefix, "namePrefix");
      return this;
    }

    /**
     * Where each metadata service listens, inside its instance's namespace (default
     * {@link #DEFAULT_METADATA_ADDRESS}, 169.254.169.254:80, the address the guest agent calls). Tests with an
     * in-memory network driver (whose "namespaces" are the caller's) use {@code 127.0.0.1:0}.
     */
    public Builder metadataAddress(InetSocketAddress address) {
      this.metadataAddress = Objects.requireNonNull(address, "metadataAddress");
      return this;
    }

    /** The executor instances are built on; never shut down by the runtime. */
    public Builder executor(Executor e) {
      this.executor = Objects.requireNonNull(e, "executor");
      return this;
    }

    /** The clock of event time stamps. */
    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    /**
     * Makes this runtime one host of several running the same pods: it runs only the instances of a pod that
     * {@code m} says it hosts, follows {@code m}'s changes, and shows the pod's instances on other hosts to its
     * own instances as peers (see {@link dev.pods.spi.PodMembership}). pods-etcd's cluster node sets it; a host
     * application running pods on one host never does.
     *
     * @since 0.2
     */
    public Builder membership(dev.pods.spi.PodMembership m) {
      this.membership = Objects.requireNonNull(m, "membership");
      return this;
    }

    /**
     * Builds the runtime: discovers and makes what a {@link #localBuilder() local} builder was not given, creates the
     * state folder and takes it (one runtime per state folder at a time, across processes), then adopts the
     * deployments recorded there: blocks while it removes unwanted leftovers of its owner and restarts the metadata
     * services of running instances; rebuilding missing parts runs on the executor.
     *
     * @throws IllegalStateException when a required part is missing (plain builder)
     * @throws BackendUnavailableException when a local part cannot be discovered
     * @throws ConflictException when another runtime holds the state folder
     * @throws PodsException when the state folder cannot be created
     */
    public PodRuntime build() {
      List<AutoCloseable> owned = new ArrayList<>();
      try {
        Hypervisor hv = hypervisor;
        NetworkDriver net = networkDriver;
        InstanceFiles files = instanceFiles;
        ImageResolver img = images;
        DiskStore dk = disks;
        Path state = stateDir;
        String own = owner;
        if (local) {
          Path data = (dataDir != null ? dataDir : defaultDataDir()).toAbsolutePath().normalize();
          if (state == null) {
            state = data.resolve("state");
          }
          if (hv == null || files == null || img == null) {
            HypervisorProvider hp = Providers.hypervisor();
            if (hv == null) {
              hv = hp.create(HypervisorConfig.DEFAULT);
              owned.add(hv);
            }
            if (files == null) {
              files = hp.instanceFiles(data);
            }
            if (img == null) {
              img = hp.images(data, imagePolicy);
            }
            if (dk == null) {
              dk = hp.disks(data);
            }
          }
          if (net == null) {
            net = Providers.network().create(new NetworkDriverConfig(data.resolve("net"), networkPrefix(namePrefix),
                null));
            owned.add(net);
          }
          if (own == null) {
            own = "dev.pods/local=" + data;
          }
        }
        if (hv == null || net == null || files == null || img == null || state == null) {
          throw new IllegalStateException(
              "hypervisor, networkDriver, instanceFiles, images and stateDir are required"
                  + " (or use PodRuntime.localBuilder(), which discovers them)");
        }
        if (own == null) {
          own = "dev.pods/session=" + UUID.randomUUID();
        }
        return Providers.runtime().start(new RuntimeSettings(hv, net, files, img, imagePolicy, state, privateRange,
            publicNetwork, List.copyOf(dnsServers), hostNamespace, own, namePrefix, metadataAddress, executor, clock,
            List.copyOf(owned), stateStore, nodeAddress, java.util.Map.copyOf(domains),
            secrets != null ? secrets : new InMemorySecretStore(), dk, List.copyOf(hostFolders), membership));
      } catch (RuntimeException | Error e) {
        for (AutoCloseable c : owned) {
          try {
            c.close();
          } catch (Exception suppressed) {
            e.addSuppressed(suppressed);
          }
        }
        throw e;
      }
    }

    /** A network driver prefix (1..12 lower-case letters and digits, a letter first) from the name prefix. */
    static String networkPrefix(String namePrefix) {
      String p = namePrefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
      p = p.replaceFirst("^[0-9]+", "");
      if (p.isEmpty()) {
        p = "pods";
      }
      return p.length() > 12 ? p.substring(0, 12) : p;
    }
  }
}
