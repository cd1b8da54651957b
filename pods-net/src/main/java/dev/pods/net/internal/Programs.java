package dev.pods.net.internal;

import dev.pods.spi.Cidr;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The programs that build an instance network: {@code ip -batch} scripts for each namespace, the nftables table
 * and dnsmasq's command line. Pure functions of the spec and the names (unit-tested as text); they run elsewhere.
 */
public final class Programs {
  /** The metadata service address, held by every instance namespace. */
  public static final String IMDS = "169.254.169.254";

  /**
   * The most TCP connections a guest may hold open to its metadata service at once (the same number as
   * {@code dev.pods.imds.ImdsProtocol.MAX_CONNECTIONS}): the next one gets a TCP reset from the instance's nftables
   * table and counts in its counter {@value #IMDS_REFUSED_COUNTER}, which the driver reads every 10 s to log a rise
   * ({@link ImdsRefusals}).
   */
  public static final int IMDS_MAX_CONNECTIONS = 64;

  /** The named counter of the instance's table that counts connections refused by {@link #IMDS_MAX_CONNECTIONS}. */
  public static final String IMDS_REFUSED_COUNTER = "imds_refused";

  private Programs() {}

  /**
   * The VM-namespace batch: the bridge, the persistent tap on it, and the veth whose peer becomes the gateway
   * interface of the instance namespace, all in the instance's link group. IPv6 address generation is off on all
   * three, so the VM's segment has no link-local path into the VM namespace.
   *
   * @param tapUser owner of the tap (for an unprivileged hypervisor), or null
   */
  public static String vmSideBatch(Names n, @Nullable String tapUser) {
    long g = n.group();
    List<String> l = new ArrayList<>();
    l.add("link add " + n.bridge() + " group " + g + " type bridge");
    l.add("link set " + n.bridge() + " addrgenmode none");
    l.add("tuntap add dev " + n.tap() + " mode tap" + (tapUser == null ? "" : " user " + tapUser));
    l.add("link set " + n.tap() + " group " + g + " addrgenmode none master " + n.bridge());
    l.add("link add " + n.vmVeth() + " group " + g + " type veth peer name " + Names.GW_IF + " address "
        + n.gwMac() + " netns " + n.namespace());
    l.add("link set " + n.vmVeth() + " addrgenmode none master " + n.bridge());
    l.add("link set " + n.tap() + " up");
    l.add("link set " + n.vmVeth() + " up");
    l.add("link set " + n.bridge() + " up");
    return String.join("\n", l) + "\n";
  }

  /**
   * The host-namespace batch: the uplink and VPC veths (their inner ends go straight into the instance namespace),
   * onto their bridges, in the instance's link group; creates the VPC bridge first when {@code createVpcBridge}.
   */
  public static String hostBatch(NetworkSpec s, Names n, boolean createVpcBridge) {
    return hostBatch(s, n, createVpcBridge, 0);
  }

  /**
   * {@link #hostBatch(NetworkSpec, Names, boolean)} with the VPC side's links (a new VPC bridge, the VPC veth and its
   * inner end {@code vpc0}) at MTU {@code vpcMtu}; 0 leaves the kernel's default.
   */
  public static String hostBatch(NetworkSpec s, Names n, boolean createVpcBridge, int vpcMtu) {
    String mtu = vpcMtu > 0 ? " mtu " + vpcMtu : "";
    long g = n.group();
    List<String> l = new ArrayList<>();
    NetworkUplink up = s.uplink();
    if (up != null) {
      l.add("link add " + n.uplinkVeth() + " group " + g + " type veth peer name " + Names.UP_IF + " address "
          + n.upMac() + " netns " + n.namespace());
      l.add("link set " + n.uplinkVeth() + " addrgenmode none master " + up.bridge());
      l.add("link set " + n.uplinkVeth() + " up");
    }
    if (s.vpc() != null && n.vpcBridge() != null) {
      if (createVpcBridge) {
        l.add("link add " + n.vpcBridge() + mtu + " type bridge");
        l.add("link set " + n.vpcBridge() + " addrgenmode none");
        l.add("link set " + n.vpcBridge() + " up");
      }
      l.add("link add " + n.vpcVeth() + " group " + g + mtu + " type veth peer name " + Names.VPC_IF + mtu
          + " address " + n.vpcMac() + " netns " + n.namespace());
      l.add("link set " + n.vpcVeth() + " addrgenmode none master " + n.vpcBridge());
      l.add("link set " + n.vpcVeth() + " up");
    }
    return l.isEmpty() ? "" : String.join("\n", l) + "\n";
  }

