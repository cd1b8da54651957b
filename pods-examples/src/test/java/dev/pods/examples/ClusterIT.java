package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.Deployment;
import dev.pods.ExecResult;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.etcd.ClusterRuntime;
import dev.pods.etcd.EtcdCluster;
import dev.pods.etcd.EtcdKeyspace;
import dev.pods.etcd.NodeStatus;
import dev.pods.etcd.Nodes;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.spi.HypervisorEvent;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster on real parts: three simulated hosts ({@link SimulatedHosts}: host namespaces with their own uplink and
 * VPC bridges on one datacenter bridge, one libvirtd), a three-member etcd from Debian's {@code etcd-server}, a
 * {@code pods node} JVM per host ({@link NodeProcess}), and a host application's {@link ClusterRuntime} deploying
 * one pod of real tiny guests: three {@code web} instances, each serving its own name with busybox httpd, and one
 * {@code lb} whose reload block lists {@code +/unit/web/private_ips} and fetches each web's name over the VPC.
 *
 * <p>The cases share the pod and run in order: it spreads over the nodes; the lb reaches the webs on other nodes
 * (VXLAN); a node is lost (its JVM killed with SIGKILL, its domains destroyed, its datacenter link cut) and its
 * instances are READY elsewhere with the same private addresses, in the lb's view; the node returns and nothing is
 * duplicated (one domain and one instance network per instance across the hosts, no moved-away instance started by
 * the returning node, no instance listed by two live nodes in any node list seen); one etcd member is lost and
 * nothing changes; the leader's node is lost and placement goes on within a lease period; the host application
 * restarts and adopts the pod, then destroys it. Figures are printed
 * ({@code cluster-it:} lines): node loss to READY elsewhere against the lease and the fresh boots of this run.
 *
 * <p>Every name starts with the per-run prefix {@code ci????}; what runs of dead JVMs left is reaped first, and
 * nothing is left at the end.
 */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ClusterIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-cluster-it");
  private static final Duration LEASE = Duration.ofSeconds(5);
  private static final Duration BOOT = Duration.ofMinutes(3);
  private static final String POD = "ct";
  private static final List<String> WEBS = List.of("web-0", "web-1", "web-2");
  private static final String VIEW = "lb view:";

  private SimulatedHosts hosts;
  private final Map<String, NodeProcess> nodes = new TreeMap<>();
  private final List<Client> clients = new ArrayList<>();
  private String etcdPrefix;
  private EtcdKeyspace space;
  private PodRuntime runtime;
  private Deployment deployment;
  private final EventLog events = new EventLog();
  private final NodesLog nodesLog = new NodesLog();
  private AutoCloseable nodesWatch;
  /** libvirt's events of this host (every node's domains), to tell whether a returning node started a moved one. */
  private final List<HypervisorEvent> domainEvents = new java.util.concurrent.CopyOnWriteArrayList<>();
  private LibvirtHypervisor libvirt;
  private AutoCloseable domainWatch;
  private final List<String> figures = new ArrayList<>();
  private final Map<String, Long> freshBootMs = new LinkedHashMap<>();
  private long started;
  private boolean destroyed;

  /** Web instances serve their own name; the lb's reload block fetches each listed web over the VPC. */
  private static Pod pod() {
    return Pod.builder().name(POD)
        .unit(Unit.builder().name("web").image("tiny").count(3).memoryMib(160)
            .script(Script.shell(Phase.INITIAL, "echo web up\n"))
            .script(Script.shell(Phase.REBOOT,
                "mkdir -p /www && hostname > /www/index.html && httpd -p 80 -h /www && echo \"httpd up\"\n"))
            .build())
        .unit(Unit.builder().name("lb").image("tiny").memoryMib(160)
            .script(Script.shell(Phase.INITIAL, "echo lb up\n"))
            .script(Script.shell(Phase.RELOAD, """
                out=""
                for ip in $(pods get +/unit/web/private_ips | tr ',' ' '); do
                  name=$(timeout 10 wget -q -O - "http://$ip/" 2>/dev/null || echo unreachable)
                  out="$out $ip=$name"
                done
                echo "%s$out"
                """.formatted(VIEW)))
            .build())
        .build();
  }

  @BeforeAll
  void startTheClusterAndDeploy() throws Exception {
    HostTools.assumeVmHost();
    assumeTrue(EtcdCluster.available(), "etcd-server is not installed (scripts/setup-host.sh installs it)");
    started = System.nanoTime();
    hosts = SimulatedHosts.start(RUN_ROOT, "ci", 3);
    libvirt = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    domainWatch = libvirt.subscribe(e -> {
      if (e.domain() != null && e.domain().startsWith(hosts.prefix)) {
        domainEvents.add(e);
      }
    });
    etcdPrefix = "/pods-it/" + hosts.prefix;
    for (SimulatedHosts.Host h : hosts.hosts) {
      nodes.put(h.name(), NodeProcess.start(hosts, h, etcdPrefix, LEASE));
    }
    space = EtcdKeyspace.of(newClient(), etcdPrefix);
    nodesWatch = new Nodes(EtcdKeyspace.of(newClient(), etcdPrefix)).watch(nodesLog::add);
    nodesLog.await("three nodes READY", l -> l.stream().filter(n -> n.health() == NodeStatus.Health.READY).count() == 3,
        Duration.ofSeconds(30));
    runtime = ClusterRuntime.connect(space);
    Instant deployed = Instant.now();
    long t0 = System.nanoTime();
    deployment = runtime.deploy(pod());
    deployment.events().subscribe(events::add);
    deployment.awaitReady(BOOT);
    figures.add(String.format("deploy -> all 4 READY: %d ms", ms(System.nanoTime() - t0)));
    for (Instance i : deployment.instances()) {
      PodEvent.StateChanged ready = events.await(0, stateChange(i.name(), InstanceState.READY), BOOT);
      freshBootMs.put(i.name(), Duration.between(deployed, ready.at()).toMillis());
      figures.add(String.format("%s: deploy -> READY %d ms (its fresh boot)", i.name(), freshBootMs.get(i.name())));
    }
  }

  @Test
  @Order(1)
  void thePodSpreadsOverTheNodes() throws Exception {
    Map<String, String> at = placement();
    assertThat(at).containsOnlyKeys("web-0", "web-1", "web-2", "lb-0");
    assertThat(WEBS.stream().map(at::get).collect(Collectors.toSet())).as("web instances on three nodes: %s", at)
        .containsExactlyInAnyOrder("h1", "h2", "h3");
    assertOneDomainPerInstance(at);
    assertOneNetworkPerInstance(at);
    for (Instance i : deployment.instances()) {
      assertThat(i.state()).as(i.name()).isEqualTo(InstanceState.READY);
    }
  }

  @Test
  @Order(2)
  void theLbReachesWebInstancesOnOtherNodesOverTheVpc() throws Exception {
    Map<String, String> at = placement();
    Instance lb = deployment.instance("lb", 0);
    long remote = WEBS.stream().filter(w -> !at.get(w).equals(at.get("lb-0"))).count();
    assertThat(remote).as("web instances on another node than the lb: %s", at).isGreaterThanOrEqualTo(2);
    for (String w : WEBS) {
      assertThat(fetchFromLb(lb, w)).as("lb (on %s) -> %s (on %s)", at.get("lb-0"), w, at.get(w)).isEqualTo(w);
    }
    events.awaitAny(0, viewListingAll(lb), BOOT);
  }

  @Test
  @Order(3)
  void aLostNodesInstancesAreReadyElsewhereWithTheirAddressesAndTheLbSeesThem() throws Exception {
    Map<String, String> at = placement();
    String victim = WEBS.stream().map(at::get).filter(n -> !n.equals(at.get("lb-0"))).findFirst().orElseThrow();
    List<String> moved = at.entrySet().stream().filter(e -> e.getValue().equals(victim)).map(Map.Entry::getKey)
        .toList();
    Map<String, String> addresses = addresses();
    long mark = events.mark();
    long t0 = System.nanoTime();
    loseNode(victim);
    nodesLog.await(victim + " LOST", l -> health(l, victim) == NodeStatus.Health.LOST, LEASE.multipliedBy(4));
    long lost = System.nanoTime() - t0;
    for (String i : moved) {
      events.await(mark, stateChange(i, InstanceState.READY), BOOT);
      long back = System.nanoTime() - t0;
      figures.add(String.format("node %s lost (SIGKILL, domains destroyed, link cut): LOST after %d ms (lease %d ms); "
              + "%s READY elsewhere after %d ms = %.2fx the lease, %.2fx its fresh boot (%d ms)", victim, ms(lost),
          LEASE.toMillis(), i, ms(back), (double) ms(back) / LEASE.toMillis(),
          (double) ms(back) / freshBootMs.get(i), freshBootMs.get(i)));
    }
    Map<String, String> now = placement();
    for (String i : moved) {
      assertThat(now.get(i)).as("%s's node", i).isNotEqualTo(victim);
      assertThat(deployment.instance(unit(i), index(i)).privateAddress().getHostAddress()).as(i)
          .isEqualTo(addresses.get(i));
      PodEvent.Placed placed = (PodEvent.Placed) events.awaitAny(mark,
          e -> e instanceof PodEvent.Placed p && p.instance().equals(i) && now.get(i).equals(p.node()), BOOT);
      assertThat(placed.why()).as("why %s moved", i).startsWith(i + " on " + now.get(i) + " (moved from " + victim);
      figures.add("placement: " + placed.why());
    }
    List<String> running = SimulatedHosts.runningDomains(hosts.prefix);
    assertThat(running).as("running domains").hasSize(4);
    for (String i : now.keySet()) {
      assertThat(running.stream().filter(d -> d.endsWith("-" + i))).as("running domains of %s", i).hasSize(1);
    }
    Instance lb = deployment.instance("lb", 0);
    events.awaitAny(mark, viewListingAll(lb), BOOT);
    for (String w : WEBS) {
      assertThat(fetchFromLb(lb, w)).as("lb -> %s (now on %s)", w, now.get(w)).isEqualTo(w);
    }
  }

  @Test
  @Order(4)
  void theLostNodeReturnsAndNothingIsDuplicated() throws Exception {
    String victim = nodes.entrySet().stream().filter(e -> !e.getValue().alive()).map(Map.Entry::getKey).findFirst()
        .orElseThrow();
    Map<String, String> before = placement();
    int domainMark = domainEvents.size();
    returnNode(victim);
    nodesLog.await(victim + " READY again", l -> health(l, victim) == NodeStatus.Health.READY, Duration.ofSeconds(30));
    // the returned node removes the domains of what was moved away (destroyed, still defined) before anything else
    awaitCondition("the returned node removed its stale domains", Duration.ofSeconds(60),
        () -> SimulatedHosts.domains(hosts.prefix).size() == 4);
    // a lease period more: nothing moves back, nothing is started twice
    long mark = events.mark();
    nodesLog.awaitQuiet(LEASE.multipliedBy(2));
    assertThat(placement()).isEqualTo(before);
    assertOneDomainPerInstance(before);
    assertOneNetworkPerInstance(before);
    assertNothingMovedAwayStarted(victim, domainMark, before);
    assertThat(events.since(mark).stream().filter(e -> e instanceof PodEvent.StateChanged).toList())
        .as("state changes after the node returned").isEmpty();
    assertThat(nodesLog.listedTwice()).as("an instance listed by two live nodes at once").isEmpty();
  }

  @Test
  @Order(5)
  void losingOneEtcdMemberChangesNothing() throws Exception {
    Map<String, String> before = placement();
    List<String> domains = SimulatedHosts.domains(hosts.prefix);
    int victim = etcdLeaderMember();
    long mark = events.mark();
    int listMark = nodesLog.mark();
    hosts.etcd.kill(victim);
    nodesLog.awaitQuiet(LEASE.multipliedBy(3));
    assertThat(nodesLog.since(listMark)).as("node lists after etcd member %d was killed", victim)
        .allMatch(l -> l.stream().allMatch(n -> n.health() == NodeStatus.Health.READY));
    assertThat(placement()).isEqualTo(before);
    assertThat(SimulatedHosts.domains(hosts.prefix)).isEqualTo(domains);
    assertThat(events.since(mark).stream().filter(e -> e instanceof PodEvent.StateChanged).toList())
        .as("state changes after an etcd member was lost").isEmpty();
    Instance lb = deployment.instance("lb", 0);
    assertThat(fetchFromLb(lb, "web-0")).isEqualTo("web-0");
    figures.add("etcd member " + hosts.etcd.members().get(victim).name() + " (the etcd leader) killed: "
        + "no node lost, nothing moved in " + LEASE.multipliedBy(3).toMillis() + " ms");
  }

  @Test
  @Order(6)
  void losingTheLeadersNodeMovesPlacementToAnotherNodeWithinALeasePeriod() throws Exception {
    String leader = nodesLog.latest().stream().filter(NodeStatus::leader).map(NodeStatus::name).findFirst()
        .orElseThrow();
    Map<String, String> at = placement();
    Map<String, String> addresses = addresses();
    List<String> moved = at.entrySet().stream().filter(e -> e.getValue().equals(leader)).map(Map.Entry::getKey)
        .toList();
    long mark = events.mark();
    long t0 = System.nanoTime();
    loseNode(leader);
    nodesLog.await(leader + " LOST", l -> health(l, leader) == NodeStatus.Health.LOST, LEASE.multipliedBy(4));
    long lost = System.nanoTime() - t0;
    List<NodeStatus> led = nodesLog.await("another leader",
        l -> l.stream().anyMatch(n -> n.leader() && !n.name().equals(leader)), LEASE.multipliedBy(4));
    long newLeader = System.nanoTime() - t0;
    String next = led.stream().filter(NodeStatus::leader).map(NodeStatus::name).findFirst().orElseThrow();
    // the lease expires at most a lease period after the kill; the next campaigner leads at once
    assertThat(ms(newLeader)).as("kill of the leader's node -> %s leads, ms", next)
        .isLessThanOrEqualTo(LEASE.plusSeconds(2).toMillis());
    for (String i : moved) {
      events.await(mark, stateChange(i, InstanceState.READY), BOOT);
      long back = System.nanoTime() - t0;
      figures.add(String.format("leader %s lost: LOST after %d ms, %s leads after %d ms (lease %d ms); %s READY "
              + "elsewhere after %d ms (%.2fx its fresh boot)", leader, ms(lost), next, ms(newLeader), LEASE.toMillis(),
          i, ms(back), (double) ms(back) / freshBootMs.get(i)));
    }
    Map<String, String> now = placement();
    for (String i : moved) {
      assertThat(now.get(i)).as("%s's node", i).isNotEqualTo(leader);
      assertThat(deployment.instance(unit(i), index(i)).privateAddress().getHostAddress()).isEqualTo(addresses.get(i));
      PodEvent.Placed placed = (PodEvent.Placed) events.awaitAny(mark,
          e -> e instanceof PodEvent.Placed p && p.instance().equals(i) && now.get(i).equals(p.node()), BOOT);
      assertThat(placed.why()).as("why %s moved", i).startsWith(i + " on " + now.get(i) + " (moved from " + leader);
    }
    int domainMark = domainEvents.size();
    returnNode(leader);
    nodesLog.await(leader + " READY again", l -> health(l, leader) == NodeStatus.Health.READY, Duration.ofSeconds(30));
    awaitCondition("the returned leader removed its stale domains", Duration.ofSeconds(60),
        () -> SimulatedHosts.domains(hosts.prefix).size() == 4);
    assertOneDomainPerInstance(placement());
    assertOneNetworkPerInstance(placement());
    assertNothingMovedAwayStarted(leader, domainMark, placement());
    Instance lb = deployment.instance("lb", 0);
    for (String w : WEBS) {
      assertThat(fetchFromLb(lb, w)).as("lb (now on %s) -> %s (on %s)", now.get("lb-0"), w, now.get(w)).isEqualTo(w);
    }
    assertThat(nodesLog.listedTwice()).as("an instance listed by two live nodes at once").isEmpty();
  }

  @Test
  @Order(7)
  void aRestartedHostApplicationAdoptsThePod() throws Exception {
    Map<String, String> addresses = addresses();
    Map<String, String> at = placement();
    runtime.close();
    space = EtcdKeyspace.of(newClient(), etcdPrefix);
    runtime = ClusterRuntime.connect(space);
    Deployment adopted = runtime.deployment(POD).orElseThrow(() -> new AssertionError("pod " + POD + " not adopted"));
    deployment = adopted;
    adopted.events().subscribe(events::add);
    assertThat(adopted.pod()).isEqualTo(pod());
    assertThat(addresses()).isEqualTo(addresses);
    adopted.awaitReady(Duration.ofSeconds(30));
    assertThat(placement()).isEqualTo(at);
    assertThat(fetchFromLb(adopted.instance("lb", 0), "web-2")).isEqualTo("web-2");

    long t0 = System.nanoTime();
    adopted.destroy();
    destroyed = true;
    awaitCondition("every domain gone", Duration.ofSeconds(90),
        () -> SimulatedHosts.domains(hosts.prefix).isEmpty());
    nodesLog.await("no instance on any node", l -> l.stream().allMatch(n -> n.instances().isEmpty()),
        Duration.ofSeconds(30));
    figures.add(String.format("destroy -> every domain gone: %d ms", ms(System.nanoTime() - t0)));
  }

  @AfterAll
  void tearDown() throws Exception {
    if (hosts == null) {
      return;
    }
    List<Throwable> errors = new ArrayList<>();
    if (runtime != null && !destroyed && deployment != null) {
      HostTools.step(errors, deployment::destroy);
    }
    if (runtime != null) {
      HostTools.step(errors, runtime::close);
    }
    if (nodesWatch != null) {
      HostTools.step(errors, nodesWatch::close);
    }
    if (domainWatch != null) {
      HostTools.step(errors, domainWatch::close);
    }
    if (libvirt != null) {
      HostTools.step(errors, libvirt::close);
    }
    for (NodeProcess n : nodes.values()) {
      if (n.alive()) {
        HostTools.step(errors, () -> assertThat(n.stop(Duration.ofSeconds(60))).as("%s's exit status; its log:\n%s",
            n, n.logTail(30)).isZero());
      }
    }
    for (Client c : clients) {
      HostTools.step(errors, c::close);
    }
    HostTools.step(errors, this::keepNodeLogs);
    HostTools.step(errors, hosts::close);
    figures.add(String.format("the whole ClusterIT: %d s", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)));
    figures.forEach(f -> System.out.println("cluster-it: " + f));
    HostTools.step(errors, () -> assertThat(hosts.leftovers()).as("left behind").isEmpty());
    if (!errors.isEmpty()) {
      AssertionError e = new AssertionError("teardown: " + errors);
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  /** Copies the node processes' logs to {@code target/cluster-it-logs/PREFIX} (the run's folder goes at the end). */
  private void keepNodeLogs() throws java.io.IOException {
    Path to = java.nio.file.Files.createDirectories(Path.of("target", "cluster-it-logs", hosts.prefix));
    for (SimulatedHosts.Host h : hosts.hosts) {
      try (java.util.stream.Stream<Path> logs = java.nio.file.Files.list(h.dataDir())) {
        for (Path log : logs.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
          java.nio.file.Files.copy(log, to.resolve(h.name() + "-" + log.getFileName()),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    System.out.println("cluster-it: node logs in " + to.toAbsolutePath());
  }

  // --- steps and views

  private Client newClient() {
    Client c = Client.builder().endpoints(hosts.etcd.endpoints()).build();
    clients.add(c);
    return c;
  }

  /** A node loss: its JVM killed (SIGKILL), its domains powered off, its datacenter link cut. */
  private void loseNode(String name) throws Exception {
    SimulatedHosts.Host h = hosts.host(name);
    nodes.get(name).kill();
    hosts.destroyDomains(h);
    hosts.cutLink(h);
  }

  /** The lost node comes back: its link restored, its node process started again on the same data folder. */
  private void returnNode(String name) throws Exception {
    SimulatedHosts.Host h = hosts.host(name);
    hosts.restoreLink(h);
    nodes.put(name, NodeProcess.start(hosts, h, etcdPrefix, LEASE));
  }

  /** Where each instance of the pod runs ({@code web-0 -> h2}), from the live nodes' records. */
  private Map<String, String> placement() {
    Map<String, String> out = new TreeMap<>();
    for (NodeStatus n : new Nodes(space).list()) {
      if (n.health() != NodeStatus.Health.READY) {
        continue;
      }
      for (String i : n.instances()) {
        if (i.startsWith(POD + "/")) {
          String name = i.substring(POD.length() + 1);
          String other = out.put(name, n.name());
          assertThat(other).as("%s listed by %s and %s", name, other, n.name()).isNull();
        }
      }
    }
    return out;
  }

  private Map<String, String> addresses() {
    Map<String, String> out = new TreeMap<>();
    deployment.instances().forEach(i -> out.put(i.name(), i.privateAddress().getHostAddress()));
    return out;
  }

  /**
   * Exactly one domain per instance across this host's libvirt (the run's prefix), each on the node {@code at}
   * names (its name starts with that host's name prefix).
   */
  private void assertOneDomainPerInstance(Map<String, String> at) {
    List<String> domains = SimulatedHosts.domains(hosts.prefix);
    assertThat(domains).as("domains of the run").hasSize(at.size());
    for (Map.Entry<String, String> e : at.entrySet()) {
      List<String> of = domains.stream().filter(d -> d.endsWith("-" + e.getKey())).toList();
      assertThat(of).as("domains of %s", e.getKey()).hasSize(1);
      assertThat(of.get(0)).as("%s's domain", e.getKey()).startsWith(hosts.host(e.getValue()).namePrefix());
    }
  }

  /**
   * No domain of an instance that {@code at} places on another node was started on {@code node} since libvirt event
   * {@code mark}: a node that comes back gives up what was moved away before it starts anything (never two copies).
   */
  private void assertNothingMovedAwayStarted(String node, int mark, Map<String, String> at) {
    String domainPrefix = hosts.host(node).namePrefix() + "-" + POD + "-";
    List<String> started = domainEvents.subList(mark, domainEvents.size()).stream()
        .filter(e -> e.type() == HypervisorEvent.Type.STARTED && e.domain() != null
            && e.domain().startsWith(domainPrefix))
        .map(e -> e.domain().substring(domainPrefix.length()))
        .filter(i -> !node.equals(at.get(i)))
        .toList();
    assertThat(started).as("instances placed elsewhere whose domains %s started when it came back", node).isEmpty();
  }

  /**
   * Exactly one instance network (namespace {@code <host prefix>-ct-<instance>}) per instance across the hosts, on
   * the node {@code at} names: a network left behind by a node that gave its instance up would answer for the
   * instance's address too.
   */
  private void assertOneNetworkPerInstance(Map<String, String> at) throws Exception {
    List<String> namespaces = HostTools.namespaces(hosts.prefix).stream().filter(n -> n.contains("-" + POD + "-"))
        .sorted().toList();
    assertThat(namespaces).as("instance namespaces of the run").hasSize(at.size());
    for (Map.Entry<String, String> e : at.entrySet()) {
      assertThat(namespaces).as("%s's network", e.getKey())
          .contains(hosts.host(e.getValue()).namePrefix() + "-" + POD + "-" + e.getKey());
    }
  }

  /** What the lb fetches from web instance {@code web}'s private address (over the VPC), trimmed. */
  private String fetchFromLb(Instance lb, String web) {
    String ip = deployment.instance(unit(web), index(web)).privateAddress().getHostAddress();
    // busybox's wget has no working -T here (it crashes): timeout bounds it
    ExecResult r = lb.exec("timeout", "10", "wget", "-q", "-O", "-", "http://" + ip + "/");
    assertThat(r.exitCode()).as("wget %s in lb: %s", ip, new String(r.stderr(), StandardCharsets.UTF_8)).isZero();
    return new String(r.stdout(), StandardCharsets.UTF_8).strip();
  }

  /** A reload output line of the lb whose view fetched every web's own name from its address. */
  private Predicate<PodEvent> viewListingAll(Instance lb) {
    Map<String, String> expected = new HashMap<>();
    for (String w : WEBS) {
      expected.put(deployment.instance(unit(w), index(w)).privateAddress().getHostAddress(), w);
    }
    return e -> {
      if (!(e instanceof PodEvent.OutputLine l) || !l.instance().equals(lb.name()) || !l.line().startsWith(VIEW)) {
        return false;
      }
      Map<String, String> seen = new HashMap<>();
      for (String pair : l.line().substring(VIEW.length()).trim().split(" ")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          seen.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
      }
      return seen.equals(expected);
    };
  }

  private int etcdLeaderMember() throws Exception {
    Client c = clients.get(0);
    long leaderId = c.getMaintenanceClient().statusMember(hosts.etcd.members().get(0).clientUrl())
        .get(10, TimeUnit.SECONDS).getLeader();
    for (int i = 0; i < hosts.etcd.members().size(); i++) {
      if (c.getMaintenanceClient().statusMember(hosts.etcd.members().get(i).clientUrl()).get(10, TimeUnit.SECONDS)
          .getHeader().getMemberId() == leaderId) {
        return i;
      }
    }
    throw new AssertionError("no etcd member is the leader " + leaderId);
  }

  private static NodeStatus.@org.jspecify.annotations.Nullable Health health(List<NodeStatus> l, String node) {
    return l.stream().filter(n -> n.name().equals(node)).map(NodeStatus::health).findFirst().orElse(null);
  }

  private static Predicate<PodEvent> stateChange(String instance, InstanceState to) {
    return e -> e instanceof PodEvent.StateChanged s && s.instance().equals(instance) && s.to() == to;
  }

  private static String unit(String instance) {
    return instance.substring(0, instance.lastIndexOf('-'));
  }

  private static int index(String instance) {
    return Integer.parseInt(instance.substring(instance.lastIndexOf('-') + 1));
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** A condition of something outside etcd and the event feeds (libvirt's domain list), checked every 200 ms. */
  private static void awaitCondition(String what, Duration timeout, java.util.function.BooleanSupplier done)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError(what + ": not within " + timeout.toSeconds() + " s");
      }
      Thread.sleep(200);
    }
  }

  /** The deployment's events in order; waits for one after a mark. Thread-safe. */
  private static final class EventLog {
    private final List<PodEvent> events = new ArrayList<>();

    synchronized void add(PodEvent e) {
      events.add(e);
      notifyAll();
    }

    synchronized long mark() {
      return events.size();
    }

    synchronized List<PodEvent> since(long mark) {
      return List.copyOf(events.subList((int) mark, events.size()));
    }

    synchronized PodEvent.StateChanged await(long mark, Predicate<PodEvent> p, Duration timeout)
        throws InterruptedException {
      return (PodEvent.StateChanged) awaitAny(mark, p, timeout);
    }

    synchronized PodEvent awaitAny(long mark, Predicate<PodEvent> p, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        for (int i = (int) mark; i < events.size(); i++) {
          if (p.test(events.get(i))) {
            return events.get(i);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("no matching event within " + timeout + " after event " + mark + "; the last: "
              + events.subList(Math.max((int) mark, events.size() - 10), events.size()));
        }
        wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  /**
   * Every node list {@link Nodes#watch} reported, in order: waits for one that matches, tells whether an instance
   * was ever listed by two live nodes in one list. Thread-safe.
   */
  private static final class NodesLog {
    private final List<List<NodeStatus>> lists = new ArrayList<>();

    synchronized void add(List<NodeStatus> l) {
      lists.add(l);
      notifyAll();
    }

    synchronized int mark() {
      return lists.size();
    }

    synchronized List<NodeStatus> latest() {
      return lists.isEmpty() ? List.of() : lists.get(lists.size() - 1);
    }

    synchronized List<List<NodeStatus>> since(int mark) {
      return List.copyOf(lists.subList(mark, lists.size()));
    }

    /** The first list from now on (the latest included) that matches. */
    synchronized List<NodeStatus> await(String what, Predicate<List<NodeStatus>> p, Duration timeout)
        throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      int from = Math.max(0, lists.size() - 1);
      while (true) {
        for (int i = from; i < lists.size(); i++) {
          if (p.test(lists.get(i))) {
            return lists.get(i);
          }
        }
        from = Math.max(from, lists.size());
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(what + ": not within " + timeout + "; the nodes: " + latest());
        }
        wait(Math.max(1, left / 1_000_000));
      }
    }

    /** Watches for {@code period} (an observation window: what is asserted is that nothing happens). */
    void awaitQuiet(Duration period) throws InterruptedException {
      Thread.sleep(period.toMillis());
    }

    /** Instances that one list showed on two live nodes, with the nodes. */
    synchronized Set<String> listedTwice() {
      Set<String> out = new java.util.TreeSet<>();
      for (List<NodeStatus> l : lists) {
        Map<String, String> on = new HashMap<>();
        for (NodeStatus n : l) {
          if (n.health() == NodeStatus.Health.READY) {
            for (String i : n.instances()) {
              String other = on.put(i, n.name());
              if (other != null) {
                out.add(i + " on " + other + " and " + n.name());
              }
            }
          }
        }
      }
      return out;
    }
  }
}
