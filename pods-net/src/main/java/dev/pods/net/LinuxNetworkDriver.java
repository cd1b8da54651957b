package dev.pods.net;

import dev.pods.NetworkException;
import dev.pods.net.internal.DnsmasqSupervisor;
import dev.pods.net.internal.ImdsRefusalWatch;
import dev.pods.net.internal.ImdsRefusals;
import dev.pods.net.internal.InstanceRecord;
import dev.pods.net.internal.IntegrityProbe;
import dev.pods.net.internal.IpCommands;
import dev.pods.net.internal.IpJson;
import dev.pods.net.internal.LinkIndexes;
import dev.pods.net.internal.NamespaceSockets;
import dev.pods.net.internal.Names;
import dev.pods.net.internal.Netns;
import dev.pods.net.internal.Nft;
import dev.pods.net.internal.OwnerMarks;
import dev.pods.net.internal.Processes;
import dev.pods.net.internal.Programs;
import dev.pods.net.internal.Reaper;
import dev.pods.net.internal.RecordStore;
import dev.pods.net.internal.ResolverHosts;
import dev.pods.net.internal.VpcBridges;
import dev.pods.net.internal.Vxlans;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkTask;
import dev.pods.spi.NetworkVpc;
import dev.pods.spi.VpcFabric;
import java.net.Inet4Address;
import java.util.Set;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Linux {@link NetworkDriver}. Per instance it builds:
 *
 * <ul>
 *   <li>a network namespace {@code <prefix>-<instanceId>} holding the VM's gateway address and the IMDS address
 *       {@code 169.254.169.254/32} on {@code gw0}, the public address on {@code up0} (a veth whose other end is on
 *       the uplink bridge in the host namespace), {@code vpc0} (a veth to the VPC's bridge in the host namespace,
 *       with proxy ARP: the VPC is routed, one subnet per instance, no per-peer routes), an nftables table (1:1
 *       NAT but for kept-back ports, SNAT, forward and input filtering, the firewall) and dnsmasq (DHCP only);</li>
 *   <li>in the VM namespace (the one the hypervisor sees, by default the JVM's): a bridge without addresses, the
 *       persistent tap the hypervisor opens, and the veth to {@code gw0}.</li>
 * </ul>
 *
 * <p>Link-local 169.254.0.0/16 is never forwarded by an instance namespace. Names of links are
 * {@code <linkPrefix><kind><index>} with a persistent per-instance index, claimed host-wide
 * ({@link Builder#linkIndexDir}), so drivers with the same link prefix and different state folders never take the
 * same names (and an index whose links someone else left is skipped); MACs are derived from the names, so a
 * re-created network keeps them. State (one record per instance, dnsmasq's lease, pid and log files, address pools)
 * lives in the state directory; records are written before anything is built, so {@link #reap} finds the leftovers
 * of a crash. Each namespace also carries its owner's mark (the alias of its loopback link, a digest of the owner
 * label): a namespace of this prefix without a record here is removed by {@link #reap} only when it carries the
 * reaping owner's mark, and otherwise left alone with a warning, so drivers with the same prefix and different
 * state folders (two data folders) never remove each other's networks. Teardown order: sockets, processes in the namespace, veths (synchronously, since namespace removal is
 * asynchronous), namespace, VPC bridge when unused, state.
 *
 * <p>With {@link Builder#fabric} each VPC bridge also gets a VXLAN link to the same VPC on the peer hosts
 * ({@link #fabric()}), which {@link #probe} checks and {@link #create} mends; without it, VPCs stay on this host.
 *
 * <p>This class orchestrates; the parts live in {@code dev.pods.net.internal}: instance records
 * ({@code RecordStore}), host-wide link indexes ({@code LinkIndexes}), the host side and the VPC bridges' reference
 * counting ({@code VpcBridges}) and their VXLAN links ({@code Vxlans}), dnsmasq supervision ({@code DnsmasqSupervisor}), the resolver's names
 * ({@code ResolverHosts}), owner marks and reaping ({@code OwnerMarks}, {@code Reaper}), sockets and tasks in
 * namespaces ({@code NamespaceSockets}) and the cheap probe ({@code IntegrityProbe}).
 *
 * <p>Links, addresses and routes are written as {@code ip -batch} programs and run by {@code ip} itself; the
 * nftables table is loaded in one transaction through libnftables (JNA), or by {@code nft -f}
 * ({@link Builder#netlink(boolean)}). Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN, plus what dnsmasq needs to bind
 * and drop privileges) and the {@code ip}, {@code nft} and {@code dnsmasq} commands. Thread-safe: calls for one instance are serialised by a lock
 * in this driver; VPC bridges and indexes are guarded by file locks, so several drivers may share a state
 * directory. Every call blocks. One daemon thread ({@code pods-net-watch-N}, {@code ImdsRefusalWatch}) reads each
 * instance's counter of metadata connections refused over the cap of 64 ({@code ImdsProtocol.MAX_CONNECTIONS})
 * every 10 s and logs a WARN when it rose ({@link #imdsConnectionsRefused}). {@link #close()} ends it, closes the
 * sockets this driver bound and leaves the networks.
 *
 * @since 0.1
 */
public final class LinuxNetworkDriver implements NetworkDriver {
  private static final Logger LOG = LoggerFactory.getLogger(LinuxNetworkDriver.class);
  private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{0,11}");
  /** How many indexes a create skips, whose links another driver (or a removed state folder) left, before it fails. */
  private static final int FOREIGN_SKIPS = 8;
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Path stateDir;
  private final String prefix;
  private final String linkPrefix;
  private final @Nullable String vmNamespace;
  private final @Nullable String tapUser;
  private final String nft;
  private final boolean jnaNetnsAdd;
  private final boolean netlink;
  private final IpCommands ip;
  private final RecordStore records;
  private final LinkIndexes indexes;
  private final VpcBridges vpcs;
  private final @Nullable Vxlans fabric;
  private final DnsmasqSupervisor dnsmasq;
  private final ResolverHosts resolver;
  private final OwnerMarks marks;
  private final Reaper reaper;
  private final NamespaceSockets sockets = new NamespaceSockets();
  private final IntegrityProbe probe;
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "pods-net-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  });
  private volatile boolean closed;
  /** How often the counters of refused metadata connections are read (and a rise logged). */
  static final Duration IMDS_WATCH_PERIOD = Duration.ofSeconds(10);
  private final ImdsRefusalWatch imdsWatch;

  private LinuxNetworkDriver(Builder b) {
    this.stateDir = Objects.requireNonNull(b.stateDir, "stateDir").toAbsolutePath();
    this.prefix = b.prefix;
    this.linkPrefix = b.linkPrefix != null ? b.linkPrefix : prefix.substring(0, Math.min(6, prefix.length()));
    if (linkPrefix.length() > 6 || !PREFIX.matcher(linkPrefix).matches()) {
      throw new IllegalArgumentException("link prefix must be 1..6 lower-case letters or digits: " + linkPrefix);
    }
    this.vmNamespace = b.vmNamespace;
    this.tapUser = b.tapUser;
    this.nft = b.nft;
    this.netlink = b.netlink;
    this.ip = new IpCommands(b.ip, b.timeout);
    try {
      this.records = new RecordStore(stateDir, prefix, linkPrefix);
      Files.createDirectories(stateDir.resolve("pools"));
      this.jnaNetnsAdd = Netns.runNetnsMounted();
    } catch (IOException e) {
      throw new NetworkException("open network state in " + stateDir + " failed", e);
    }
    this.indexes = new LinkIndexes(b.linkIndexDir, linkPrefix, stateDir);
    this.fabric = b.underlay == null ? null : new Vxlans(b.fabricNamespace, b.underlay,
        Vxlans.underlayLink(b.ip, b.fabricNamespace, b.underlay, b.timeout), b.peers, b.bridge, b.timeout);
    this.vpcs = new VpcBridges(stateDir, records, indexes, ip, fabric, linkPrefix,
        program -> Nft.run(program, netlink, nft, ip.timeout()));
    this.dnsmasq = new DnsmasqSupervisor(b.dnsmasq, b.timeout, records, vpcs::mtu);
    this.resolver = new ResolverHosts(dnsmasq, records);
    this.marks = new OwnerMarks(ip);
    this.reaper = new Reaper(prefix, records, marks);
    this.probe = new IntegrityProbe(records, dnsmasq, vmNs(), vpcs);
    adoptIndexes();
    if (fabric != null) {
      // the VXLAN links of VPCs built before (by an earlier driver on this state) get this driver's peers
      syncPeers();
    }
    this.imdsWatch = new ImdsRefusalWatch(this::readyInstances, this::imdsConnectionsRefused, IMDS_WATCH_PERIOD);
  }

  /**
   * Claims host-wide the link indexes the records of this state folder hold (networks built while indexes were
   * claimed per state folder, in its {@code link-index.json}, which then goes); a clash is logged.
   */
  private void adoptIndexes() {
    Path old = stateDir.resolve("link-index.json");
    if (!Files.exists(old)) {
      return;
    }
    for (InstanceRecord r : records.readAllUnchecked()) {
      if (!indexes.adopt("i-" + r.id(), r.index())) {
        LOG.warn("link index {} of instance '{}' is held by another state folder in {}", r.index(), r.id(),
            indexes.file());
      }
      NetworkVpc vpc = r.spec().vpc();
      if (vpc != null && !indexes.adopt("v-" + vpc.id(), r.vpcIndex())) {
        LOG.warn("link index {} of VPC '{}' is held by another state folder in {}", r.vpcIndex(), vpc.id(),
            indexes.file());
      }
    }
    try {
      Files.deleteIfExists(old);
      Files.deleteIfExists(stateDir.resolve("link-index.lock"));
    } catch (IOException e) {
      throw new NetworkException("remove " + old + " failed", e);
    }
  }

  /** A builder; only {@link Builder#stateDir} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The namespace prefix of this driver's networks. */
  public String prefix() {
    return prefix;
  }

  /** The state directory. */
  public Path stateDir() {
    return stateDir;
  }

  // ---------------------------------------------------------------- create / update / delete

  @Override
  public NetworkInstance create(NetworkSpec spec) {
    Objects.requireNonNull(spec, "spec");
    String id = spec.instanceId();
    return locked(id, "create", () -> {
      vpcs.checkFabric(spec, "create");
      InstanceRecord r = records.read(id);
      if (r != null) {
        checkOwner(r, spec, "create");
        if (r.ready() && Netns.exists(r.names().namespace()) && healthy(r)) {
          mendFabric(r);
          if (!r.spec().equals(spec)) {
            return doUpdate(r, spec);
          }
          dnsmasq.ensure(r);
          return r.instance();
        }
        LOG.info("network of instance '{}' is incomplete ({}); rebuilding it", id, r.state());
        teardown(id, r, true);
      } else if (Netns.exists(Names.namespace(prefix, id))) {
        String ns = Names.namespace(prefix, id);
        if (!marks.isOwners(ns, spec.owner())) {
          // the same prefix and instance id in another state folder (another data folder), or not made by pods
          throw new NetworkException("create network of instance '" + id + "' failed: namespace " + ns
              + " exists and is not " + spec.owner() + "'s; another data folder uses the prefix '" + prefix
              + "': give each its own prefix");
        }
        teardown(id, null);
      }
      NetworkInstance built = build(spec);
      // a new member's build makes a missing VXLAN link, not a detached or downed one
      mendFabric(Objects.requireNonNull(records.read(id)));
      return built;
    });
  }

  /** Mends the fabric side of {@code r}'s VPC where it is broken ({@link VpcBridges#mendFabric}), and logs it. */
  private void mendFabric(InstanceRecord r) throws Exception {
    List<String> mended = vpcs.mendFabric(r);
    if (!mended.isEmpty()) {
      LOG.warn("network of instance '{}': the fabric side of its VPC '{}' was broken ({}); repaired", r.id(),
          Objects.requireNonNull(r.spec().vpc()).id(), String.join("; ", mended));
    }
  }

  @Override
  public NetworkInstance update(NetworkSpec spec) {
    Objects.requireNonNull(spec, "spec");
    String id = spec.instanceId();
    return locked(id, "update", () -> {
      vpcs.checkFabric(spec, "update");
      InstanceRecord r = records.read(id);
      if (r == null || !r.ready() || !Netns.exists(r.names().namespace())) {
        throw new NetworkException("update network of instance '" + id + "' failed: no such network");
      }
      checkOwner(r, spec, "update");
      return doUpdate(r, spec);
    });
  }

  @Override
  public void delete(String instanceId) {
    Objects.requireNonNull(instanceId, "instanceId");
    locked(instanceId, "delete", () -> {
      teardown(instanceId, records.read(instanceId));
      return null;
    });
  }

  private NetworkInstance build(NetworkSpec spec) throws Exception {
    String id = spec.instanceId();
    long t0 = System.nanoTime();
    Laps laps = new Laps();
    long index = claimIndex(spec);
    laps.lap("index");
    InstanceRecord r = vpcs.record(spec, index);
    Names names = r.names();
    laps.lap("record");
    Future<Process> nftDone = null;
    Future<Object> hostDone = null;
    try {
      addNamespace(names.namespace());
      marks.mark(names.namespace(), spec.owner());
      laps.lap("netns");
      Path ns = Netns.path(names.namespace());
      // nft matches interfaces by name, so the table can load while the links are being made elsewhere
      // dnsmasq binds the wildcard DHCP socket and serves gw0 by name, so it may start before gw0 exists too
      nftDone = pool.submit(() -> Netns.call(ns, () -> {
        writeSysctls(Programs.sysctlsBeforeLinks());
        Nft.run(Programs.nftTable(spec, names, false), netlink, nft, ip.timeout());
        return dnsmasq.start(spec);
      }));
      String vmBatch = Programs.vmSideBatch(names, tapUser);
      if (Objects.equals(vmNamespace, spec.hostNamespace())) {
        // the usual production layout (libvirt and the bridges in one namespace): one command for both sides
        vpcs.attach(spec, names, vmBatch);
        laps.lap("vm+host-batch");
      } else {
        hostDone = pool.submit(() -> {
          vpcs.attach(spec, names, "");
          return null;
        });
        Netns.call(vmNs(), () -> ip.batch(vmBatch));
        laps.lap("vm-batch");
        await(hostDone);
      }
      laps.lap("host-batch");
      Netns.call(ns, () -> {
        ip.batch(Programs.instanceBatch(spec));
        writeSysctls(Programs.sysctlsAfterLinks(spec));
        return null;
      });
      laps.lap("ns-batch");
      Process dns = await(nftDone);
      laps.lap("nft+dnsmasq");
      dnsmasq.await(dns, id);
      laps.lap("dnsmasq-ready");
      records.markReady(id);
      laps.lap("ready");
      LOG.info("network of instance '{}' created in {} us", id, (System.nanoTime() - t0) / 1000);
      LOG.debug("create '{}' steps (us): {}", id, laps);
      return new InstanceRecord(spec, names, index, r.vpcIndex(), true).instance();
    } catch (Exception e) {
      // let the parallel steps finish first, or a dnsmasq started after the teardown would outlive it
      Process late = settle(nftDone);
      settle(hostDone);
      if (late != null) {
        late.destroyForcibly();
      }
      try {
        teardown(id, r);
      } catch (Exception cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /**
   * The instance's link index, claimed host-wide; an index whose links exist already (left by a driver whose
   * state folder was removed, or one that claims its indexes elsewhere) is skipped, never touched.
   */
  private long claimIndex(NetworkSpec spec) throws Exception {
    String key = "i-" + spec.instanceId();
    for (int attempt = 0; ; attempt++) {
      // an index the instance held already keeps its tap, which a running domain keeps open across a rebuild
      boolean held = indexes.lookup(key).isPresent();
      long index = indexes.claim(key);
      String foreign = foreignLink(spec, Names.of(prefix, linkPrefix, spec.instanceId(), index, -1), !held);
      if (foreign == null) {
        return index;
      }
      indexes.release(key); // round-robin: the next claim gets another index
      if (attempt == FOREIGN_SKIPS) {
        throw new NetworkException("create network of instance '" + spec.instanceId() + "' failed: link "
            + foreign + " and the links of " + FOREIGN_SKIPS + " more indexes exist and are not this driver's");
      }
      LOG.warn("link {} exists and is not this driver's (left by another driver with the link prefix '{}'); "
          + "instance '{}' takes another index", foreign, linkPrefix, spec.instanceId());
    }
  }

  /** Waits for a parallel step, ignoring its outcome; its result, or null. */
  private static <T> @Nullable T settle(@Nullable Future<T> f) {
    if (f == null) {
      return null;
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return f.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException | CancellationException e) {
          return null;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception c) {
        throw c;
      }
      throw e;
    }
  }

  private NetworkInstance doUpdate(InstanceRecord r, NetworkSpec spec) throws Exception {
    String id = spec.instanceId();
    if (!Programs.sameLinks(r.spec(), spec)) {
      LOG.info("network of instance '{}' changes its addresses; rebuilding it", id);
      teardown(id, r, true);
      return build(spec);
    }
    Path ns = Netns.path(r.names().namespace());
    InstanceRecord updated = r.updated(spec);
    if (Programs.onlyDnsHostsDiffer(r.spec(), spec)) {
      // the resolver's names alone: no rule changes, dnsmasq re-reads its hosts file (DHCP untouched)
      records.write(updated);
      resolver.reload(updated);
      LOG.debug("network of instance '{}': resolver names updated", id);
      return updated.instance();
    }
    Netns.call(ns, () -> {
      Nft.run(Programs.nftTable(spec, r.names(), true), netlink, nft, ip.timeout());
      return null;
    });
    records.write(updated);
    if (!Programs.sameDhcp(r.spec(), spec)) {
      dnsmasq.stop(r);
      dnsmasq.startIn(updated);
    } else if (!r.spec().dnsHosts().equals(spec.dnsHosts())) {
      resolver.reload(updated);
    }
    LOG.debug("network of instance '{}' updated", id);
    return updated.instance();
  }

  /**
   * A link this instance's names would take that exists already, or {@code null}: the VM-side bridge and veth (and
   * tap, with {@code withTap}) and the host-side veths. This driver removes an instance's links before its record,
   * and indexes are claimed host-wide, so such a link was left by another driver (whose state folder is gone, or
   * that claims its indexes in another folder). VPC bridges, shared by the members of a VPC, are not checked.
   */
  private @Nullable String foreignLink(NetworkSpec spec, Names n, boolean withTap) throws Exception {
    // the tap only for a new index: a running domain's QEMU keeps its tap alive while the network is rebuilt
    for (String name : withTap ? List.of(n.bridge(), n.vmVeth(), n.tap()) : List.of(n.bridge(), n.vmVeth())) {
      if (Netns.call(vmNs(), () -> IpCommands.linkExists(name))) {
        return name;
      }
    }
    for (String name : List.of(n.uplinkVeth(), n.vpcVeth())) {
      if (Netns.call(VpcBridges.hostNs(spec), () -> IpCommands.linkExists(name))) {
        return name;
      }
    }
    return null;
  }

  /** Whether the namespace still holds the addresses the record says it has (a hand-made change breaks it). */
  private boolean healthy(InstanceRecord r) throws Exception {
    NetworkSpec spec = r.spec();
    String json = Netns.call(Netns.path(r.names().namespace()), () -> ip.check("-j", "addr", "show").stdout());
    List<IpJson.Address> have = IpJson.addresses(json);
    boolean ok = have.contains(new IpJson.Address(Names.GW_IF, Cidr.dotted(spec.gateway()),
        spec.subnet().prefixLength()));
    if (spec.uplink() != null) {
      ok &= have.contains(new IpJson.Address(Names.UP_IF, Cidr.dotted(spec.uplink().address()),
          spec.uplink().prefixLength()));
    }
    if (!ok) {
      LOG.warn("network of instance '{}' lost its addresses ({}); rebuilding it", r.id(), have);
    }
    return ok;
  }

  private void teardown(String id, @Nullable InstanceRecord r) throws Exception {
    teardown(id, r, false);
  }

  /**
   * Removes an instance network. With {@code keepIndex} the instance keeps its link index, so a rebuild that follows
   * gets the same link names (the hypervisor's configuration names the tap); the old links are gone by then.
   */
  private void teardown(String id, @Nullable InstanceRecord r, boolean keepIndex) throws Exception {
    long t0 = System.nanoTime();
    Laps laps = new Laps();
    sockets.closeAll(id);
    String nsName = r != null ? r.names().namespace() : Names.namespace(prefix, id);
    if (r != null && !Netns.exists(nsName)) {
      // its namespace was deleted by hand: its dnsmasq runs on in the unnamed namespace it keeps alive
      dnsmasq.endOrphan(id);
    }
    if (Netns.exists(nsName)) {
      List<Long> pids = Processes.inNamespace(Netns.inode(nsName));
      if (!pids.isEmpty()) {
        Processes.end(pids, Duration.ofSeconds(2));
      }
      laps.lap("processes");
    }
    if (r != null) {
      boolean sameNs = Objects.equals(vmNamespace, r.spec().hostNamespace());
      if (!sameNs) {
        ip.forceBatch(vmNs(), Programs.groupDelete(r.names(), null));
        laps.lap("vm-links");
      }
      vpcs.detach(r, sameNs);
      laps.lap("host-links");
    } else if (Netns.exists(nsName)) {
      // no record: the outer ends' names are unknown, but deleting the inner ends removes the pairs
      ip.forceBatch(Netns.path(nsName), "link del " + Names.GW_IF + "\nlink del " + Names.UP_IF + "\nlink del "
          + Names.VPC_IF + "\n");
    }
    if (Netns.exists(nsName)) {
      if (jnaNetnsAdd) {
        Netns.delete(nsName);
      } else {
        ip.check("netns", "del", nsName);
      }
      laps.lap("netns");
    }
    records.delete(id);
    if (!keepIndex) {
      indexes.release("i-" + id);
    }
    laps.lap("state");
    LOG.info("network of instance '{}' deleted in {} us", id, (System.nanoTime() - t0) / 1000);
    LOG.debug("delete '{}' steps (us): {}", id, laps);
  }

  // ---------------------------------------------------------------- queries, probe and reaping

  @Override
  public Optional<NetworkInstance> find(String instanceId) {
    InstanceRecord r = records.readUnchecked(instanceId);
    if (r == null || !r.ready() || !Netns.exists(r.names().namespace())) {
      return Optional.empty();
    }
    return Optional.of(r.instance());
  }

  @Override
  public List<NetworkInstance> list(String owner) {
    List<NetworkInstance> out = new ArrayList<>();
    for (InstanceRecord r : records.readAllUnchecked()) {
      if (r.spec().owner().equals(owner) && r.ready() && Netns.exists(r.names().namespace())) {
        out.add(r.instance());
      }
    }
    return out;
  }

  /**
   * Reads, without starting a process, entering a namespace or taking the instance's lock: the record, the
   * namespace's file under {@code /run/netns}, dnsmasq's pid file and that process's namespace under {@code /proc},
   * then through {@code /proc/<dnsmasq>/net} (dnsmasq lives in the instance's namespace) its links and the addresses
   * and link routes of {@code gw0} and {@code up0}, and the VM namespace's links ({@code /proc/thread-self/net}; for a
   * named VM namespace, on one short-lived thread inside it). With a {@linkplain Builder#fabric fabric}, for an
   * instance of a VPC, also the fabric side of its VPC, over netlink sockets opened in the fabric's host namespace
   * (on the same thread when that is the VM namespace, else on one more for a named one), with no process: that the
   * VPC's bridge and VXLAN link exist, the link is a port of the bridge and up, its all-zeros forwarding entries go to
   * exactly the current peers, and the fabric's guard table exists. {@link #create} with the instance's spec mends
   * what it finds broken there, under the lock of the VPC bridges (the bridge made again with this state folder's
   * members on it, the VXLAN link made again or put back on its bridge and up, its entries set to the peers, the guard
   * loaded again), and logs what it mended at WARN.
   */
  @Override
  public List<String> probe(String instanceId) {
    Objects.requireNonNull(instanceId, "instanceId");
    checkOpen();
    return probe.probe(instanceId);
  }

  @Override
  public List<String> reap(String owner) {
    return reaper.reap(owner, new Reaper.Driver() {
      @Override
      public void delete(String instanceId) {
        LinuxNetworkDriver.this.delete(instanceId);
      }

      @Override
      public void underLock(String instanceId, String op, Reaper.Work work) {
        locked(instanceId, op, () -> {
          work.run();
          return null;
        });
      }
    });
  }

  // ---------------------------------------------------------------- in-namespace work

  @Override
  public <T> T callInNamespace(String instanceId, NetworkTask<T> task) {
    return sockets.call(instanceId, requireNamespace(instanceId, "run task"), task);
  }

  @Override
  public ServerSocket bindInHostNamespace(@Nullable String hostNamespace, InetSocketAddress address) {
    Objects.requireNonNull(address, "address");
    if (hostNamespace == null) {
      return NetworkDriver.super.bindInHostNamespace(null, address);
    }
    return sockets.bindInHost(hostNamespace, address);
  }

  @Override
  public ServerSocket bindInNamespace(String instanceId, InetSocketAddress address) {
    Objects.requireNonNull(address, "address");
    return locked(instanceId, "bind a socket in",
        () -> sockets.bind(instanceId, requireNamespace(instanceId, "bind " + address), address));
  }

  @Override
  public Socket connectInNamespace(String instanceId, InetSocketAddress address, Duration connectTimeout) {
    Objects.requireNonNull(address, "address");
    return sockets.connect(instanceId, requireNamespace(instanceId, "connect to " + address), address,
        connectTimeout);
  }

  /**
   * The fabric this driver was built with ({@link Builder#fabric}), or empty. Its {@link VpcFabric#peers(Set)}
   * changes the head-end replication entries of every VXLAN link of this driver's VPCs, under the lock that guards the
   * VPC bridges, without touching the instances' namespaces, links or processes.
   */
  @Override
  public Optional<VpcFabric> fabric() {
    Vxlans f = fabric;
    if (f == null) {
      return Optional.empty();
    }
    return Optional.of(new VpcFabric() {
      @Override
      public Inet4Address underlay() {
        return f.underlay();
      }

      @Override
      public int mtu() {
        return f.mtu();
      }

      @Override
      public Set<Inet4Address> peers() {
        return f.peers();
      }

      @Override
      public void peers(Set<Inet4Address> peers) {
        Objects.requireNonNull(peers, "peers");
        checkOpen();
        f.peers(peers);
        syncPeers();
      }

      @Override
      public String toString() {
        return "VpcFabric[underlay=" + Cidr.dotted(f.underlay()) + ", mtu=" + f.mtu() + ", peers=" + f.peers() + "]";
      }
    });
  }

  private void syncPeers() {
    try {
      List<String> links = vpcs.syncPeers();
      LOG.info("fabric peers {} set on VXLAN links {}", fabric.peers().stream().map(Cidr::dotted).sorted().toList(),
          links);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException("set the fabric's peers interrupted", e);
    } catch (Exception e) {
      throw new NetworkException("set the fabric's peers " + fabric.peers() + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * How many connections to its metadata service the instance's guest lost to the cap of 64 open at once
   * ({@code ImdsProtocol.MAX_CONNECTIONS}): reset by the instance's nftables table, and counted there since the
   * table was last loaded. Blocking (reads the counter inside the namespace); thread-safe.
   *
   * @throws NetworkException when the instance has no network or the counter cannot be read
   */
  public long imdsConnectionsRefused(String instanceId) {
    Path ns = requireNamespace(instanceId, "read the refused metadata connections");
    InstanceRecord r = records.readUnchecked(instanceId);
    String table = r != null ? r.names().table() : Names.table(prefix);
    try {
      return ImdsRefusals.parse(Netns.call(ns, () -> Nft.output(
          "list counter ip " + table + " " + Programs.IMDS_REFUSED_COUNTER, netlink, nft, ip.timeout())));
    } catch (Exception e) {
      throw new NetworkException("read the refused metadata connections of instance '" + instanceId + "' failed: "
          + e.getMessage(), e);
    }
  }

  /**
   * Reads every ready instance's counter of refused metadata connections now and logs a WARN for each that rose
   * since the last reading: what the driver's watcher does every {@link #IMDS_WATCH_PERIOD}.
   *
   * @return the warnings logged
   */
  List<String> logImdsRefusals() {
    return imdsWatch.poll();
  }

  private List<String> readyInstances() {
    List<String> out = new ArrayList<>();
    for (InstanceRecord r : records.readAllUnchecked()) {
      if (!closed && r.ready() && Netns.exists(r.names().namespace())) {
        out.add(r.spec().instanceId());
      }
    }
    return out;
  }

  @Override
  public IpAddressPool pool(IpPoolSpec spec) {
    return FileIpAddressPool.open(stateDir.resolve("pools"), spec);
  }

  @Override
  public void close() {
    closed = true;
    imdsWatch.close();
    pool.shutdown();
    sockets.closeEverything();
  }

  // ---------------------------------------------------------------- helpers

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("network driver is closed");
    }
  }

  private Path requireNamespace(String instanceId, String what) {
    checkOpen();
    InstanceRecord r = records.readUnchecked(instanceId);
    if (r == null || !r.ready() || !Netns.exists(r.names().namespace())) {
      throw new NetworkException(what + " in namespace of instance '" + instanceId + "' failed: no such network");
    }
    return Netns.path(r.names().namespace());
  }

  private void addNamespace(String name) throws IOException {
    if (jnaNetnsAdd) {
      Netns.add(name);
    } else {
      ip.check("netns", "add", name);
    }
  }

  private static void writeSysctls(List<String[]> settings) throws IOException {
    for (String[] kv : settings) {
      Files.writeString(Path.of("/proc/sys").resolve(kv[0]), kv[1]);
    }
  }

  private @Nullable Path vmNs() {
    return vmNamespace == null ? null : Netns.path(vmNamespace);
  }

  private static void checkOwner(InstanceRecord r, NetworkSpec spec, String op) {
    if (!r.spec().owner().equals(spec.owner())) {
      throw new NetworkException(op + " network of instance '" + spec.instanceId() + "' failed: it belongs to '"
          + r.spec().owner() + "', not '" + spec.owner() + "'");
    }
  }

  /** Work under an instance's lock. */
  @FunctionalInterface
  private interface Locked<T> {
    T run() throws Exception;
  }

  private <T> T locked(String id, String op, Locked<T> work) {
    checkOpen();
    ReentrantLock lock = locks.computeIfAbsent(id, k -> new ReentrantLock());
    lock.lock();
    try {
      return work.run();
    } catch (NetworkException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException(op + " network of instance '" + id + "' interrupted", e);
    } catch (Exception e) {
      throw new NetworkException(op + " network of instance '" + id + "' failed: " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }

  /** Step durations for the debug log. Not thread-safe; one per operation. */
  private static final class Laps {
    private final StringBuilder text = new StringBuilder();
    private long last = System.nanoTime();

    synchronized void lap(String step) {
      long now = System.nanoTime();
      text.append(step).append('=').append((now - last) / 1000).append(' ');
      last = now;
    }

    @Override
    public synchronized String toString() {
      return text.toString().strip();
    }
  }

  /**
   * Configures a {@link LinuxNetworkDriver}. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable Path stateDir;
    private String prefix = "pods";
    private @Nullable String linkPrefix;
    private @Nullable String vmNamespace;
    private @Nullable String tapUser;
    private String ip = "ip";
    private String nft = "nft";
    private String dnsmasq = "dnsmasq";
    private Duration timeout = Duration.ofSeconds(10);
    private boolean netlink = true;
    private Path linkIndexDir = Path.of("/run/pods/net");
    private @Nullable String fabricNamespace;
    private @Nullable Inet4Address underlay;
    private Set<Inet4Address> peers = Set.of();
    private String bridge = "bridge";

    private Builder() {}

    /**
     * Whether nftables programs run in-process through libnftables (default), or through {@code nft -f} (slower by
     * a process each, handy to debug: the programs are logged at DEBUG and can be pasted into it). Link, address
     * and route programs always run through {@code ip -batch}.
     */
    public Builder netlink(boolean value) {
      netlink = value;
      return this;
    }

    /** Where records, leases, logs and pools are kept (required). */
    public Builder stateDir(Path value) {
      stateDir = Objects.requireNonNull(value, "stateDir");
      return this;
    }

    /**
     * The runtime's prefix (default {@code pods}): namespaces are {@code <prefix>-<instanceId>} and the nft table is
     * named after it. 1..12 lower-case letters and digits, starting with a letter; distinct per runtime.
     */
    public Builder prefix(String value) {
      if (!PREFIX.matcher(value).matches()) {
        throw new IllegalArgumentException("prefix must be 1..12 lower-case letters or digits: " + value);
      }
      prefix = value;
      return this;
    }

    /** The prefix of link names (1..6 characters; default: the first 6 of {@link #prefix}). */
    public Builder linkPrefix(String value) {
      linkPrefix = value;
      return this;
    }

    /**
     * The named namespace the hypervisor sees, where the VM bridges and taps go (default: the JVM's own, which is
     * where a local libvirtd runs). Tests name one of their own.
     */
    public Builder vmNamespace(@Nullable String value) {
      vmNamespace = value;
      return this;
    }

    /** The user that owns the taps, for an unprivileged hypervisor (default: root). */
    public Builder tapUser(@Nullable String value) {
      tapUser = value;
      return this;
    }

    /** The commands to run (defaults: {@code ip}, {@code nft}, {@code dnsmasq} from the PATH). */
    public Builder commands(String ipCommand, String nftCommand, String dnsmasqCommand) {
      ip = ipCommand;
      nft = nftCommand;
      dnsmasq = dnsmasqCommand;
      return this;
    }

    /**
     * The host-wide folder where drivers claim link indexes (default {@code /run/pods/net}): drivers with the same
     * link prefix and different state folders share it, so their links never take the same names. Every driver on
     * a host should use the same one (a tmpfs: its claims mean nothing after a reboot).
     */
    public Builder linkIndexDir(Path value) {
      linkIndexDir = Objects.requireNonNull(value, "linkIndexDir").toAbsolutePath();
      return this;
    }

    /**
     * Joins this host's VPCs to the same VPCs on other hosts over VXLAN ({@link VpcFabric}). Each VPC bridge in
     * {@code hostNamespace} gets a VXLAN link ({@code <linkPrefix>X<index>}: VNI {@link VpcFabric#vni} of the VPC's
     * id, UDP port {@value VpcFabric#PORT}, sent from {@code underlay}, no learning) made and removed with the bridge,
     * with one all-zeros forwarding entry per peer (head-end replication: no multicast needed on the underlay). The
     * VPC's links ({@code vpc0}, its veth, the bridge, the VXLAN link) get the fabric's MTU, the MTU of the device
     * holding {@code underlay} minus {@value VpcFabric#OVERHEAD}, and DHCP hands it to the instances of VPCs (option
     * 26). Change the peers at run time with {@link #fabric()}. Without this call (the default) nothing of it exists.
     * Every VPC instance must then have {@code hostNamespace} as its host namespace. Checked by {@link #build()}:
     * {@code underlay} must be an address of {@code hostNamespace} and not among {@code peers}.
     *
     * @param hostNamespace the named host namespace holding the VPC bridges and the underlay address (null: the
     *     JVM's own)
     * @param underlay this host's address on the network that joins the hosts
     * @param peers the other hosts' underlay addresses (may be empty, and changed later)
     */
    public Builder fabric(@Nullable String hostNamespace, Inet4Address underlay, Set<Inet4Address> peers) {
      fabricNamespace = hostNamespace;
      this.underlay = Objects.requireNonNull(underlay, "underlay");
      this.peers = Set.copyOf(peers);
      return this;
    }

    /** iproute2's {@code bridge} command, which sets the fabric's forwarding entries (default: from the PATH). */
    public Builder bridgeCommand(String value) {
      bridge = Objects.requireNonNull(value, "bridgeCommand");
      return this;
    }

    /** The time limit of each command (default 10 s). */
    public Builder timeout(Duration value) {
      timeout = value;
      return this;
    }

    /** Builds the driver; creates the state directory. */
    public LinuxNetworkDriver build() {
      return new LinuxNetworkDriver(this);
    }
  }
}
