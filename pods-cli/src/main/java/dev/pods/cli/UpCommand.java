package dev.pods.cli;

import dev.pods.ImagePolicy;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodSpecException;
import dev.pods.Unit;
import dev.pods.template.ParseResult;
import dev.pods.template.Templates;
import java.net.Inet4Address;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pods up FILE...}: checks its options and templates before touching the host, builds the pod, and runs it
 * with {@link Up} (which blocks until the pod is destroyed). One object per parse.
 */
@Command(name = "up", description = "deploy the templates as one pod (default name: the templates' folder), print"
    + " its events, wait until it is ready and stay attached; Ctrl-C, SIGTERM or `pods down POD` destroy it. With"
    + " --etcd: deploy it to that cluster instead, print the events until it is ready (-d: return once it is"
    + " deployed); the nodes' own settings decide networks and guests.")
final class UpCommand extends PodsCommand {
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{0,11}");

  @Option(names = {"-d", "--detach"}, description = "start the pod and return once it is ready, leaving the up"
      + " process in the background (output in <data>/cli/POD.out; `pods logs POD`; `pods down POD` ends it)")
  boolean detach;

  @Option(names = "--name", paramLabel = "POD", description = "the pod's name (default: the templates' folder)")
  @Nullable String name;

  @Option(names = "--tiny", description = "boot every unit from the tiny busybox guest (seconds) instead of Debian 12"
      + " (about 75 s under TCG)")
  boolean tiny;

  @Option(names = "--prefix", paramLabel = "P", description = "names of domains, namespaces and links start with P"
      + " (1..12 lower-case letters or digits; default pods)")
  @Nullable String prefix;

  @Mixin EtcdOptions.Optional cluster;

  @Option(names = "--host-namespace", paramLabel = "NS", description = "the named network namespace of the VPC and"
      + " uplink bridges")
  @Nullable String hostNamespace;

  @Mixin PublicNetworkOptions network;

  @Option(names = "--ready-timeout", paramLabel = "S", description = "give up (and tear down) when not ready after S"
      + " seconds (default 600)")
  @Nullable String readyTimeout;

  @Option(names = "--domain", paramLabel = "NAME=ZONE", description = "DNS records of +/domain/NAME are named under"
      + " ZONE and answered by every instance's resolver (repeatable)")
  List<String> domains = new ArrayList<>();

  @Option(names = "--dns-server", paramLabel = "IP", description = "where the resolvers forward every other query"
      + " (repeatable)")
  List<String> dnsServers = new ArrayList<>();

  @Option(names = "--secret", paramLabel = "NAME=FILE", description = "the value of +/secret/NAME: FILE holds"
      + " KEY=VALUE lines (repeatable)")
  List<String> secrets = new ArrayList<>();

  @Option(names = "--host-folder", paramLabel = "DIR", description = "allow host_path mounts of DIR and below (none"
      + " by default; repeatable)")
  List<Path> hostFolders = new ArrayList<>();

