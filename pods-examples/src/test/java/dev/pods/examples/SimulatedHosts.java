package dev.pods.examples;

import static dev.pods.examples.HostTools.check;
import static dev.pods.examples.HostTools.deleteTree;
import static dev.pods.examples.HostTools.namespaces;
import static dev.pods.examples.HostTools.processesMentioning;
import static dev.pods.examples.HostTools.removeNamespace;
import static dev.pods.examples.HostTools.rootLinks;
import static dev.pods.examples.HostTools.run;
import static dev.pods.examples.HostTools.step;

import dev.pods.etcd.EtcdCluster;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.spi.DomainInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Several simulated hosts of one test run on this machine, the environment of the cluster's system tests: host
 * namespaces {@code <prefix>h1..<prefix>hN}, each with an uplink bridge {@value #UPLINK} (its own public network
 * {@code 100.64.I.0/24}, gateway {@code 100.64.I.1} on the bridge) where its node's network driver makes the VPC
 * bridges; a
 * "datacenter" namespace {@code <prefix>dc} whose bridge {@code dc0} holds one veth per host ({@code hI} there,
 * {@code eth1} in host I, carrying its underlay address {@code 10.250.0.I/24}); a three-member etcd cluster
 * ({@link EtcdCluster}, on loopback: the node processes run in the root namespace, and only their networks live in
 * the host namespaces) and a data folder per host under the run's folder {@code <runRoot>/<prefix>}.
 *
 * <p>The prefix is {@code letters + 4 base-36 characters}; the run's folder records this JVM's pid, and
 * {@link #start} first reaps what runs of dead JVMs with the same letters left ({@link #reapDeadRuns}): their node
 * processes (by the run folder on their command line, by pid), domains, namespaces, root links and nft tables named
 * by their prefix, and their folders. Nothing of a live run is touched.
 *
 * <p>Not thread-safe. {@link #close()} removes everything this run made here (the caller stops its node processes
 * first), runs every step even when one fails and throws an {@link AssertionError} listing the failures;
 * {@link #leftovers()} then tells what is still there.
 */
final class SimulatedHosts implements AutoCloseable {
  /** The uplink bridge in every host namespace. */
  static final String UPLINK = "up0";

  /** One simulated host: its name ({@code h1}), namespace, underlay address and data folder. */
  record Host(int index, String name, String namespace, String underlay, Path dataDir, String namePrefix) {
    /** The public network of this host's uplink, {@code 100.64.I.0/24}. */
    String publicRange() {
      return "100.64." + index + ".0/24";
    }

    /** The gateway of this host's public network (an address of its uplink bridge), {@code 100.64.I.1}. */
    String publicGateway() {
      return "100.64." + index + ".1";
    }

    /** The underlay's device in this host's namespace. */
    String underlayDevice() {
      return "eth1";
    }
  }

  final String prefix;
  final Path dir;
  final String datacenter;
  final List<Host> hosts;
  final EtcdCluster etcd;

  private SimulatedHosts(String prefix, Path dir, String datacenter, List<Host> hosts, EtcdCluster etcd) {
    this.prefix = prefix;
    this.dir = dir;
    this.datacenter = datacenter;
    this.hosts = List.copyOf(hosts);
    this.etcd = etcd;
  }

  /**
   * Makes {@code count} hosts (1..9), the datacenter and a three-member etcd for a new run of prefix
   * {@code letters + 4 base-36 characters} under {@code runRoot}, after reaping what dead runs of these letters
   * left. A failure removes what was made before it is thrown.
   */
  static SimulatedHosts start(Path runRoot, String letters, int count) throws Exception {
    if (count < 1 || count > 9) {
      throw new IllegalArgumentException("1..9 hosts, not " + count);
    }
    reapDeadRuns(runRoot, letters);
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String p = letters + "0000".substring(rnd.length()) + rnd;
    Path dir = Files.createDirectories(runRoot.resolve(p));
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    String dc = p + "dc";
    List<Host> made = new ArrayList<>();
    EtcdCluster etcd = null;
    try {
      check(run("ip", "netns", "add", dc));
      check(run("ip", "-n", dc, "link", "set", "lo", "up"));
      check(run("ip", "-n", dc, "link", "add", "dc0", "type", "bridge"));
      check(run("ip", "-n", dc, "link", "set", "dc0", "up"));
      for (int i = 1; i <= count; i++) {
        Host h = new Host(i, "h" + i, p + "h" + i, "10.250.0." + i, Files.createDirectories(dir.resolve("h" + i)),
            p + "h" + i);
        check(run("ip", "netns", "add", h.namespace()));
        made.add(h);
        String ns = h.namespace();
        check(run("ip", "-n", ns, "link", "set", "lo", "up"));
        check(run("ip", "-n", dc, "link", "add", h.name(), "type", "veth", "peer", "name", h.underlayDevice(),
            "netns", ns));
        check(run("ip", "-n", dc, "link", "set", h.name(), "master", "dc0", "up"));
        check(run("ip", "-n", ns, "addr", "add", h.underlay() + "/24", "dev", h.underlayDevice()));
        check(run("ip", "-n", ns, "link", "set", h.underlayDevice(), "up"));
        check(run("ip", "-n", ns, "link", "add", UPLINK, "type", "bridge"));
        check(run("ip", "-n", ns, "addr", "add", h.publicGateway() + "/24", "dev", UPLINK));
        check(run("ip", "-n", ns, "link", "set", UPLINK, "up"));
      }
      etcd = EtcdCluster.start(3);
      return new SimulatedHosts(p, dir, dc, made, etcd);
    } catch (Exception | Error e) {
      List<Throwable> errors = new ArrayList<>();
      if (etcd != null) {
        step(errors, etcd::close);
      }
      step(errors, () -> removeNetworks(p));
      step(errors, () -> deleteTree(dir));
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  /** Host {@code name} ({@code h1}...). */
  Host host(String name) {
    return hosts.stream().filter(h -> h.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no host " + name + " in " + hosts));
  }

  /** The etcd members' client URLs, comma-separated, as {@code --etcd} takes them. */
  String etcdUrls() {
    return String.join(",", etcd.endpoints());
  }

  /** Cuts a host off the datacenter (its veth on the datacenter bridge goes down): its VXLAN peers lose it. */
  void cutLink(Host h) throws Exception {
    check(run("ip", "-n", datacenter, "link", "set", h.name(), "down"));
  }

  /** Joins a host to the datacenter again. */
  void restoreLink(Host h) throws Exception {
    check(run("ip", "-n", datacenter, "link", "set", h.name(), "up"));
  }

  /** Names of the libvirt domains (any state) whose names start with {@code namePrefix}. */
  static List<String> domains(String namePrefix) {
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      return hv.listAll().stream().map(DomainInfo::name).filter(n -> n.startsWith(namePrefix)).sorted().toList();
    }
  }

  /** Names of the running libvirt domains whose names start with {@code namePrefix}. */
  static List<String> runningDomains(String namePrefix) {
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      return hv.listAll().stream().filter(i -> i.state() == dev.pods.spi.DomainState.RUNNING).map(DomainInfo::name)
          .filter(n -> n.startsWith(namePrefix)).sorted().toList();
    }
  }

  /** Powers off (virsh destroy) every domain of host {@code h} (names starting with its name prefix). */
  List<String> destroyDomains(Host h) {
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      List<String> out = new ArrayList<>();
      for (DomainInfo i : hv.listAll()) {
        if (i.name().startsWith(h.namePrefix())) {
          hv.destroy(i.name());
          out.add(i.name());
        }
      }
      return out;
    }
  }

  /**
   * Removes what this run made: etcd, the domains its nodes left (a node stopped cleanly leaves none), every
   * namespace, root link and nft table of the prefix, and the run's folder.
   */
  @Override
  public void close() {
    List<Throwable> errors = new ArrayList<>();
    step(errors, etcd::close);
    // what a lost node that never came back left running (its dnsmasq processes), by pid: the run folder is ours
    step(errors, () -> endProcessesMentioning(dir.toString()));
    step(errors, () -> removeDomains(prefix));
    step(errors, () -> removeNetworks(prefix));
    if (errors.isEmpty()) {
      step(errors, () -> deleteTree(dir));
    }
    if (!errors.isEmpty()) {
      AssertionError e = new AssertionError("teardown failed: " + errors);
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  /**
   * What this run left, as readable lines (empty when nothing): domains, namespaces, root links, nft tables,
   * processes mentioning the prefix or the run folder, the run folder.
   */
  List<String> leftovers() throws Exception {
    List<String> out = new ArrayList<>();
    domains(prefix).forEach(d -> out.add("domain " + d));
    namespaces(prefix).forEach(n -> out.add("namespace " + n));
    rootLinks(prefix).forEach(l -> out.add("root link " + l));
    nftTables(prefix).forEach(t -> out.add("nft table " + t));
    processesMentioning(prefix).forEach(x -> out.add("process " + x));
    processesMentioning(dir.toString()).forEach(x -> out.add("process " + x));
    if (Files.exists(dir)) {
      out.add("run folder " + dir);
    }
    return out;
  }

  /**
   * Reaps the leftovers of runs under {@code runRoot} named {@code letters + 4 characters} whose JVM is gone: their
   * processes (node JVMs: the run's folder is on their command line; ended by pid), their domains (undefined), their
   * namespaces (the datacenter's first: its veths take the hosts' ends along), root links and root nft tables, and
   * their folders.
   */
  static void reapDeadRuns(Path runRoot, String letters) throws Exception {
    for (HostTools.DeadRun dead : HostTools.deadRuns(runRoot, letters + "????")) {
      String p = dead.prefix();
      System.out.println("cluster hosts: reaping leftovers of crashed run " + p);
      endProcessesMentioning(dead.dir().toString());
      removeDomains(p);
      removeNetworks(p);
      deleteTree(dead.dir());
    }
  }

  /** Ends (SIGKILL, by pid) every process whose command line mentions {@code text}, and waits for each. */
  private static void endProcessesMentioning(String text) throws Exception {
    for (String x : processesMentioning(text)) {
      long pid = Long.parseLong(x.substring(0, x.indexOf(':')));
      java.util.Optional<ProcessHandle> h = ProcessHandle.of(pid);
      if (h.isPresent()) {
        h.get().destroyForcibly();
        h.get().onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
  }

  private static void removeDomains(String prefix) {
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      for (DomainInfo i : hv.listAll()) {
        if (i.name().startsWith(prefix)) {
          hv.undefine(i.name());
        }
      }
    }
  }

  private static void removeNetworks(String prefix) throws Exception {
    List<String> ns = new ArrayList<>(namespaces(prefix));
    // the datacenter first: its veths take the hosts' ends with them
    ns.sort((a, b) -> Boolean.compare(!a.equals(prefix + "dc"), !b.equals(prefix + "dc")));
    for (String n : ns) {
      removeNamespace(n);
    }
    for (String link : rootLinks(prefix)) {
      run("ip", "link", "del", link);
    }
    for (String t : nftTables(prefix)) {
      run("nft", "delete", "table", t.split(" ")[0], t.split(" ")[1]);
    }
  }

  /** Root-namespace nft tables ({@code family name}) whose names start with {@code prefix}. */
  private static List<String> nftTables(String prefix) throws Exception {
    return run("nft", "list", "tables").out().lines().filter(l -> l.startsWith("table "))
        .map(l -> l.substring("table ".length()).trim())
        .filter(t -> t.split(" ").length == 2 && t.split(" ")[1].startsWith(prefix)).toList();
  }

  /** The hosts and etcd, for messages. */
  @Override
  public String toString() {
    return "hosts " + prefix + " " + hosts.stream().map(Host::name).toList() + " on " + etcd;
  }
}
