package dev.pods.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.NetworkException;
import dev.pods.internal.LockFile;
import dev.pods.net.internal.AtomicFiles;
import dev.pods.net.internal.Exec;
import dev.pods.net.internal.ImdsRefusalWatch;
import dev.pods.net.internal.ImdsRefusals;
import dev.pods.net.internal.IpJson;
import dev.pods.net.internal.Names;
import dev.pods.net.internal.Netns;
import dev.pods.net.internal.Nft;
import dev.pods.net.internal.Processes;
import dev.pods.net.internal.Programs;
import dev.pods.net.internal.SpecJson;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkTask;
import dev.pods.spi.NetworkVpc;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
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
 * {@code <linkPrefix><kind><index>} with a persistent per-instance index; MACs are derived from the names, so a
 * re-created network keeps them. State (one record per instance, dnsmasq's lease, pid and log files, address pools)
 * lives in the state directory; records are written before anything is built, so {@link #reap} finds the leftovers
 * of a crash. Each namespace also carries its owner's mark (the alias of its loopback link, a digest of the owner
 * label): a namespace of this prefix without a record here is removed by {@link #reap} only when it carries the
 * reaping owner's mark, and otherwise left alone with a warning, so drivers with the same prefix and different
 * state folders (two data folders) never remove each other's networks. Teardown order: sockets, processes in the namespace, veths (synchronously, since namespace removal is
 * asynchronous), namespace, VPC bridge when unused, state.
 *
 * <p>Links, addresses and routes are written as {@code ip -batch} programs and run by {@code ip} itself; the
 * nftables table is loaded in one transaction through libnftables (JNA), or by {@code nft -f}
 * ({@link Builder#netlink(boolean)}). Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN, plus what dnsmasq needs to bind
 * and drop privileges) and the {@code ip}, {@code nft} and {@code dnsmasq} commands. Thread-safe: calls for one instance are serialised by a lock
 * in this driver; VPC bridges and indexes are guarded by file locks, so several drivers may share a state
 * directory. Every call blocks. One daemon thread ({@code pods-net-watch-N}) reads each instance's counter of
 * metadata connections refused over the cap of 64 ({@code ImdsProtocol.MAX_CONNECTIONS}) every 10 s and logs a WARN when it rose
 * ({@link #imdsConnectionsRefused}). {@link #close()} ends it, closes the sockets this driver bound and leaves the
 * networks.
 *
 * @since 0.1
 */
public final class LinuxNetworkDriver implements NetworkDriver {
  private static final Logger LOG = LoggerFactory.getLogger(LinuxNetworkDriver.class);
  private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{0,11}");
  private static final IpPoolSpec INDEX = new IpPoolSpec("link-index", Cidr.parse("0.0.0.0/12"), 32,
      List.of(Cidr.parse("0.0.0.0/32")));
  private static final String CREATING = "creating";
  private static final java.util.concurrent.atomic.AtomicInteger THREADS =
      new java.util.concurrent.atomic.AtomicInteger();
  private static final String READY = "ready";

  private final Path stateDir;
  private final String prefix;
  private final String linkPrefix;
  private final @Nullable String vmNamespace;
  private final @Nullable String tapUser;
  private final String ip;
  private final String nft;
  private final String dnsmasq;
  private final Duration timeout;
  private final boolean jnaNetnsAdd;
  private final boolean netlink;
  private final FileIpAddressPool indexes;
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
  private final Map<String, List<ServerSocket>> sockets = new ConcurrentHashMap<>();
  private final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool(r -> {
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
    this.ip = b.ip;
    this.nft = b.nft;
    this.dnsmasq = b.dnsmasq;
    this.timeout = b.timeout;
    this.netlink = b.netlink;
    try {
      Files.createDirectories(stateDir.resolve("instances"));
      Files.createDirectories(stateDir.resolve("pools"));
      this.jnaNetnsAdd = Netns.runNetnsMounted();
    } catch (IOException e) {
      throw new NetworkException("open network state in " + stateDir + " failed", e);
    }
    this.indexes = FileIpAddressPool.openVolatile(stateDir, INDEX);
    this.imdsWatch = new ImdsRefusalWatch(this::readyInstances, this::imdsConnectionsRefused, IMDS_WATCH_PERIOD);
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
      Record r = readRecord(id);
      if (r != null) {
        checkOwner(r, spec, "create");
        if (r.ready() && Netns.exists(r.names.namespace()) && healthy(r)) {
          if (!r.spec.equals(spec)) {
            return doUpdate(r, spec);
          }
          ensureDnsmasq(r);
          return r.instance();
        }
        LOG.info("network of instance '{}' is incomplete ({}); rebuilding it", id, r.state);
        teardown(id, r, true);
      } else if (Netns.exists(Names.namespace(prefix, id))) {
        String ns = Names.namespace(prefix, id);
        if (!ownerMark(spec.owner()).equals(ownerMarkOf(ns))) {
          // the same prefix and instance id in another state folder (another data folder), or not made by pods
          throw new NetworkException("create network of instance '" + id + "' failed: namespace " + ns
              + " exists and is not " + spec.owner() + "'s; another data folder uses the prefix '" + prefix
              + "': give each its own prefix");
        }
        teardown(id, null);
      }
      return build(spec);
    });
  }

  @Override
  public NetworkInstance update(NetworkSpec spec) {
    Objects.requireNonNull(spec, "spec");
    String id = spec.instanceId();
    return locked(id, "update", () -> {
      Record r = readRecord(id);
      if (r == null || !r.ready() || !Netns.exists(r.names.namespace())) {
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
      teardown(instanceId, readRecord(instanceId));
      return null;
    });
  }

  private NetworkInstance build(NetworkSpec spec) throws Exception {
    String id = spec.instanceId();
    long t0 = System.nanoTime();
    Laps laps = new Laps();
    long index = Cidr.toInt(indexes.allocate("i-" + id).network());
    laps.lap("index");
    NetworkVpc vpc = spec.vpc();
    Path dir = instanceDir(id);
    Files.createDirectories(dir);
    // the VPC's index and this record appear under one lock hold: a concurrent delete of the VPC's last other
    // member then sees this record and keeps the VPC's bridge and index
    Record r = vpc == null ? record(spec, index, -1) : LockFile.with(vpcLock(),
        () -> record(spec, index, Cidr.toInt(indexes.allocate("v-" + vpc.id()).network())));
    Names names = r.names;
    long vpcIndex = r.vpcIndex;
    laps.lap("record");
    String foreign = foreignLink(spec, names);
    if (foreign != null) {
      // nothing is built: only this record goes, never links of that name, which are another driver's
      Files.deleteIfExists(dir.resolve("record.json"));
      AtomicFiles.deleteTree(dir);
      indexes.release("i-" + id);
      throw new NetworkException("create network of instance '" + id + "' failed: link " + foreign
          + " exists and is not this driver's; another data folder uses the link prefix '" + linkPrefix
          + "': give each its own prefix");
    }
    java.util.concurrent.Future<Process> nftDone = null;
    java.util.concurrent.Future<Object> hostDone = null;
    try {
      addNamespace(names.namespace());
      markOwner(names.namespace(), spec.owner());
      laps.lap("netns");
      Path ns = Netns.path(names.namespace());
      // nft matches interfaces by name, so the table can load while the links are being made elsewhere
      // dnsmasq binds the wildcard DHCP socket and serves gw0 by name, so it may start before gw0 exists too
      nftDone = pool.submit(() -> Netns.call(ns, () -> {
        writeSysctls(Programs.sysctlsBeforeLinks());
        Nft.run(Programs.nftTable(spec, names, false), netlink, nft, timeout);
        return startDnsmasq(spec, dir);
      }));
      String vmBatch = Programs.vmSideBatch(names, tapUser);
      if (Objects.equals(vmNamespace, spec.hostNamespace())) {
        // the usual production layout (libvirt and the bridges in one namespace): one command for both sides
        attachToHost(spec, names, vmBatch);
        laps.lap("vm+host-batch");
      } else {
        hostDone = pool.submit(() -> {
          attachToHost(spec, names, "");
          return null;
        });
        inNamespace(vmNs(), () -> ipBatch(vmBatch));
        laps.lap("vm-batch");
        await(hostDone);
      }
      laps.lap("host-batch");
      Netns.call(ns, () -> {
        ipBatch(Programs.instanceBatch(spec));
        writeSysctls(Programs.sysctlsAfterLinks(spec));
        return null;
      });
      laps.lap("ns-batch");
      Process dns = await(nftDone);
      laps.lap("nft+dnsmasq");
      awaitDnsmasq(dns, dir, id);
      laps.lap("dnsmasq-ready");
      markReady(id);
      laps.lap("ready");
      LOG.info("network of instance '{}' created in {} us", id, (System.nanoTime() - t0) / 1000);
      LOG.debug("create '{}' steps (us): {}", id, laps);
      return new Record(spec, names, index, vpcIndex, READY).instance();
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

  private Record record(NetworkSpec spec, long index, long vpcIndex) throws IOException {
    Record r = new Record(spec, Names.of(prefix, linkPrefix, spec.instanceId(), index, vpcIndex), index, vpcIndex,
        CREATING);
    writeRecord(r);
    return r;
  }

  /** Waits for a parallel step, ignoring its outcome; its result, or null. */
  private static <T> @Nullable T settle(java.util.concurrent.@Nullable Future<T> f) {
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
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
          return null;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static <T> T await(java.util.concurrent.Future<T> f) throws Exception {
    try {
      return f.get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof Exception c) {
        throw c;
      }
      throw e;
    }
  }

  private NetworkInstance doUpdate(Record r, NetworkSpec spec) throws Exception {
    String id = spec.instanceId();
    if (!Programs.sameLinks(r.spec, spec)) {
      LOG.info("network of instance '{}' changes its addresses; rebuilding it", id);
      teardown(id, r, true);
      return build(spec);
    }
    Path ns = Netns.path(r.names.namespace());
    if (Programs.onlyDnsHostsDiffer(r.spec, spec)) {
      // the resolver's names alone: no rule changes, dnsmasq re-reads its hosts file (DHCP untouched)
      Record updated = new Record(spec, r.names, r.index, r.vpcIndex, READY);
      writeRecord(updated);
      reloadHosts(updated);
      LOG.debug("network of instance '{}': resolver names updated", id);
      return updated.instance();
    }
    Netns.call(ns, () -> {
      Nft.run(Programs.nftTable(spec, r.names, true), netlink, nft, timeout);
      return null;
    });
    Record updated = new Record(spec, r.names, r.index, r.vpcIndex, READY);
    writeRecord(updated);
    if (!Programs.sameDhcp(r.spec, spec)) {
      stopDnsmasq(r);
      Process p = Netns.call(ns, () -> startDnsmasq(spec, instanceDir(id)));
      awaitDnsmasq(p, instanceDir(id), id);
    } else if (!r.spec.dnsHosts().equals(spec.dnsHosts())) {
      reloadHosts(updated);
    }
    LOG.debug("network of instance '{}' updated", id);
    return updated.instance();
  }

  /** Builds the host-namespace side, after {@code before} (more commands for the same namespace, or empty). */
  private void attachToHost(NetworkSpec spec, Names names, String before) throws Exception {
    Path host = hostNs(spec);
    if (spec.vpc() == null) {
      String batch = before + Programs.hostBatch(spec, names, false);
      if (!batch.isEmpty()) {
        inNamespace(host, () -> ipBatch(batch));
      }
      return;
    }
    LockFile.with(vpcLock(), () -> inNamespace(host, () -> {
      boolean exists = linkExists(Objects.requireNonNull(names.vpcBridge()));
      return ipBatch(before + Programs.hostBatch(spec, names, !exists));
    }));
  }

  /**
   * The members of a VPC other than {@code self} that are not being deleted. The marker is looked at before the
   * record: a deletion removes the record before the marker, so a member seen without marker and then with a
   * record really is still there.
   */
  private List<String> otherMembers(String vpcId, String self) throws IOException {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir.resolve("instances"))) {
      for (Path p : ds) {
        String other = p.getFileName().toString();
        if (other.equals(self) || Files.exists(p.resolve("deleting"))) {
          continue;
        }
        Record o = readRecord(other);
        if (o != null && o.spec.vpc() != null && o.spec.vpc().id().equals(vpcId)) {
          out.add(other);
        }
      }
    }
    return out;
  }

  /**
   * A link this instance's names would take that exists already, or {@code null}: the VM-side bridge and veth and
   * the host-side veths. This driver removes an instance's links before its record, so such a link is another
   * driver's (another state folder with the same link prefix allocated the same index). VPC bridges, shared by the
   * members of a VPC, are not checked.
   */
  private @Nullable String foreignLink(NetworkSpec spec, Names n) throws Exception {
    // not the tap: a running domain's QEMU keeps its tap alive while the network is rebuilt under the same index
    for (String name : List.of(n.bridge(), n.vmVeth())) {
      if (inNamespace(vmNs(), () -> linkExists(name))) {
        return name;
      }
    }
    for (String name : List.of(n.uplinkVeth(), n.vpcVeth())) {
      if (inNamespace(hostNs(spec), () -> linkExists(name))) {
        return name;
      }
    }
    return null;
  }

  /** Whether the namespace still holds the addresses the record says it has (a hand-made change breaks it). */
  private boolean healthy(Record r) throws Exception {
    String json = Netns.call(Netns.path(r.names.namespace()),
        () -> Exec.check(List.of(ip, "-j", "addr", "show"), null, timeout).stdout());
    List<IpJson.Address> have = IpJson.addresses(json);
    boolean ok = have.contains(new IpJson.Address(Names.GW_IF, Cidr.dotted(r.spec.gateway()),
        r.spec.subnet().prefixLength()));
    if (r.spec.uplink() != null) {
      ok &= have.contains(new IpJson.Address(Names.UP_IF, Cidr.dotted(r.spec.uplink().address()),
          r.spec.uplink().prefixLength()));
    }
    if (!ok) {
      LOG.warn("network of instance '{}' lost its addresses ({}); rebuilding it", r.spec.instanceId(), have);
    }
    return ok;
  }

  /** Whether the calling thread's namespace has the link (reads /proc, no command). */
  private static boolean linkExists(String name) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/thread-self/net/dev"))) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().equals(name)) {
        return true;
      }
    }
    return false;
  }

  private static @Nullable Path hostNs(NetworkSpec spec) {
    return spec.hostNamespace() == null ? null : Netns.path(spec.hostNamespace());
  }

  private void teardown(String id, @Nullable Record r) throws Exception {
    teardown(id, r, false);
  }

  /**
   * Removes an instance network. With {@code keepIndex} the instance keeps its link index, so a rebuild that follows
   * gets the same link names (the hypervisor's configuration names the tap); the old links are gone by then.
   */
  private void teardown(String id, @Nullable Record r, boolean keepIndex) throws Exception {
    long t0 = System.nanoTime();
    Laps laps = new Laps();
    closeSockets(id);
    String nsName = r != null ? r.names.namespace() : Names.namespace(prefix, id);
    if (r != null && !Netns.exists(nsName)) {
      // its namespace was deleted by hand: its dnsmasq runs on in the unnamed namespace it keeps alive
      Long orphan = orphanDnsmasq(id);
      if (orphan != null) {
        LOG.warn("network of instance '{}': ending dnsmasq {} left in its deleted namespace", id, orphan);
        Processes.end(List.of(orphan), Duration.ofSeconds(2));
      }
    }
    if (Netns.exists(nsName)) {
      List<Long> pids = Processes.inNamespace(Netns.inode(nsName));
      if (!pids.isEmpty()) {
        Processes.end(pids, Duration.ofSeconds(2));
      }
      laps.lap("processes");
    }
    if (r != null) {
      Names n = r.names;
      boolean sameNs = Objects.equals(vmNamespace, r.spec.hostNamespace());
      if (!sameNs) {
        forceBatch(vmNs(), Programs.groupDelete(n, null));
        laps.lap("vm-links");
      }
      NetworkVpc vpc = r.spec.vpc();
      if (vpc == null) {
        if (r.spec.uplink() != null || sameNs) {
          forceBatch(hostNs(r.spec), Programs.groupDelete(n, null));
        }
      } else {
        LockFile.with(vpcLock(), () -> {
          // members being deleted count as gone: of two concurrent last deletions, the second removes the bridge
          Files.write(instanceDir(id).resolve("deleting"), new byte[0]);
          List<String> others = otherMembers(vpc.id(), id);
          boolean last = others.isEmpty();
          String vpcBridge = Objects.requireNonNull(n.vpcBridge());
          String bridge = last && inNamespace(hostNs(r.spec), () -> linkExists(vpcBridge)) ? vpcBridge : null;
          LOG.debug("delete '{}': other members of VPC '{}': {}, removing bridge {}", id, vpc.id(), others, bridge);
          forceBatch(hostNs(r.spec), Programs.groupDelete(n, bridge));
          if (last) {
            indexes.release("v-" + vpc.id());
          }
          return null;
        });
      }
      laps.lap("host-links");
    } else if (Netns.exists(nsName)) {
      // no record: the outer ends' names are unknown, but deleting the inner ends removes the pairs
      forceBatch(Netns.path(nsName), "link del " + Names.GW_IF + "\nlink del " + Names.UP_IF + "\nlink del "
          + Names.VPC_IF + "\n");
    }
    if (Netns.exists(nsName)) {
      if (jnaNetnsAdd) {
        Netns.delete(nsName);
      } else {
        Exec.check(List.of(ip, "netns", "del", nsName), null, timeout);
      }
      laps.lap("netns");
    }
    // the record goes first: without it the instance no longer counts (a VPC's last-member check reads records)
    Files.deleteIfExists(instanceDir(id).resolve("record.json"));
    AtomicFiles.deleteTree(instanceDir(id));
    if (!keepIndex) {
      indexes.release("i-" + id);
    }
    laps.lap("state");
    LOG.info("network of instance '{}' deleted in {} us", id, (System.nanoTime() - t0) / 1000);
    LOG.debug("delete '{}' steps (us): {}", id, laps);
  }

  // ---------------------------------------------------------------- queries and reaping

  @Override
  public Optional<NetworkInstance> find(String instanceId) {
    Record r = readRecordUnchecked(instanceId);
    if (r == null || !r.ready() || !Netns.exists(r.names.namespace())) {
      return Optional.empty();
    }
    return Optional.of(r.instance());
  }

  @Override
  public List<NetworkInstance> list(String owner) {
    List<NetworkInstance> out = new ArrayList<>();
    for (Record r : readRecordsUnchecked()) {
      if (r.spec.owner().equals(owner) && r.ready() && Netns.exists(r.names.namespace())) {
        out.add(r.instance());
      }
    }
    return out;
  }

  @Override
  public List<String> reap(String owner) {
    List<String> removed = new ArrayList<>();
    for (Record r : readRecordsUnchecked()) {
      if (r.spec.owner().equals(owner)) {
        delete(r.spec.instanceId());
        removed.add(r.spec.instanceId());
      }
    }
    // state directories without a record: a crash between removing the record and the rest of its files
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir.resolve("instances"))) {
      for (Path p : ds) {
        String id = p.getFileName().toString();
        if (!Files.exists(p.resolve("record.json")) && !Netns.exists(Names.namespace(prefix, id))) {
          locked(id, "reap", () -> {
            if (!Files.exists(p.resolve("record.json"))) {
              AtomicFiles.deleteTree(p);
            }
            return null;
          });
        }
      }
    } catch (IOException e) {
      throw new NetworkException("reap networks of '" + owner + "' failed listing " + stateDir, e);
    }
    // namespaces with this driver's prefix but no record here: left by a crash or by hand, or made by another
    // driver with the same prefix and another state folder (another data folder). Only a namespace whose owner
    // mark names this owner is removed; any other is left alone, with a warning.
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(Netns.RUN_NETNS, prefix + "-*")) {
      for (Path p : ds) {
        String id = p.getFileName().toString().substring(prefix.length() + 1);
        if (Files.exists(instanceDir(id).resolve("record.json"))) {
          continue;
        }
        String mark = ownerMarkOf(p.getFileName().toString());
        if (ownerMark(owner).equals(mark)) {
          LOG.warn("removing namespace {} of owner {}, which has no record", p.getFileName(), owner);
          delete(id);
          removed.add(id);
        } else {
          LOG.warn("leaving namespace {} alone: no record in {} and {}", p.getFileName(), stateDir,
              mark == null ? "no owner mark" : "another owner's mark");
        }
      }
    } catch (NoSuchFileException e) {
      // no namespace at all
    } catch (IOException e) {
      throw new NetworkException("reap networks of '" + owner + "' failed listing " + Netns.RUN_NETNS, e);
    }
    return removed;
  }

  // ---------------------------------------------------------------- in-namespace work

  @Override
  public <T> T callInNamespace(String instanceId, NetworkTask<T> task) {
    Path ns = requireNamespace(instanceId, "run task");
    try {
      return Netns.call(ns, task::call);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException("task in namespace of instance '" + instanceId + "' interrupted", e);
    } catch (Exception e) {
      throw new NetworkException("task in namespace of instance '" + instanceId + "' failed: " + e, e);
    }
  }

  @Override
  public ServerSocket bindInHostNamespace(@Nullable String hostNamespace, InetSocketAddress address) {
    Objects.requireNonNull(address, "address");
    if (hostNamespace == null) {
      return NetworkDriver.super.bindInHostNamespace(null, address);
    }
    if (!Netns.exists(hostNamespace)) {
      throw new NetworkException("bind " + address + " in host namespace '" + hostNamespace
          + "' failed: no such namespace");
    }
    try {
      return Netns.call(Netns.path(hostNamespace), () -> listen(address));
    } catch (Exception e) {
      throw new NetworkException("bind " + address + " in host namespace '" + hostNamespace + "' failed: "
          + e.getMessage(), e);
    }
  }

  /** A listening socket bound to {@code address} in the calling thread's namespace (closed again on failure). */
  private static ServerSocket listen(InetSocketAddress address) throws IOException {
    ServerSocket ss = new ServerSocket();
    try {
      ss.setReuseAddress(true);
      ss.bind(address);
      return ss;
    } catch (IOException e) {
      ss.close();
      throw e;
    }
  }

  @Override
  public ServerSocket bindInNamespace(String instanceId, InetSocketAddress address) {
    Objects.requireNonNull(address, "address");
    return locked(instanceId, "bind a socket in", () -> {
      Path ns = requireNamespace(instanceId, "bind " + address);
      ServerSocket s;
      try {
        s = Netns.call(ns, () -> listen(address));
      } catch (IOException e) {
        throw new NetworkException("bind " + address + " in namespace of instance '" + instanceId + "' failed: "
            + e.getMessage(), e);
      }
      sockets.computeIfAbsent(instanceId, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(s);
      return s;
    });
  }

  @Override
  public Socket connectInNamespace(String instanceId, InetSocketAddress address, Duration connectTimeout) {
    Objects.requireNonNull(address, "address");
    Path ns = requireNamespace(instanceId, "connect to " + address);
    try {
      return Netns.call(ns, () -> {
        Socket s = new Socket();
        try {
          s.connect(address, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
          return s;
        } catch (IOException e) {
          s.close();
          throw e;
        }
      });
    } catch (Exception e) {
      throw new NetworkException("connect to " + address + " from namespace of instance '" + instanceId
          + "' failed: " + e.getMessage(), e);
    }
  }

  /**
   * How many connections to its metadata service the instance's guest lost to the cap of 64 open at once
   * ({@code ImdsProtocol.MAX_CONNECTIONS}) (reset by the instance's nftables table, counted there since
   * the table was last loaded). Blocking (reads the counter inside the namespace); thread-safe.
   *
   * @throws NetworkException when the instance has no network or the counter cannot be read
   */
  public long imdsConnectionsRefused(String instanceId) {
    Path ns = requireNamespace(instanceId, "read the refused metadata connections");
    Record r = readRecordUnchecked(instanceId);
    String table = r != null ? r.names.table() : Names.table(prefix);
    try {
      return ImdsRefusals.parse(Netns.call(ns, () -> Nft.output(
          "list counter ip " + table + " " + Programs.IMDS_REFUSED_COUNTER, netlink, nft, timeout)));
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
    for (Record r : readRecordsUnchecked()) {
      if (!closed && r.ready() && Netns.exists(r.names.namespace())) {
        out.add(r.spec.instanceId());
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
    for (String id : List.copyOf(sockets.keySet())) {
      closeSockets(id);
    }
  }

  // ---------------------------------------------------------------- helpers

  private Path requireNamespace(String instanceId, String what) {
    if (closed) {
      throw new IllegalStateException("network driver is closed");
    }
    Record r = readRecordUnchecked(instanceId);
    if (r == null || !r.ready() || !Netns.exists(r.names.namespace())) {
      throw new NetworkException(what + " in namespace of instance '" + instanceId + "' failed: no such network");
    }
    return Netns.path(r.names.namespace());
  }

  private void addNamespace(String name) throws IOException {
    if (jnaNetnsAdd) {
      Netns.add(name);
    } else {
      Exec.check(List.of(ip, "netns", "add", name), null, timeout);
    }
  }

  /**
   * Marks a namespace with its owner: the alias of its loopback link is {@link #ownerMark(String)}, which
   * {@link #reap} reads to tell a record-less namespace of this owner from one of another driver's.
   */
  private void markOwner(String namespace, String owner) throws IOException {
    Exec.check(List.of(ip, "-n", namespace, "link", "set", "dev", "lo", "alias", ownerMark(owner)), null, timeout);
  }

  /** The owner mark of {@code owner}: {@code pods-owner:} and the SHA-256 of the label (a link alias is short). */
  static String ownerMark(String owner) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(owner.getBytes(StandardCharsets.UTF_8));
      return "pods-owner:" + java.util.HexFormat.of().formatHex(d);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The owner mark of a namespace (the alias of its loopback link), or {@code null} when it has none. */
  private @Nullable String ownerMarkOf(String namespace) throws IOException {
    Exec.Result r = Exec.run(List.of(ip, "-n", namespace, "-j", "link", "show", "dev", "lo"), null, timeout);
    if (r.exitCode() != 0) {
      return null;
    }
    return IpJson.linkAlias(r.stdout());
  }

  private static void writeSysctls(List<String[]> settings) throws IOException {
    for (String[] kv : settings) {
      Files.writeString(Path.of("/proc/sys").resolve(kv[0]), kv[1]);
    }
  }

  /**
   * Runs an ip program in the calling thread's namespace with {@code ip -batch}. An in-process rtnetlink
   * interpreter of the same programs (515 lines of JNA) was removed: NetworkBenchmark, four alternating runs of
   * each build on the loaded 2-core machine, put a full instance network create at a median of 27.8 ms with it and
   * 35.6 ms without (1.28x; single runs spread from 22 to 41 ms), delete at 72.9 and 74.1 ms (1.02x): a few
   * milliseconds against a guest boot of seconds.
   */
  private Object ipBatch(String batch) throws IOException {
    return Exec.check(List.of(ip, "-batch", "-"), batch, timeout);
  }

  private @Nullable Path vmNs() {
    return vmNamespace == null ? null : Netns.path(vmNamespace);
  }

  /** Runs a deletion batch, tolerating objects that are already gone. */
  private void forceBatch(@Nullable Path ns, String batch) throws Exception {
    inNamespace(ns, () -> {
      Exec.Result res = Exec.run(List.of(ip, "-force", "-batch", "-"), batch, timeout);
      if (!res.ok()) {
        for (String line : res.stderr().split("\n")) {
          if (line.isBlank() || line.startsWith("Command failed") || line.contains("Cannot find device")
              || line.contains("No such device")) {
            continue;
          }
          throw new IOException(res.describe());
        }
      }
      return null;
    });
  }

  private static <T> T inNamespace(@Nullable Path ns, java.util.concurrent.Callable<T> work) throws Exception {
    return Netns.call(ns, work);
  }

  /** Rewrites the resolver's hosts file (atomically) and has dnsmasq re-read it; starts dnsmasq when it is gone. */
  private void reloadHosts(Record r) throws Exception {
    writeHosts(r.spec, instanceDir(r.spec.instanceId()));
    Long pid = dnsmasqPid(r);
    if (pid == null) {
      ensureDnsmasq(r);
    } else {
      Processes.hangUp(pid);
    }
  }

  private static void writeHosts(NetworkSpec spec, Path dir) throws IOException {
    if (spec.resolver()) {
      AtomicFiles.write(dir.resolve(Programs.HOSTS_FILE),
          Programs.hostsFile(spec).getBytes(StandardCharsets.UTF_8), false);
    }
  }

  private Process startDnsmasq(NetworkSpec spec, Path dir) throws IOException {
    writeHosts(spec, dir);
    Files.deleteIfExists(dir.resolve("dnsmasq.pid"));
    return new ProcessBuilder(Programs.dnsmasq(dnsmasq, spec, dir))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("dnsmasq.out").toFile()))
        .start();
  }

  /** Waits until dnsmasq has written its pid file (it is then bound), failing if it exits first. */
  private void awaitDnsmasq(Process p, Path dir, String id) throws IOException, InterruptedException {
    Path pid = dir.resolve("dnsmasq.pid");
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!Files.exists(pid)) {
      if (!p.isAlive()) {
        String out = Files.exists(dir.resolve("dnsmasq.out"))
            ? Files.readString(dir.resolve("dnsmasq.out"), StandardCharsets.UTF_8).strip() : "";
        throw new IOException("dnsmasq for instance '" + id + "' exited " + p.exitValue() + ": " + out);
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("dnsmasq for instance '" + id + "' did not start within " + timeout);
      }
      Thread.sleep(1);
    }
  }

  private @Nullable Long dnsmasqPid(Record r) {
    try {
      String text = Files.readString(instanceDir(r.spec.instanceId()).resolve("dnsmasq.pid")).strip();
      long pid = Long.parseLong(text);
      return Processes.aliveIn(pid, Netns.inode(r.names.namespace())) ? pid : null;
    } catch (IOException | NumberFormatException e) {
      return null;
    }
  }

  /** The pid of the instance's dnsmasq by its pid file, when that process is alive and is that dnsmasq. */
  private @Nullable Long orphanDnsmasq(String id) {
    Path pidFile = instanceDir(id).resolve("dnsmasq.pid");
    try {
      long pid = Long.parseLong(Files.readString(pidFile).strip());
      String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
      return cmdline.contains("--pid-file=" + pidFile) ? pid : null;
    } catch (IOException | NumberFormatException e) {
      return null;
    }
  }

  private void ensureDnsmasq(Record r) throws Exception {
    if (dnsmasqPid(r) == null) {
      LOG.warn("dnsmasq of instance '{}' is not running; starting it again", r.spec.instanceId());
      Path dir = instanceDir(r.spec.instanceId());
      Process p = Netns.call(Netns.path(r.names.namespace()), () -> startDnsmasq(r.spec, dir));
      awaitDnsmasq(p, dir, r.spec.instanceId());
    }
  }

  private void stopDnsmasq(Record r) throws InterruptedException {
    Long pid = dnsmasqPid(r);
    if (pid != null) {
      Processes.end(List.of(pid), Duration.ofSeconds(2));
    }
  }

  private void closeSockets(String id) {
    List<ServerSocket> mine = sockets.remove(id);
    if (mine != null) {
      for (ServerSocket s : mine) {
        try {
          s.close();
        } catch (IOException e) {
          LOG.debug("closing a socket of instance '{}' failed", id, e);
        }
      }
    }
  }

  private Path instanceDir(String id) {
    return stateDir.resolve("instances").resolve(id);
  }

  private Path vpcLock() {
    return stateDir.resolve("vpc.lock");
  }

  private static void checkOwner(Record r, NetworkSpec spec, String op) {
    if (!r.spec.owner().equals(spec.owner())) {
      throw new NetworkException(op + " network of instance '" + spec.instanceId() + "' failed: it belongs to '"
          + r.spec.owner() + "', not '" + spec.owner() + "'");
    }
  }

  /** Work under an instance's lock. */
  @FunctionalInterface
  private interface Locked<T> {
    T run() throws Exception;
  }

  private <T> T locked(String id, String op, Locked<T> work) {
    if (closed) {
      throw new IllegalStateException("network driver is closed");
    }
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

  // ---------------------------------------------------------------- records

  /** What the state directory knows of one instance network. */
  private static final class Record {
    final NetworkSpec spec;
    final Names names;
    final long index;
    final long vpcIndex;
    final String state;

    Record(NetworkSpec spec, Names names, long index, long vpcIndex, String state) {
      this.spec = spec;
      this.names = names;
      this.index = index;
      this.vpcIndex = vpcIndex;
      this.state = state;
    }

    boolean ready() {
      return READY.equals(state);
    }

    NetworkInstance instance() {
      return new NetworkInstance(spec, names.namespace(), names.bridge(), names.tap());
    }
  }

  /**
   * Marks a record complete. The marker is not fsynced: if a crash loses it, the network merely counts as
   * incomplete and is rebuilt.
   */
  private void markReady(String id) throws IOException {
    Files.write(instanceDir(id).resolve("ready"), new byte[0]);
  }

  private void writeRecord(Record r) throws IOException {
    ObjectNode o = SpecJson.JSON.createObjectNode();
    o.put("index", r.index);
    o.put("vpcIndex", r.vpcIndex);
    o.set("spec", SpecJson.write(r.spec));
    // atomic, not fsynced: a record describes namespaces and links, which a reboot removes anyway
    AtomicFiles.write(instanceDir(r.spec.instanceId()).resolve("record.json"),
        SpecJson.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o), false);
  }

  private @Nullable Record readRecord(String id) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(instanceDir(id).resolve("record.json"));
    } catch (NoSuchFileException e) {
      return null;
    }
    JsonNode o = SpecJson.JSON.readTree(bytes);
    NetworkSpec spec = SpecJson.read(o.path("spec"));
    long index = o.path("index").asLong();
    long vpcIndex = o.path("vpcIndex").asLong(-1);
    return new Record(spec, Names.of(prefix, linkPrefix, id, index, vpcIndex), index, vpcIndex,
        Files.exists(instanceDir(id).resolve("ready")) ? READY : CREATING);
  }

  private @Nullable Record readRecordUnchecked(String id) {
    try {
      return readRecord(id);
    } catch (IOException | IllegalArgumentException e) {
      throw new NetworkException("read network record of instance '" + id + "' failed", e);
    }
  }

  private List<Record> readRecords() throws IOException {
    List<Record> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir.resolve("instances"))) {
      for (Path p : ds) {
        Record r = readRecord(p.getFileName().toString());
        if (r != null) {
          out.add(r);
        }
      }
    }
    return out;
  }

  private List<Record> readRecordsUnchecked() {
    try {
      return readRecords();
    } catch (IOException | IllegalArgumentException e) {
      throw new NetworkException("read network records in " + stateDir + " failed", e);
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