  /**
   * The teardown batch of the instance's links in the VM or host namespace: one group deletion (deleting a veth end
   * removes its peer in the instance namespace too). With {@code vpcBridge}, that unused VPC bridge joins the group
   * first and goes with it.
   */
  public static String groupDelete(Names n, @Nullable String vpcBridge) {
    return groupDeleteWith(n, vpcBridge == null ? List.of() : List.of(vpcBridge));
  }

  /** The same, with the unused VPC links {@code vpcLinks} (its bridge, its VXLAN link) joining the group first. */
  public static String groupDeleteWith(Names n, List<String> vpcLinks) {
    StringBuilder b = new StringBuilder();
    for (String link : vpcLinks) {
      b.append("link set ").append(link).append(" group ").append(n.group()).append('\n');
    }
    return b.append("link del group ").append(n.group()).append('\n').toString();
  }

  /**
   * The instance-namespace batch, run once the veths exist: loopback, the gateway and IMDS addresses, the public
   * address and default route, the VPC route.
   */
  public static String instanceBatch(NetworkSpec s) {
    List<String> l = new ArrayList<>();
    l.add("link set lo up");
    l.add("addr add " + Cidr.dotted(s.gateway()) + "/" + s.subnet().prefixLength() + " dev " + Names.GW_IF);
    l.add("addr add " + IMDS + "/32 dev " + Names.GW_IF);
    l.add("link set " + Names.GW_IF + " up");
    NetworkUplink up = s.uplink();
    if (up != null) {
      l.add("addr add " + Cidr.dotted(up.address()) + "/" + up.prefixLength() + " dev " + Names.UP_IF);
      l.add("link set " + Names.UP_IF + " up");
      l.add("route add default via " + Cidr.dotted(up.gateway()) + " dev " + Names.UP_IF);
    }
    NetworkVpc vpc = s.vpc();
    if (vpc != null) {
      l.add("link set " + Names.VPC_IF + " up");
      l.add("route add " + vpc.cidr() + " dev " + Names.VPC_IF);
    }
    return String.join("\n", l) + "\n";
  }

  /**
   * The sysctl settings of the instance namespace, as {@code /proc/sys} paths and values, written before its links
   * exist (forwarding on, IPv6 off).
   */
  public static List<String[]> sysctlsBeforeLinks() {
    return List.of(
        new String[] {"net/ipv4/ip_forward", "1"},
        new String[] {"net/ipv6/conf/all/disable_ipv6", "1"},
        new String[] {"net/ipv6/conf/default/disable_ipv6", "1"});
  }

  /**
   * The sysctl settings that need the links: proxy ARP on the VPC interface, so VPC peers find this instance's VM
   * address on the VPC segment and route it here (the routed VPC needs no per-peer routes); and a quick check of a
   * peer's address that stopped answering: a peer that moved to another host (same address, a new namespace whose
   * {@code vpc0} has another MAC) is asked for again 2.5-7.5 s after it last answered (the kernel's default: 15-45
   * s), by broadcast after one second and one unanswered unicast probe (the kernel's: five seconds and three unicast
   * probes, after which it is only asked for again on a later use).
   */
  public static List<String[]> sysctlsAfterLinks(NetworkSpec s) {
    if (s.vpc() == null) {
      return List.of();
    }
    String neigh = "net/ipv4/neigh/" + Names.VPC_IF + "/";
    return List.of(new String[] {"net/ipv4/conf/" + Names.VPC_IF + "/proxy_arp", "1"},
        new String[] {neigh + "proxy_delay", "0"},
        new String[] {neigh + "base_reachable_time_ms", "5000"},
        new String[] {neigh + "delay_first_probe_time", "1"},
        new String[] {neigh + "ucast_solicit", "1"},
        new String[] {neigh + "mcast_resolicit", "3"});
  }

