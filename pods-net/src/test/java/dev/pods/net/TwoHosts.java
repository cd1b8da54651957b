package dev.pods.net;

import dev.pods.net.internal.Exec;
import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Two simulated hosts of one test run, joined by a "datacenter": host A is the run's host namespace, host B a namespace
 * {@code <prefix>x-hostb}, the datacenter {@code <prefix>x-dc} with a bridge {@code dc0} that holds one veth to each
 * host, whose ends carry the hosts' underlay addresses {@value #UNDERLAY_A} and {@value #UNDERLAY_B} ({@code eth1}).
 * Each host has its own Linux driver with a fabric (its own state folder, prefix and link prefix; no peers yet).
 * {@link #remove()} closes the drivers and removes the two namespaces; the run's {@link NetTestEnv} removes the rest.
 */
final class TwoHosts {
  static final String UNDERLAY_A = "10.250.0.1";
  static final String UNDERLAY_B = "10.250.0.2";

  final NetTestEnv env;
  final String hostB;
  final String dc;
  final LinuxNetworkDriver a;
  final LinuxNetworkDriver b;

  TwoHosts(NetTestEnv env) throws Exception {
    this.env = env;
    hostB = env.prefix + "x-hostb";
    dc = env.prefix + "x-dc";
    Exec.check(List.of("ip", "netns", "add", hostB), null, Duration.ofSeconds(10));
    Exec.check(List.of("ip", "netns", "add", dc), null, Duration.ofSeconds(10));
    NetTestEnv.ipIn(dc, "link set lo up\nlink add dc0 type bridge\nlink set dc0 up\n"
        + "link add ha type veth peer name eth1 netns " + env.hostNs + "\n"
        + "link add hb type veth peer name eth1 netns " + hostB + "\n"
        + "link set ha master dc0 up\nlink set hb master dc0 up\n");
    NetTestEnv.ipIn(env.hostNs, "addr add " + UNDERLAY_A + "/24 dev eth1\nlink set eth1 up\n");
    NetTestEnv.ipIn(hostB, "link set lo up\naddr add " + UNDERLAY_B + "/24 dev eth1\nlink set eth1 up\n");
    a = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("host-a")).prefix(env.prefix)
        .vmNamespace(env.hostNs).fabric(env.hostNs, Cidr.parseAddress(UNDERLAY_A), Set.of()).build();
    b = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("host-b")).prefix(env.prefix + "b")
        .linkPrefix(NetTestEnv.secondLinkPrefix(env.prefix)).vmNamespace(hostB)
        .fabric(hostB, Cidr.parseAddress(UNDERLAY_B), Set.of()).build();
  }

  /** A driver on host A's state and fabric settings, as a restarted host application would build it. */
  LinuxNetworkDriver againA(Set<java.net.Inet4Address> peers) {
    return LinuxNetworkDriver.builder().stateDir(env.dir.resolve("host-a")).prefix(env.prefix)
        .vmNamespace(env.hostNs).fabric(env.hostNs, Cidr.parseAddress(UNDERLAY_A), peers).build();
  }

  /** The host namespace of a driver of this pair. */
  String hostNs(LinuxNetworkDriver host) {
    return host == a ? env.hostNs : hostB;
  }

  /** Closes both drivers (networks stay: reap them first) and removes host B and the datacenter. */
  void remove() throws Exception {
    a.close();
    b.close();
    if (Netns.exists(dc)) {
      // the veths first (their ends in the hosts go with them): namespace removal is asynchronous
      Netns.call(Netns.path(dc), () -> Exec.run(List.of("ip", "-force", "-batch", "-"), "link del ha\nlink del hb\n",
          Duration.ofSeconds(10)));
      Exec.check(List.of("ip", "netns", "del", dc), null, Duration.ofSeconds(10));
    }
    if (Netns.exists(hostB)) {
      Exec.check(List.of("ip", "netns", "del", hostB), null, Duration.ofSeconds(10));
    }
  }
}