  @Mixin ImageOptions images;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "the templates, one unit each")
  List<Path> files = new ArrayList<>();

  @Override
  public Integer call() throws Up.UsageException, java.io.IOException, InterruptedException {
    if (cluster.given("up")) {
      return cluster();
    }
    Checked c = check();
    if (c == null) {
      return 1;
    }
    if (detach) {
      List<String> args = new ArrayList<>(spec.root().commandLine().getParseResult().originalArgs());
      args.removeIf(a -> a.equals("-d") || a.equals("--detach"));
      return Detached.start(out(), err(), dataDir(), c.pod().name(), args, c.readyTimeout());
    }
    return new Up(out(), err(), main().tty(), dataDir()).up(c.pod(), c.options(), c.readyTimeout());
  }

  /**
   * {@code up --etcd ...}: deploys the templates' pod to the cluster. The options of this host's networks and
   * guests are refused: the nodes' own settings decide them.
   */
  private int cluster() throws Up.UsageException, java.io.IOException, InterruptedException {
    EtcdOptions.Target target = cluster.target("up");
    List<String> local = new ArrayList<>();
    if (prefix != null) {
      local.add("--prefix");
    }
    if (tiny) {
      local.add("--tiny");
    }
    if (hostNamespace != null) {
      local.add("--host-namespace");
    }
    local.addAll(network.given());
    if (!domains.isEmpty() || !dnsServers.isEmpty() || !secrets.isEmpty() || !hostFolders.isEmpty()) {
      local.add("--domain/--dns-server/--secret/--host-folder");
    }
    if (!local.isEmpty()) {
      throw new Up.UsageException("up: " + String.join(", ", local) + " set up this host, not a cluster: with --etcd"
          + " each node's own settings (pods node) decide them");
    }
    ImagePolicy policy = images.policy("up");
    Duration timeout = readyTimeout == null ? Up.DEFAULT_READY_TIMEOUT
        : Duration.ofSeconds(seconds(readyTimeout, "--ready-timeout"));
    Pod pod = readPod(files, name, policy, err());
    if (pod == null) {
      return 1;
    }
    return new ClusterCli(out(), err(), target).up(pod, detach, timeout, policy);
  }

  /** What {@code up} runs, checked. */
  record Checked(Pod pod, LocalHost.Options options, Duration readyTimeout) {}

  /**
   * Checks the options and reads the templates (printing their problems).
   *
   * @return null when a template is invalid (its problems were printed)
   * @throws Up.UsageException when an option is wrong
   */
  @Nullable Checked check() throws Up.UsageException {
    ImagePolicy imagePolicy = images.policy("up");
    String prefix = this.prefix == null ? "pods" : this.prefix;
    if (!PREFIX.matcher(prefix).matches()) {
      throw new Up.UsageException("up: --prefix must be 1..12 lower-case letters or digits, starting with a letter");
    }
    Duration timeout = readyTimeout == null ? Up.DEFAULT_READY_TIMEOUT
        : Duration.ofSeconds(seconds(readyTimeout, "--ready-timeout"));
    Map<String, String> zones = new LinkedHashMap<>();
    for (String d : domains) {
      domain(zones, d);
    }
    List<Inet4Address> resolvers = new ArrayList<>();
    for (String v : dnsServers) {
      resolvers.add(PublicNetworkOptions.ipv4("up", "--dns-server", v));
    }
    PodRuntime.PublicNetwork publicNetwork = network.publicNetwork("up");
    Inet4Address node = network.nodeAddress("up");
    dev.pods.spi.SecretStore store = SecretFiles.read(secrets);
    List<Path> folders = hostFolders.stream().map(p -> p.toAbsolutePath().normalize()).toList();

    Pod pod = readPod(files, name, imagePolicy, err());
    if (pod == null) {
      return null;
    }
    return new Checked(pod, new LocalHost.Options(dataDir(), prefix, tiny, hostNamespace, publicNetwork, node,
        imagePolicy, zones, resolvers, store, folders), timeout);
  }

  /**
   * Reads {@code files} into one pod named {@code name} (default: the first file's folder), printing every problem
   * to {@code err}.
   *
   * @return null when a template or the pod is invalid
   * @throws Up.UsageException when no name is given and the folder's name is not a DNS label
   */
  static @Nullable Pod readPod(List<Path> files, @Nullable String name, ImagePolicy policy, java.io.PrintStream err)
      throws Up.UsageException {
    List<Unit> units = new ArrayList<>();
    boolean bad = false;
    for (Path f : files) {
      ParseResult r = Templates.read(f, policy);
      r.problems().forEach(err::println);
      if (r.hasErrors()) {
        bad = true;
      } else {
        units.add(r.orThrow());
      }
    }
    if (bad) {
      return null;
    }
    String podName = name;
    if (podName == null) {
      Path parent = files.get(0).toAbsolutePath().getParent();
      podName = parent == null || parent.getFileName() == null ? "" : parent.getFileName().toString();
      if (!LABEL.matcher(podName).matches()) {
        throw new Up.UsageException("up: name the pod with --name (the templates' folder '" + podName
            + "' is not a DNS label)");
      }
    }
    try {
      Pod.Builder b = Pod.builder().name(podName);
      units.forEach(b::unit);
      return b.build();
    } catch (PodSpecException e) {
      e.problems().forEach(p -> err.println("pods: " + p));
      return null;
    }
  }

  /** Adds {@code NAME=ZONE} of a {@code --domain} option, checked as the runtime will. */
  private static void domain(Map<String, String> domains, String v) throws Up.UsageException {
    int eq = v.indexOf('=');
    if (eq <= 0 || eq == v.length() - 1) {
      throw new Up.UsageException("up: --domain takes NAME=ZONE (the NAME of +/domain/NAME), not '" + v + "'");
    }
    String name = v.substring(0, eq);
    String zone = v.substring(eq + 1);
    try {
      new PodRuntime.DnsDomain(name, zone, null);
    } catch (IllegalArgumentException e) {
      throw new Up.UsageException("up: --domain " + v + ": " + e.getMessage());
    }
    if (domains.putIfAbsent(name, zone) != null) {
      throw new Up.UsageException("up: --domain " + name + " is given twice");
    }
  }

  private static long seconds(String v, String option) throws Up.UsageException {
    try {
      long s = Long.parseLong(v);
      if (s > 0) {
        return s;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new Up.UsageException("up: " + option + " takes a positive number of seconds, not '" + v + "'");
  }
}
