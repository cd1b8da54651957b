package dev.pods.spi;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Everything a {@link NetworkDriver} needs to build one instance's network, in networking terms only (the runtime
 * maps pods, units and template references onto it). Immutable value, validated on construction: every problem is
 * an {@link IllegalArgumentException} naming the field.
 *
 * <p>The VM sits alone in {@code subnet} (a /30 or a little larger) with {@code privateAddress}; the instance's
 * namespace holds {@code gateway} and hands the VM its address, {@code dnsServers} and {@code searchDomains} by DHCP
 * (matched by {@code mac}). With an {@code uplink}, the public address is NATed 1:1 to the private one for every port
 * and protocol except {@code keptBackPorts} (TCP and UDP), which stay in the namespace (for a console proxy, say),
 * and the VM's outbound traffic leaves with the public address. With a {@code vpc}, members reach each other by
 * private address. {@code firewall} filters every inbound path.
 *
 * <p>With {@code resolver}, the namespace's dnsmasq is also the VM's DNS server: DHCP hands out {@code gateway}
 * instead of {@code dnsServers}, dnsmasq answers the names of {@code dnsHosts} itself (TTL 0) and forwards every
 * other query to {@code dnsServers} (none: it refuses them). A change of {@code dnsHosts} alone reaches the
 * resolver without restarting it (DHCP leases and the VM's address are untouched).
 *
 * @param instanceId the instance's identity and the base of its namespace name (lower-case letters, digits and
 *     '-', 1..40 characters)
 * @param owner the owner label (for example {@code dev.pods/session=<uuid>}); {@link NetworkDriver#list(String)}
 *     and reaping select by it
 * @param hostname the host name given by DHCP
 * @param mac the VM's MAC address, lower case {@code xx:xx:xx:xx:xx:xx}, unicast
 * @param subnet the VM's subnet, prefix length at most 30
 * @param privateAddress the VM's address in {@code subnet}
 * @param gateway the gateway address in {@code subnet}, held by the instance's namespace
 * @param dnsServers DNS servers handed out by DHCP (may be empty)
 * @param searchDomains DNS search domains handed out by DHCP (option 119; may be empty)
 * @param vpc the VPC, or null for none; {@code subnet} lies inside its range
 * @param hostNamespace the named network namespace that holds the uplink and VPC bridges, or null for the
 *     namespace of the JVM
 * @param uplink the public side, or null for an instance without public address (and without outbound traffic
 *     beyond its VPC)
 * @param keptBackPorts ports of the public address that are not forwarded to the VM (TCP and UDP, 1..65535)
 * @param firewall the ingress firewall
 * @param resolver whether the namespace's dnsmasq serves DNS to the VM on {@code gateway}:53
 * @param dnsHosts the names the resolver answers itself (only with {@code resolver}; distinct names)
 * @since 0.1
 */
public record NetworkSpec(
    String instanceId,
    String owner,
    String hostname,
    String mac,
    Cidr subnet,
    Inet4Address privateAddress,
    Inet4Address gateway,
    List<Inet4Address> dnsServers,
    List<String> searchDomains,
    @Nullable NetworkVpc vpc,
    @Nullable String hostNamespace,
    @Nullable NetworkUplink uplink,
    List<Integer> keptBackPorts,
    NetworkFirewall firewall,
    boolean resolver,
    List<DnsHost> dnsHosts) {

  private static final Pattern ID = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?");
  private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(?::[0-9a-f]{2}){5}");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?");
  private static final Pattern NS = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  /** Validates every field and copies the lists. */
  public NetworkSpec {
    checkId(instanceId, "instanceId");
    Objects.requireNonNull(owner, "owner");
    if (owner.isBlank() || owner.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new IllegalArgumentException("owner must be non-blank printable text, got '" + owner + "'");
    }
    if (!LABEL.matcher(hostname).matches()) {
      throw new IllegalArgumentException("hostname must be a DNS label, got '" + hostname + "'");
    }
    mac = mac.toLowerCase(Locale.ROOT);
    if (!MAC.matcher(mac).matches() || (Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0) {
      throw new IllegalArgumentException("mac must be a unicast xx:xx:xx:xx:xx:xx, got '" + mac + "'");
    }
    Objects.requireNonNull(subnet, "subnet");
    if (subnet.prefixLength() > 30) {
      throw new IllegalArgumentException("subnet must be /30 or larger, got " + subnet);
    }
    checkHost(subnet, privateAddress, "privateAddress");
    checkHost(subnet, gateway, "gateway");
    if (privateAddress.equals(gateway)) {
      throw new IllegalArgumentException("privateAddress and gateway are both " + Cidr.dotted(gateway));
    }
    dnsServers = List.copyOf(dnsServers);
    searchDomains = List.copyOf(searchDomains);
    for (String d : searchDomains) {
      if (d.length() > 253 || !d.chars().allMatch(c -> c == '.' || c == '-' || Character.isLetterOrDigit(c))
          || d.startsWith(".") || d.endsWith(".") || d.contains("..")) {
        throw new IllegalArgumentException("bad search domain '" + d + "'");
      }
    }
    if (vpc != null && !vpc.cidr().contains(subnet)) {
      throw new IllegalArgumentException("subnet " + subnet + " is outside the VPC range " + vpc.cidr());
    }
    if (hostNamespace != null && !NS.matcher(hostNamespace).matches()) {
      throw new IllegalArgumentException("bad hostNamespace '" + hostNamespace + "'");
    }
    keptBackPorts = List.copyOf(keptBackPorts);
    for (int p : keptBackPorts) {
      if (p < 1 || p > 65535) {
        throw new IllegalArgumentException("kept-back port out of range: " + p);
      }
    }
    if (!keptBackPorts.isEmpty() && uplink == null) {
      throw new IllegalArgumentException("keptBackPorts need an uplink");
    }
    Objects.requireNonNull(firewall, "firewall");
    dnsHosts = List.copyOf(dnsHosts);
    if (!dnsHosts.isEmpty() && !resolver) {
      throw new IllegalArgumentException("dnsHosts need the resolver");
    }
    if (dnsHosts.stream().map(DnsHost::name).distinct().count() != dnsHosts.size()) {
      throw new IllegalArgumentException("dnsHosts name a host twice: " + dnsHosts);
    }
  }

  /** A builder with no field set; {@code gateway} and {@code privateAddress} default to the subnet's first two. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this spec's values, to derive a changed copy. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.instanceId = instanceId;
    b.owner = owner;
    b.hostname = hostname;
    b.mac = mac;
    b.subnet = subnet;
    b.privateAddress = privateAddress;
    b.gateway = gateway;
    b.dnsServers.addAll(dnsServers);
    b.searchDomains.addAll(searchDomains);
    b.vpc = vpc;
    b.hostNamespace = hostNamespace;
    b.uplink = uplink;
    b.keptBackPorts.addAll(keptBackPorts);
    b.firewall = firewall;
    b.resolver = resolver;
    b.dnsHosts.addAll(dnsHosts);
    return b;
  }

  /** The same spec with other names for the resolver to answer. */
  public NetworkSpec withDnsHosts(List<DnsHost> hosts) {
    return toBuilder().dnsHosts(hosts).build();
  }

  /** The same spec with another firewall. */
  public NetworkSpec withFirewall(NetworkFirewall newFirewall) {
    return toBuilder().firewall(newFirewall).build();
  }

  static void checkId(@Nullable String id, String what) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          what + " must be 1..40 lower-case letters, digits or '-' (not at the ends), got '" + id + "'");
    }
  }

  private static void checkHost(Cidr subnet, @Nullable Inet4Address a, String what) {
    Objects.requireNonNull(a, what);
    if (!subnet.contains(a)) {
      throw new IllegalArgumentException(what + " " + Cidr.dotted(a) + " is outside " + subnet);
    }
    if (a.equals(subnet.network()) || a.equals(subnet.address(subnet.size() - 1))) {
      throw new IllegalArgumentException(what + " " + Cidr.dotted(a) + " is the network or broadcast address");
    }
  }

  /**
   * Builds a {@link NetworkSpec}. Not thread-safe. Single-valued setters may be called again (the last call wins);
   * list setters add.
   */
  public static final class Builder {
    private @Nullable String instanceId;
    private @Nullable String owner;
    private @Nullable String hostname;
    private @Nullable String mac;
    private @Nullable Cidr subnet;
    private @Nullable Inet4Address privateAddress;
    private @Nullable Inet4Address gateway;
    private final List<Inet4Address> dnsServers = new ArrayList<>();
    private final List<String> searchDomains = new ArrayList<>();
    private @Nullable NetworkVpc vpc;
    private @Nullable String hostNamespace;
    private @Nullable NetworkUplink uplink;
    private final List<Integer> keptBackPorts = new ArrayList<>();
    private NetworkFirewall firewall = NetworkFirewall.open();
    private boolean resolver;
    private final List<DnsHost> dnsHosts = new ArrayList<>();

    private Builder() {}

    /** @see NetworkSpec#instanceId() */
    public Builder instanceId(String value) {
      instanceId = value;
      return this;
    }

    /** @see NetworkSpec#owner() */
    public Builder owner(String value) {
      owner = value;
      return this;
    }

    /** @see NetworkSpec#hostname() ; defaults to the instance id */
    public Builder hostname(String value) {
      hostname = value;
      return this;
    }

    /** @see NetworkSpec#mac() */
    public Builder mac(String value) {
      mac = value;
      return this;
    }

    /** @see NetworkSpec#subnet() */
    public Builder subnet(Cidr value) {
      subnet = value;
      return this;
    }

    /** @see NetworkSpec#privateAddress() ; defaults to the subnet's second address */
    public Builder privateAddress(Inet4Address value) {
      privateAddress = value;
      return this;
    }

    /** @see NetworkSpec#gateway() ; defaults to the subnet's first address */
    public Builder gateway(Inet4Address value) {
      gateway = value;
      return this;
    }

    /** Adds DNS servers. */
    public Builder dnsServer(Inet4Address... values) {
      dnsServers.addAll(List.of(values));
      return this;
    }

    /** Adds search domains. */
    public Builder searchDomain(String... values) {
      searchDomains.addAll(List.of(values));
      return this;
    }

    /** @see NetworkSpec#vpc() */
    public Builder vpc(@Nullable NetworkVpc value) {
      vpc = value;
      return this;
    }

    /** @see NetworkSpec#hostNamespace() */
    public Builder hostNamespace(@Nullable String value) {
      hostNamespace = value;
      return this;
    }

    /** @see NetworkSpec#uplink() */
    public Builder uplink(@Nullable NetworkUplink value) {
      uplink = value;
      return this;
    }

    /** Adds kept-back ports. */
    public Builder keptBackPort(int... ports) {
      for (int p : ports) {
        keptBackPorts.add(p);
      }
      return this;
    }

    /** @see NetworkSpec#firewall() */
    public Builder firewall(NetworkFirewall value) {
      firewall = Objects.requireNonNull(value, "firewall");
      return this;
    }

    /** @see NetworkSpec#resolver() ; off by default */
    public Builder resolver(boolean value) {
      resolver = value;
      return this;
    }

    /** Replaces the names the resolver answers itself. */
    public Builder dnsHosts(List<DnsHost> values) {
      dnsHosts.clear();
      dnsHosts.addAll(values);
      return this;
    }

    /**
     * Builds the spec.
     *
     * @throws IllegalArgumentException naming the first invalid or missing field
     */
    public NetworkSpec build() {
      if (instanceId == null || owner == null || mac == null || subnet == null) {
        throw new IllegalArgumentException("instanceId, owner, mac and subnet are required");
      }
      Inet4Address gw = gateway != null ? gateway : subnet.address(1);
      Inet4Address ip = privateAddress != null ? privateAddress : subnet.address(2);
      return new NetworkSpec(instanceId, owner, hostname != null ? hostname : instanceId, mac, subnet, ip, gw,
          dnsServers, searchDomains, vpc, hostNamespace, uplink, keptBackPorts, firewall, resolver, dnsHosts);
    }
  }
}
