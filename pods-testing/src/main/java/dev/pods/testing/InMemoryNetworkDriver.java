package dev.pods.testing;

import dev.pods.NetworkException;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkProtocol;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkTask;
import dev.pods.spi.NetworkVpc;
import dev.pods.spi.VpcFabric;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A {@link NetworkDriver} that only remembers: no namespace, link or process is created. Sockets "inside" an
 * instance are real loopback sockets on ephemeral ports; the driver maps each instance's requested address to
 * them, so {@link #connectInNamespace} to an address bound with {@link #bindInNamespace} in the same instance reaches
 * it and any other address is refused, which mimics one namespace per instance. Tasks run on the caller's thread.
 *
 * <p>Firewalls are kept and enforced by {@link #admits}, which answers as the Linux driver filters: so a host
 * application's fast tests see what its firewall rules would let through.
 *
 * <p>Made on an {@link Underlay} ({@link #InMemoryNetworkDriver(Underlay, Inet4Address)}), the driver has a
 * {@link VpcFabric}: {@link #vpcReaches} answers whether an instance reaches another, on this driver or on a peer,
 * as the Linux driver's VXLAN fabric decides, and {@link #dhcpMtu} what MTU its DHCP hands out.
 *
 * <p>Fault knobs: {@link #failNext(Operation)} makes the next call of that operation throw a
 * {@link NetworkException} without changing anything; {@link #breakBehindItsBack} breaks a part of a network as a
 * hand or a crash would on a real host, which {@link #probe} then reports and {@link #create} mends. Thread-safe: state is guarded by the driver's monitor, and no
 * blocking I/O happens while holding it except closing sockets.
 */
public final class InMemoryNetworkDriver implements NetworkDriver {

  /** Operations whose next call can be made to fail. */
  public enum Operation {
    /** {@link NetworkDriver#create}. */
    CREATE,
    /** {@link NetworkDriver#update}. */
    UPDATE,
    /** {@link NetworkDriver#delete}. */
    DELETE
  }

  private final Map<String, NetworkInstance> networks = new HashMap<>();
  private final Map<String, Map<InetSocketAddress, ServerSocket>> sockets = new HashMap<>();
  private final Map<String, IpAddressPool> pools = new HashMap<>();
  /** Sockets bound "in a host namespace", by namespace ("" for the JVM's) and requested address. */
  private final Map<String, Map<InetSocketAddress, ServerSocket>> hostSockets = new HashMap<>();
  private final Map<Operation, Integer> failures = new EnumMap<>(Operation.class);
  /** Parts broken behind the driver's back, by instance. */
  private final Map<String, java.util.Set<Part>> broken = new HashMap<>();
  /** The VPCs whose fabric side was broken behind the driver's back ({@link Part#FABRIC}), by id. */
  private final java.util.Set<String> brokenFabric = new java.util.HashSet<>();
  private boolean closed;

  private int devices;

  /** Parts of a network that {@link #breakBehindItsBack} can break. */
  public enum Part {
    /**
     * The namespace, deleted by hand: the network is no longer {@linkplain #find found} or {@linkplain #list listed},
     * tasks, binds and connections in it fail, and sockets bound in it stay open but unreachable (as in the
     * namespace the kernel keeps alive for them); {@link #create} builds it again with the same names and closes
     * them.
     */
    NAMESPACE,
    /**
     * The DHCP server (and resolver), killed: {@link #create} with the network's spec starts it again, and so does an
     * {@link #update} that reaches it (a change of anything but the firewall and the kept-back ports).
     */
    DHCP_SERVER,
    /**
     * The fabric side of the instance's VPC on this driver (on Linux its VXLAN link, or that link's forwarding
     * entries, bridge port or the fabric's guard), shared by the VPC's members here: each of them probes broken, and
     * their VPC no longer reaches the peers' instances ({@link #vpcReaches}) while it still does on this driver;
     * {@link #create} with the spec of any member mends it for all. Only for an instance of a VPC on a driver with a
     * fabric.
     */
    FABRIC
  }

  private final @Nullable Underlay underlay;
  private final @Nullable Inet4Address underlayAddress;
  private java.util.Set<Inet4Address> peers = java.util.Set.of();

  /** An empty driver without a fabric: its VPCs stay on this "host". */
  public InMemoryNetworkDriver() {
    this.underlay = null;
    this.underlayAddress = null;
  }

  /**
   * An empty driver whose VPCs join the same VPCs of the other drivers on {@code underlay} through a
   * {@link VpcFabric} ({@link #fabric()}), as the Linux driver's VXLAN fabric does: see {@link #vpcReaches}.
   *
   * @param underlay the network joining the "hosts"
   * @param address this host's address on it
   * @throws IllegalArgumentException when another driver holds that address
   */
  public InMemoryNetworkDriver(Underlay underlay, Inet4Address address) {
    this.underlay = Objects.requireNonNull(underlay, "underlay");
    this.underlayAddress = Objects.requireNonNull(address, "address");
    underlay.attach(address, this);
  }

  /**
   * The network joining in-memory "hosts" (a datacenter's switch): the drivers attached to it by their addresses, and
   * the MTU of its links. Thread-safe.
   */
  public static final class Underlay {
    private final int mtu;
    private final Map<Inet4Address, InMemoryNetworkDriver> hosts = new java.util.concurrent.ConcurrentHashMap<>();

    /** An underlay whose links have MTU 1500. */
    public Underlay() {
      this(1500);
    }

    /** An underlay whose links have MTU {@code mtu} (at least 68 + {@link VpcFabric#OVERHEAD}). */
    public Underlay(int mtu) {
      if (mtu < 68 + VpcFabric.OVERHEAD) {
        throw new IllegalArgumentException("underlay MTU must be at least " + (68 + VpcFabric.OVERHEAD) + ": " + mtu);
      }
      this.mtu = mtu;
    }

    /** The MTU of the underlay's links. */
    public int mtu() {
      return mtu;
    }

    private void attach(Inet4Address address, InMemoryNetworkDriver driver) {
      if (hosts.putIfAbsent(address, driver) != null) {
        throw new IllegalArgumentException("underlay address " + address.getHostAddress() + " is taken");
      }
    }

    private @Nullable InMemoryNetworkDriver host(Inet4Address address) {
      return hosts.get(address);
    }
  }

  /**
   * The fabric, when this driver was made on an {@link Underlay}: its MTU is the underlay's minus
   * {@link VpcFabric#OVERHEAD}, its peers start empty.
   */
  @Override
  public Optional<VpcFabric> fabric() {
    if (underlay == null || underlayAddress == null) {
      return Optional.empty();
    }
    Inet4Address self = underlayAddress;
    int mtu = underlay.mtu() - VpcFabric.OVERHEAD;
    return Optional.of(new VpcFabric() {
      @Override
      public Inet4Address underlay() {
        return self;
      }

      @Override
      public int mtu() {
        return mtu;
      }

      @Override
      public java.util.Set<Inet4Address> peers() {
        synchronized (InMemoryNetworkDriver.this) {
          return peers;
        }
      }

      @Override
      public void peers(java.util.Set<Inet4Address> value) {
        java.util.Set<Inet4Address> copy = java.util.Set.copyOf(value);
        if (copy.contains(self)) {
          throw new IllegalArgumentException("peer " + self.getHostAddress() + " is this host's own underlay address");
        }
        synchronized (InMemoryNetworkDriver.this) {
          checkOpen();
          peers = copy;
        }
      }
    });
  }

  /**
   * The MTU the instance's DHCP server hands its VM: the fabric's for an instance of a VPC on a driver with a
   * fabric, and none otherwise (the VM keeps its own), as the Linux driver's dnsmasq does.
   *
   * @throws NetworkException when the instance has no network
   */
  public synchronized java.util.OptionalInt dhcpMtu(String instanceId) {
    NetworkInstance n = namespaceGone(instanceId) ? null : networks.get(instanceId);
    if (n == null) {
      throw new NetworkException("DHCP of instance '" + instanceId + "' failed: no such network");
    }
    return n.spec().vpc() != null && underlay != null
        ? java.util.OptionalInt.of(underlay.mtu() - VpcFabric.OVERHEAD) : java.util.OptionalInt.empty();
  }

  /**
   * Whether a connection opened by the VM of instance {@code fromId} of this driver to the private address of
   * instance {@code toId} of driver {@code to} (this one, or another "host") gets through over their VPC, and its
   * replies back, as on Linux: both networks exist and are in VPCs of one id; on one driver that is all the path
   * needs, across drivers both have fabrics on one {@link Underlay} and each lists the other's address among its
   * peers (a host that dropped the other sends it nothing, not even replies); then the target's firewall decides, as
   * {@link #admits} answers for the source's private address.
   *
   * @throws NetworkException when either instance has no network
   */
  public boolean vpcReaches(String fromId, InMemoryNetworkDriver to, String toId, NetworkProtocol protocol,
      int port) {
    Objects.requireNonNull(to, "to");
    NetworkInstance from;
    java.util.Set<Inet4Address> myPeers;
    synchronized (this) {
      from = namespaceGone(fromId) ? null : networks.get(fromId);
      myPeers = peers;
    }
    if (from == null) {
      throw new NetworkException("connect from instance '" + fromId + "' failed: no such network");
    }
    NetworkInstance target;
    java.util.Set<Inet4Address> theirPeers;
    synchronized (to) {
      target = to.namespaceGone(toId) ? null : to.networks.get(toId);
      theirPeers = to.peers;
    }
    if (target == null) {
      throw new NetworkException("connect to instance '" + toId + "' failed: no such network");
    }
    if (from.spec().vpc() == null || target.spec().vpc() == null
        || !from.spec().vpc().id().equals(target.spec().vpc().id())) {
      return false;
    }
    if (to != this) {
      if (underlay == null || underlay != to.underlay || !myPeers.contains(to.underlayAddress)
          || !theirPeers.contains(underlayAddress) || underlay.host(to.underlayAddress) != to
          || fabricBroken(from.spec().vpc().id()) || to.fabricBroken(target.spec().vpc().id())) {
        return false;
      }
    }
    return to.admits(toId, from.spec().privateAddress(), protocol, port);
  }

  /** Makes the next call of {@code op} throw a {@link NetworkException}. */
  public synchronized void failNext(Operation op) {
    failures.merge(op, 1, Integer::sum);
  }

  /**
   * Breaks {@code part} of the instance's network as it could break behind a real driver's back; {@link #probe}
   * names it until {@link #create} mends it.
   *
   * @throws NetworkException when the instance has no network
   */
  public synchronized void breakBehindItsBack(String instanceId, Part part) {
    Objects.requireNonNull(part, "part");
    if (!networks.containsKey(instanceId)) {
      throw new NetworkException("break " + part + " of instance '" + instanceId + "' failed: no such network");
    }
    if (part == Part.FABRIC) {
      NetworkVpc vpc = networks.get(instanceId).spec().vpc();
      if (vpc == null || underlay == null) {
        throw new IllegalArgumentException("break FABRIC of instance '" + instanceId + "': "
            + (vpc == null ? "it is in no VPC" : "this driver has no fabric"));
      }
      brokenFabric.add(vpc.id());
      return;
    }
    broken.computeIfAbsent(instanceId, k -> java.util.EnumSet.noneOf(Part.class)).add(part);
  }

  /**
   * What is broken, as the Linux driver words it: an absent network, a deleted namespace, a dead DHCP server, the
   * fabric side of its VPC. Reads only this driver's memory.
   */
  @Override
  public synchronized List<String> probe(String instanceId) {
    Objects.requireNonNull(instanceId, "instanceId");
    checkOpen();
    NetworkInstance n = networks.get(instanceId);
    if (n == null) {
      return List.of("instance '" + instanceId + "' has no network");
    }
    java.util.Set<Part> parts = broken.getOrDefault(instanceId, java.util.Set.of());
    if (parts.contains(Part.NAMESPACE)) {
      return List.of("namespace " + n.namespace() + " is gone");
    }
    List<String> out = new java.util.ArrayList<>();
    if (parts.contains(Part.DHCP_SERVER)) {
      out.add("its DHCP server is not running");
    }
    NetworkVpc vpc = n.spec().vpc();
    if (vpc != null && brokenFabric.contains(vpc.id())) {
      out.add("the VXLAN link of VPC '" + vpc.id() + "' is gone");
    }
    return out;
  }

  private synchronized boolean fabricBroken(String vpcId) {
    return brokenFabric.contains(vpcId);
  }

  private boolean namespaceGone(String instanceId) {
    return broken.getOrDefault(instanceId, java.util.Set.of()).contains(Part.NAMESPACE);
  }

  /** Whether a change from {@code a} to {@code b} reaches the DHCP server: anything but the firewall and kept-back ports. */
  private static boolean reachesDhcpServer(NetworkSpec a, NetworkSpec b) {
    return a.resolver() != b.resolver() || !a.mac().equals(b.mac()) || !a.hostname().equals(b.hostname())
        || !a.dnsServers().equals(b.dnsServers()) || !a.searchDomains().equals(b.searchDomains())
        || !a.subnet().equals(b.subnet()) || !a.privateAddress().equals(b.privateAddress())
        || !a.gateway().equals(b.gateway()) || !Objects.equals(a.vpc(), b.vpc())
        || !Objects.equals(a.hostNamespace(), b.hostNamespace()) || !Objects.equals(a.uplink(), b.uplink())
        || !a.dnsHosts().equals(b.dnsHosts());
  }

  private void maybeFail(Operation op, String id) {
    Integer n = failures.get(op);
    if (n != null && n > 0) {
      failures.put(op, n - 1);
      throw new NetworkException(op.name().toLowerCase(java.util.Locale.ROOT) + " network of instance '" + id
          + "' failed: injected failure");
    }
  }

  @Override
  public synchronized NetworkInstance create(NetworkSpec spec) {
    Objects.requireNonNull(spec, "spec");
    checkOpen();
    maybeFail(Operation.CREATE, spec.instanceId());
    NetworkInstance have = networks.get(spec.instanceId());
    String id = spec.instanceId();
    if (have != null) {
      checkOwner(have, spec, "create");
    }
    if (spec.vpc() != null) {
      brokenFabric.remove(spec.vpc().id()); // mended for every member, as the Linux driver's create does
    }
    if (have != null) {
      java.util.Set<Part> parts = broken.remove(id);
      if (parts != null && parts.contains(Part.NAMESPACE)) {
        // built again under the same names (the hypervisor's configuration names the tap); the old sockets went
        closeSockets(sockets.remove(id));
        NetworkInstance n = new NetworkInstance(spec, have.namespace(), have.vmBridge(), have.tap());
        networks.put(id, n);
        return n;
      }
      if (have.spec().equals(spec)) {
        return have;
      }
    }
    // device names as short as Linux wants them (15 characters), so that domain specs accept them
    int k = ++devices;
    NetworkInstance n = new NetworkInstance(spec, "mem-" + id, "membr" + k, "memtap" + k);
    networks.put(id, n);
    return n;
  }

  @Override
  public synchronized NetworkInstance update(NetworkSpec spec) {
    Objects.requireNonNull(spec, "spec");
    checkOpen();
    maybeFail(Operation.UPDATE, spec.instanceId());
    NetworkInstance have = networks.get(spec.instanceId());
    if (have == null || namespaceGone(spec.instanceId())) {
      throw new NetworkException("update network of instance '" + spec.instanceId() + "' failed: no such network");
    }
    checkOwner(have, spec, "update");
    if (reachesDhcpServer(have.spec(), spec)) {
      // as the Linux driver restarts (or signals) its dnsmasq for such a change, starting a dead one again
      java.util.Set<Part> parts = broken.get(spec.instanceId());
      if (parts != null) {
        parts.remove(Part.DHCP_SERVER);
      }
    }
    NetworkInstance n = new NetworkInstance(spec, have.namespace(), have.vmBridge(), have.tap());
    networks.put(spec.instanceId(), n);
    return n;
  }

  @Override
  public synchronized void delete(String instanceId) {
    checkOpen();
    maybeFail(Operation.DELETE, instanceId);
    NetworkInstance gone = networks.remove(instanceId);
    broken.remove(instanceId);
    NetworkVpc vpc = gone == null ? null : gone.spec().vpc();
    if (vpc != null && networks.values().stream().noneMatch(n -> vpc.equals(n.spec().vpc()))) {
      brokenFabric.remove(vpc.id()); // its last member here: the VPC's links go with it, as on Linux
    }
    closeSockets(sockets.remove(instanceId));
  }

  /**
   * What the instance's resolver answers for {@code name} (an A query from its VM): the addresses of the spec's
   * {@link NetworkSpec#dnsHosts()} entry of that name (case-insensitive, a trailing dot ignored), or an empty list
   * (the real resolver then forwards the query upstream). Without {@link NetworkSpec#resolver()} the VM has no
   * resolver in its namespace: an error, as a query to the gateway goes unanswered.
   *
   * @throws NetworkException when the instance has no network or no resolver, or its resolver (the DHCP server) or
   *     namespace is broken ({@link #breakBehindItsBack})
   */
  public synchronized List<java.net.Inet4Address> resolve(String instanceId, String name) {
    NetworkInstance n = networks.get(instanceId);
    if (n == null) {
      throw new NetworkException("resolve " + name + " in instance '" + instanceId + "' failed: no such network");
    }
    if (!n.spec().resolver()) {
      throw new NetworkException("resolve " + name + " in instance '" + instanceId
          + "' failed: its network has no resolver");
    }
    if (!broken.getOrDefault(instanceId, java.util.Set.of()).isEmpty()) {
      throw new NetworkException("resolve " + name + " in instance '" + instanceId + "' failed: "
          + probe(instanceId).get(0));
    }
    String q = name.toLowerCase(java.util.Locale.ROOT);
    String fqdn = q.endsWith(".") ? q.substring(0, q.length() - 1) : q;
    return n.spec().dnsHosts().stream().filter(h -> h.name().equals(fqdn)).findFirst()
        .map(dev.pods.spi.DnsHost::addresses).orElse(List.of());
  }

  @Override
  public synchronized Optional<NetworkInstance> find(String instanceId) {
    return namespaceGone(instanceId) ? Optional.empty() : Optional.ofNullable(networks.get(instanceId));
  }

  @Override
  public synchronized List<NetworkInstance> list(String owner) {
    return networks.values().stream().filter(n -> n.spec().owner().equals(owner) && !namespaceGone(n.instanceId()))
        .toList();
  }

  @Override
  public synchronized List<String> reap(String owner) {
    List<String> ids = new ArrayList<>();
    // records of broken networks too, as the Linux driver reaps by its records
    for (NetworkInstance n : List.copyOf(networks.values())) {
      if (!n.spec().owner().equals(owner)) {
        continue;
      }
      delete(n.instanceId());
      ids.add(n.instanceId());
    }
    return ids;
  }

  @Override
  public <T> T callInNamespace(String instanceId, NetworkTask<T> task) {
    require(instanceId, "run task in namespace");
    try {
      return task.call();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException("task in namespace of instance '" + instanceId + "' interrupted", e);
    } catch (Exception e) {
      throw new NetworkException("task in namespace of instance '" + instanceId + "' failed: " + e, e);
    }
  }

  @Override
  public synchronized ServerSocket bindInNamespace(String instanceId, InetSocketAddress address) {
    require(instanceId, "bind " + address);
    return standIn(sockets.computeIfAbsent(instanceId, k -> new HashMap<>()), address,
        "namespace of instance '" + instanceId + "'");
  }

  /**
   * Binds a loopback socket on an ephemeral port standing for {@code address} in {@code bound} (one namespace's
   * sockets), refusing an address whose earlier stand-in is still open, as the kernel would.
   */
  private static ServerSocket standIn(Map<InetSocketAddress, ServerSocket> bound, InetSocketAddress address,
      String where) {
    ServerSocket old = bound.get(address);
    if (old != null && !old.isClosed()) {
      throw new NetworkException("bind " + address + " in " + where + " failed: address already in use");
    }
    try {
      ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      bound.put(address, s);
      return s;
    } catch (IOException e) {
      throw new NetworkException("bind " + address + " in " + where + " failed", e);
    }
  }

  /**
   * Binds a real loopback socket on an ephemeral port that stands for {@code address} in the host namespace;
   * {@link #hostListener} says where it is. The caller owns it.
   *
   * @throws NetworkException when a socket bound for that namespace and address is still open
   */
  @Override
  public synchronized ServerSocket bindInHostNamespace(@Nullable String hostNamespace, InetSocketAddress address) {
    Objects.requireNonNull(address, "address");
    checkOpen();
    return standIn(hostSockets.computeIfAbsent(hostNamespace == null ? "" : hostNamespace, k -> new HashMap<>()),
        address, "host namespace '" + hostNamespace + "'");
  }

  /**
   * Where the open socket bound by {@link #bindInHostNamespace} for {@code address} listens: a loopback address a
   * test connects to as a client in that host namespace would connect to {@code address}.
   *
   * @throws NetworkException when no open socket was bound for that namespace and address
   */
  public synchronized InetSocketAddress hostListener(@Nullable String hostNamespace, InetSocketAddress address) {
    ServerSocket s = hostSockets.getOrDefault(hostNamespace == null ? "" : hostNamespace, Map.of()).get(address);
    if (s == null || s.isClosed()) {
      throw new NetworkException("connect to " + address + " in host namespace '" + hostNamespace
          + "' failed: connection refused");
    }
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
  }

  @Override
  public Socket connectInNamespace(String instanceId, InetSocketAddress address, Duration timeout) {
    ServerSocket target;
    synchronized (this) {
      require(instanceId, "connect to " + address);
      target = sockets.getOrDefault(instanceId, Map.of()).get(address);
    }
    if (target == null || target.isClosed()) {
      throw new NetworkException("connect to " + address + " from namespace of instance '" + instanceId
          + "' failed: connection refused");
    }
    Socket s = new Socket();
    try {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.getLocalPort()),
          (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
      return s;
    } catch (IOException e) {
      try {
        s.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new NetworkException("connect to " + address + " from namespace of instance '" + instanceId
          + "' failed", e);
    }
  }

  /**
   * Whether the instance's firewall admits an inbound packet from {@code source} of {@code protocol} to {@code port}
   * of its VM, on any path from outside the instance (its public address, its VPC), as the Linux driver decides for
   * every packet that does not answer the instance's own traffic: the packet that opens a connection, and every
   * later one of a connection opened from outside (so a rule that stops admitting it cuts it). An open firewall
   * admits everything; an enforced one what some rule admits: same protocol ({@link NetworkProtocol#ALL} matches
   * every protocol), port in the rule's range (TCP and UDP), source in one of the rule's networks. Replies to the
   * instance's own connections, DHCP and the metadata service always pass and are not asked about here.
   *
   * @param protocol {@link NetworkProtocol#TCP}, {@link NetworkProtocol#UDP} or {@link NetworkProtocol#ICMP}
   * @param port the destination port, 1..65535; ignored for ICMP
   * @throws NetworkException when the instance has no network
   * @throws IllegalArgumentException for {@link NetworkProtocol#ALL} (no packet has it) or a port out of range
   */
  public synchronized boolean admits(String instanceId, Inet4Address source, NetworkProtocol protocol, int port) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(protocol, "protocol");
    if (protocol == NetworkProtocol.ALL) {
      throw new IllegalArgumentException("a packet is TCP, UDP or ICMP, not ALL");
    }
    if (protocol != NetworkProtocol.ICMP && (port < 1 || port > 65535)) {
      throw new IllegalArgumentException("port must be 1..65535, not " + port);
    }
    NetworkInstance n = namespaceGone(instanceId) ? null : networks.get(instanceId);
    if (n == null) {
      throw new NetworkException("firewall check for instance '" + instanceId + "' failed: no such network");
    }
    NetworkFirewall fw = n.spec().firewall();
    if (!fw.enforced()) {
      return true;
    }
    for (FirewallRuleSpec r : fw.ingress()) {
      boolean proto = r.protocol() == NetworkProtocol.ALL || r.protocol() == protocol;
      boolean ports = protocol == NetworkProtocol.ICMP || r.allPorts()
          || (port >= r.fromPort() && port <= r.toPort());
      if (proto && ports && r.sources().stream().anyMatch(c -> c.contains(source))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public synchronized IpAddressPool pool(IpPoolSpec spec) {
    IpAddressPool p = pools.computeIfAbsent(spec.name(), k -> new InMemoryIpAddressPool(spec));
    if (!p.spec().equals(spec)) {
      throw new NetworkException("pool '" + spec.name() + "' exists with another spec: " + p.spec());
    }
    return p;
  }

  @Override
  public synchronized void close() {
    closed = true;
    sockets.values().forEach(InMemoryNetworkDriver::closeSockets);
    sockets.clear();
    hostSockets.values().forEach(InMemoryNetworkDriver::closeSockets);
    hostSockets.clear();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("network driver is closed");
    }
  }

  private synchronized void require(String instanceId, String what) {
    checkOpen();
    if (!networks.containsKey(instanceId) || namespaceGone(instanceId)) {
      throw new NetworkException(what + " for instance '" + instanceId + "' failed: no such network");
    }
  }

  private static void checkOwner(NetworkInstance have, NetworkSpec spec, String op) {
    if (!have.spec().owner().equals(spec.owner())) {
      throw new NetworkException(op + " network of instance '" + spec.instanceId() + "' failed: it belongs to '"
          + have.spec().owner() + "', not '" + spec.owner() + "'");
    }
  }

  private static void closeSockets(@Nullable Map<InetSocketAddress, ServerSocket> mine) {
    if (mine == null) {
      return;
    }
    for (ServerSocket s : mine.values()) {
      try {
        s.close();
      } catch (IOException e) {
        // closing a listening loopback socket only fails if it is already closed
      }
    }
  }
}