  /**
   * The nftables program for the instance namespace. Forwarded packets that answer a connection (conntrack's reply
   * direction, or related ICMP errors) pass; the VM's own traffic leaves; every other packet towards the VM, from
   * its public address or its VPC, goes through the firewall chain, the first packet of a connection and every
   * later one alike. With {@code replace} it atomically replaces an existing table
   * (create-if-missing, delete, re-add, all in one transaction); without, it adds the table to a fresh namespace.
   */
  public static String nftTable(NetworkSpec s, Names n, boolean replace) {
    String t = n.table();
    String priv = Cidr.dotted(s.privateAddress());
    String gw = q(Names.GW_IF);
    String up = q(Names.UP_IF);
    String vpcIf = q(Names.VPC_IF);
    NetworkUplink uplink = s.uplink();
    NetworkVpc vpc = s.vpc();
    String kept = s.keptBackPorts().stream().distinct().sorted().map(String::valueOf)
        .collect(Collectors.joining(", "));
    StringBuilder b = new StringBuilder();
    if (replace) {
      b.append("table ip ").append(t).append(" {}\n");
      b.append("delete table ip ").append(t).append('\n');
    }
    b.append("table ip ").append(t).append(" {\n");
    b.append("  counter ").append(IMDS_REFUSED_COUNTER).append(" {\n  }\n");
    if (uplink != null) {
      String pub = Cidr.dotted(uplink.address());
      b.append("  chain prerouting {\n");
      b.append("    type nat hook prerouting priority dstnat; policy accept;\n");
      if (!kept.isEmpty()) {
        b.append("    iifname ").append(up).append(" ip daddr ").append(pub)
            .append(" meta l4proto { tcp, udp } th dport { ").append(kept).append(" } return\n");
      }
      b.append("    iifname ").append(up).append(" ip daddr ").append(pub).append(" dnat to ").append(priv)
          .append('\n');
      b.append("  }\n");
      b.append("  chain postrouting {\n");
      b.append("    type nat hook postrouting priority srcnat; policy accept;\n");
      b.append("    oifname ").append(up).append(" ip saddr ").append(priv).append(" snat to ").append(pub)
          .append('\n');
      b.append("  }\n");
    }
    b.append("  chain firewall {\n");
    for (FirewallRuleSpec r : s.firewall().ingress()) {
      b.append("    ").append(rule(r)).append('\n');
    }
    b.append("    ").append(s.firewall().enforced() ? "drop" : "accept").append('\n');
    b.append("  }\n");
    b.append("  chain forward {\n");
    b.append("    type filter hook forward priority filter; policy drop;\n");
    b.append("    ip daddr 169.254.0.0/16 drop\n");
    b.append("    ip saddr 169.254.0.0/16 drop\n");
    b.append("    ct state invalid drop\n");
    // replies (and ICMP errors) pass; every packet of the original direction is judged again, so a connection
    // opened from outside is cut as soon as the firewall stops admitting it (no conntrack flush needed)
    b.append("    ct direction reply accept\n");
    b.append("    ct state related accept\n");
    if (uplink != null) {
      b.append("    iifname ").append(gw).append(" oifname ").append(up).append(" ip saddr ").append(priv)
          .append(" accept\n");
      b.append("    iifname ").append(up).append(" oifname ").append(gw).append(" ip daddr ").append(priv)
          .append(" ct status dnat jump firewall\n");
    }
    if (vpc != null) {
      b.append("    iifname ").append(gw).append(" oifname ").append(vpcIf).append(" ip saddr ").append(priv)
          .append(" ip daddr ").append(vpc.cidr()).append(" accept\n");
      b.append("    iifname ").append(vpcIf).append(" oifname ").append(gw).append(" ip saddr ").append(vpc.cidr())
          .append(" ip daddr ").append(priv).append(" jump firewall\n");
    }
    b.append("  }\n");
    b.append("  chain input {\n");
    b.append("    type filter hook input priority filter; policy drop;\n");
    b.append("    iifname \"lo\" accept\n");
    b.append("    ct state established,related accept\n");
    b.append("    iifname ").append(gw).append(" udp dport 67 accept\n");
    // the guest's connections to its metadata service are capped here, in the kernel, where the guest cannot
    // pass the cap and it costs the JVM nothing (the JDK's HTTP server has no per-server limit, and an idle
    // keep-alive connection holds a socket however few requests are in flight); the excess gets a reset, counted
    b.append("    iifname ").append(gw).append(" ip daddr ").append(IMDS).append(" tcp dport 80 ct count over ")
        .append(IMDS_MAX_CONNECTIONS).append(" counter name ").append(IMDS_REFUSED_COUNTER)
        .append(" reject with tcp reset\n");
    b.append("    iifname ").append(gw).append(" ip daddr ").append(IMDS).append(" tcp dport 80 accept\n");
    b.append("    iifname ").append(gw).append(" icmp type echo-request accept\n");
    if (s.resolver()) {
      b.append("    iifname ").append(gw).append(" ip daddr ").append(Cidr.dotted(s.gateway()))
          .append(" meta l4proto { tcp, udp } th dport 53 accept\n");
    }
    if (uplink != null && !kept.isEmpty()) {
      b.append("    iifname ").append(up).append(" ip daddr ").append(Cidr.dotted(uplink.address()))
          .append(" meta l4proto { tcp, udp } th dport { ").append(kept).append(" } accept\n");
    }
    b.append("  }\n");
    b.append("}\n");
    return b.toString();
  }

