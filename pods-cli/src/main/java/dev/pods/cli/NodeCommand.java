package dev.pods.cli;

import dev.pods.ImagePolicy;
import dev.pods.ImageResolver;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.etcd.ClusterHost;
import dev.pods.etcd.EtcdKeyspace;
import dev.pods.etcd.FabricPeers;
import dev.pods.etcd.NodeSpec;
import dev.pods.net.LinuxNetworkDriver;
import io.etcd.jetcd.Client;
import java.net.Inet4Address;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pods node --etcd URL[,URL...] [--etcd-prefix P] --name N [--prefix P] ...}: runs this host as a node of a
 * cluster coordinated through etcd ({@link ClusterHost}) on the local runtime (libvirt, Linux networking, the
 * hypervisor's image catalogue, all under the data folder), with the VPC fabric when {@code --underlay} is given (its
 * peers follow the cluster's nodes, {@link FabricPeers}). {@code --etcd-prefix} is the cluster's key prefix
 * ({@link EtcdOptions}), {@code --prefix} the name prefix of the domains, namespaces and links the node creates;
 * {@code --uplink}, {@code --public-range}, {@code --public-gateway} and {@code --node-address} are those of
 * {@code pods up} ({@link PublicNetworkOptions}). Prints {@code node N joined ETCD-PREFIX} once registered, then runs
 * until SIGTERM or SIGINT, when it leaves (stops its instances, revokes its lease) and exits 0. Exit status 1 when it
 * cannot join (etcd does not answer, a live node holds the name, the runtime cannot start) or is fenced (its lease
 * expired), 2 for wrong usage.
 */
@Command(name = "node", description = "run this host as a node of a cluster in etcd until SIGTERM/SIGINT (then leave:"
    + " stop its instances, revoke its lease)")
final class NodeCommand extends PodsCommand {
  private static final Pattern NET_PREFIX = Pattern.compile("[a-z][a-z0-9]{0,11}");

  @Mixin EtcdOptions.Required cluster;

  @Option(names = "--name", required = true, paramLabel = "N", description = "the node's name, unique in the cluster")
  String name = "";

  @Option(names = "--address", paramLabel = "A", description = "where other nodes reach this one (default: the"
      + " underlay address, else the name)")
  @Nullable String address;

  @Option(names = "--cpus", paramLabel = "C", description = "CPUs offered to instances (default: this host's)")
  @Nullable Integer cpus;

  @Option(names = "--memory", paramLabel = "MIB", description = "memory offered to instances, MiB (default: 4096)")
  int memoryMib = 4096;

  @Option(names = "--lease", paramLabel = "SECONDS", description = "the node's lease: it is lost that long after"
      + " its last keep-alive (default: 10)")
  int leaseSeconds = 10;

  @Option(names = "--prefix", paramLabel = "P", description = "names of domains, namespaces and links start with P"
      + " (1..12 lower-case letters or digits; default pods)")
  String names = "pods";

  @Option(names = "--host-namespace", paramLabel = "NS", description = "the named network namespace of the VPC and"
      + " uplink bridges and of the underlay address")
  @Nullable String hostNamespace;

  @Option(names = "--underlay", paramLabel = "IP", description = "join the VPCs to the other nodes' over VXLAN, sent"
      + " from IP (an address of the host namespace)")
  @Nullable String underlay;

  @Mixin PublicNetworkOptions network;

  @Option(names = "--tiny", description = "boot every unit from the tiny busybox guest")
  boolean tiny;

  @Mixin ImageOptions images;

  /** Counted down to leave (a signal's shutdown hook, or a test). */
  final CountDownLatch stop = new CountDownLatch(1);

  @Override
  public Integer call() throws Up.UsageException {
    EtcdOptions.Target target = cluster.target("node");
    NodeSpec spec;
    Inet4Address under = underlay == null ? null : PublicNetworkOptions.ipv4("node", "--underlay", underlay);
    Inet4Address node = network.nodeAddress("node");
    if (!NET_PREFIX.matcher(names).matches()) {
      throw usage("--prefix must be 1..12 lower-case letters or digits, starting with a letter, not '" + names
          + "'");
    }
    if (leaseSeconds < 2) {
      throw usage("--lease must be at least 2 seconds, not " + leaseSeconds);
    }
    try {
      int c = cpus != null ? cpus : Runtime.getRuntime().availableProcessors();
      String a = address != null ? address : under != null ? under.getHostAddress() : name;
      spec = new NodeSpec(name, a, c, memoryMib);
      if (under != null) {
        spec = spec.withUnderlay(under);
      }
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    PodRuntime.PublicNetwork publicNetwork = network.publicNetwork("node");
    ImagePolicy policy = images.policy("node");
    if (under == null) {
      // the views of this node's instances list their peers on other nodes, whose addresses they cannot reach
      err().println("pods: node: warning: no --underlay: the VPCs of this node's instances stay on this host, so they"
          + " cannot reach their peers on other nodes (which their views still list)");
    }
    Path data = dataDir();
    try (Client client = target.client()) {
      EtcdKeyspace space = EtcdKeyspace.of(client, target.prefix());
      Thread hook = new Thread(() -> {
        stop.countDown();
        left.awaitUninterruptibly();
      }, "pods-node-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        return run(space, spec, policy, publicNetwork, node, data);
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // SIGTERM or SIGINT: the JVM is shutting down and its hook waits; the node has left, so the exit is clean
          out().flush();
          Runtime.getRuntime().halt(exitStatus);
        }
        left.countDown();
      }
    }
  }

  /** Opened once the node left (the shutdown hook waits for it, so a signal's exit follows the leave). */
  private final Latch left = new Latch();
  private volatile int exitStatus;

  @SuppressWarnings("try") // the fabric peers follow the cluster while the node runs
  private int run(EtcdKeyspace space, NodeSpec spec, ImagePolicy policy, PodRuntime.@Nullable PublicNetwork pub,
      @Nullable Inet4Address node, Path data) {
    LinuxNetworkDriver.Builder nb = LinuxNetworkDriver.builder().stateDir(data.resolve("net")).prefix(names);
    if (spec.underlay() != null) {
      nb.fabric(hostNamespace, spec.underlay(), Set.of());
    }
    ImageResolver catalogue = dev.pods.spi.Providers.hypervisor().images(data, policy);
    ImageResolver resolver = tiny ? image -> catalogue.resolve(LocalHost.TINY) : catalogue;
    PodRuntime.Builder rb = PodRuntime.localBuilder()
        .dataDir(data)
        .stateDir(data.resolve("state").resolve("node-" + spec.name()))
        .owner("dev.pods/node=" + data.toAbsolutePath().normalize() + "#" + spec.name())
        .images(resolver)
        .imagePolicy(policy)
        .hostNamespace(hostNamespace)
        .publicNetwork(pub)
        .nodeAddress(node)
        .namePrefix(names + "-");
    exitStatus = 1;
    try (LinuxNetworkDriver net = nb.build();
         FabricPeers peers = spec.underlay() == null ? null
             : FabricPeers.follow(space, spec.name(), net.fabric().orElseThrow());
         ClusterHost host = ClusterHost.join(space, spec, Duration.ofSeconds(leaseSeconds), net, rb)) {
      out().println("node " + spec.name() + " joined " + space.prefix());
      out().flush();
      while (!stop.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
        if (host.lost()) {
          err().println("pods: node: node " + spec.name() + " is lost (its lease expired): it stopped its instances");
          return 1;
        }
      }
      exitStatus = 0;
    } catch (PodsException e) {
      err().println("pods: node: " + dev.pods.internal.SafeText.oneLine(String.valueOf(e.getMessage())));
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    exitStatus = 0;
    out().println("node " + spec.name() + " left " + space.prefix());
    out().flush();
    return 0;
  }

  /** A one-shot gate. */
  private static final class Latch {
    private final CountDownLatch l = new CountDownLatch(1);

    void countDown() {
      l.countDown();
    }

    void awaitUninterruptibly() {
      boolean interrupted = false;
      while (true) {
        try {
          l.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