  private static String rule(FirewallRuleSpec r) {
    String src = "ip saddr { " + r.sources().stream().map(Cidr::toString).collect(Collectors.joining(", ")) + " }";
    String ports = r.fromPort() == r.toPort() ? String.valueOf(r.fromPort()) : r.fromPort() + "-" + r.toPort();
    return switch (r.protocol()) {
      case ALL -> src + " accept";
      case ICMP -> "meta l4proto icmp " + src + " accept";
      case TCP -> (r.allPorts() ? "meta l4proto tcp " : "tcp dport " + ports + " ") + src + " accept";
      case UDP -> (r.allPorts() ? "meta l4proto udp " : "udp dport " + ports + " ") + src + " accept";
    };
  }

  private static String q(String ifname) {
    return "\"" + ifname + "\"";
  }

  /** The name of the hosts file (in the instance's state folder) whose names the resolver answers. */
  public static final String HOSTS_FILE = "hosts";

  /**
   * dnsmasq's command line: in the foreground, serving the gateway interface, handing the fixed address to the VM's
   * MAC with the router, DNS servers and search domains; lease and log files in {@code dir}. Without
   * {@link NetworkSpec#resolver()} DHCP only (its DNS is off) and the DNS servers are handed to the VM; with it,
   * DHCP hands out the gateway as DNS server, and dnsmasq answers the names of {@link #HOSTS_FILE} in {@code dir}
   * (TTL 0; re-read on SIGHUP) and forwards other queries to the spec's DNS servers.
   */
  public static List<String> dnsmasq(String executable, NetworkSpec s, Path dir) {
    return dnsmasq(executable, s, dir, 0);
  }

  /** The same, handing the VM the interface MTU {@code mtu} (DHCP option 26) when it is above 0. */
  public static List<String> dnsmasq(String executable, NetworkSpec s, Path dir, int mtu) {
    List<String> a = new ArrayList<>();
    String priv = Cidr.dotted(s.privateAddress());
    a.add(executable);
    a.add("--keep-in-foreground");
    a.add("--conf-file=/dev/null");
    a.add("--no-resolv");
    a.add("--no-hosts");
    a.add("--no-poll");
    if (s.resolver()) {
      a.add("--addn-hosts=" + dir.resolve(HOSTS_FILE));
      a.add("--local-ttl=0");
      for (var server : s.dnsServers()) {
        a.add("--server=" + Cidr.dotted(server));
      }
    } else {
      a.add("--port=0");
    }
    // no --bind-interfaces: the wildcard DHCP socket lets dnsmasq start before gw0 exists (the namespace has no
    // other interface a request could come from but lo, which is excluded)
    a.add("--interface=" + Names.GW_IF);
    a.add("--except-interface=lo");
    a.add("--dhcp-authoritative");
    a.add("--dhcp-range=" + priv + ",static," + s.subnet().netmask() + ",infinite");
    a.add("--dhcp-host=" + s.mac() + "," + priv + "," + s.hostname() + ",infinite");
    a.add("--dhcp-option=option:router," + Cidr.dotted(s.gateway()));
    if (s.resolver()) {
      a.add("--dhcp-option=option:dns-server," + Cidr.dotted(s.gateway()));
    } else if (!s.dnsServers().isEmpty()) {
      a.add("--dhcp-option=option:dns-server,"
          + s.dnsServers().stream().map(Cidr::dotted).collect(Collectors.joining(",")));
    }
    if (!s.searchDomains().isEmpty()) {
      a.add("--dhcp-option=option:domain-name," + s.searchDomains().get(0));
      a.add("--dhcp-option=option:domain-search," + String.join(",", s.searchDomains()));
    }
    if (mtu > 0) {
      a.add("--dhcp-option=option:mtu," + mtu);
    }
    a.add("--dhcp-leasefile=" + dir.resolve("leases"));
    a.add("--pid-file=" + dir.resolve("dnsmasq.pid"));
    a.add("--log-dhcp");
    a.add("--log-facility=" + dir.resolve("dnsmasq.log"));
    return a;
  }

  /** Whether two specs differ only in what {@link #nftTable} and dnsmasq cover (no link or address change). */
  public static boolean sameLinks(NetworkSpec a, NetworkSpec b) {
    return a.subnet().equals(b.subnet()) && a.privateAddress().equals(b.privateAddress())
        && a.gateway().equals(b.gateway()) && java.util.Objects.equals(a.vpc(), b.vpc())
        && java.util.Objects.equals(a.hostNamespace(), b.hostNamespace())
        && java.util.Objects.equals(a.uplink(), b.uplink());
  }

  /**
   * The hosts file of the resolver: one {@code address name} line per address of each of the spec's
   * {@link NetworkSpec#dnsHosts()}.
   */
  public static String hostsFile(NetworkSpec s) {
    StringBuilder b = new StringBuilder();
    for (var h : s.dnsHosts()) {
      for (var a : h.addresses()) {
        b.append(Cidr.dotted(a)).append(' ').append(h.name()).append('\n');
      }
    }
    return b.toString();
  }

  /** Whether two specs differ in nothing but the names the resolver answers. */
  public static boolean onlyDnsHostsDiffer(NetworkSpec a, NetworkSpec b) {
    return !a.dnsHosts().equals(b.dnsHosts()) && a.equals(b.withDnsHosts(a.dnsHosts()));
  }

  /** Whether two specs give dnsmasq the same configuration (the hosts file apart: it is re-read on SIGHUP). */
  public static boolean sameDhcp(NetworkSpec a, NetworkSpec b) {
    return a.resolver() == b.resolver() && a.mac().equals(b.mac()) && a.hostname().equals(b.hostname()) && a.dnsServers().equals(b.dnsServers())
        && a.searchDomains().equals(b.searchDomains()) && sameLinks(a, b);
  }
}
