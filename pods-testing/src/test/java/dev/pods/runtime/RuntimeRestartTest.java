package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.AgentStatus;
import dev.pods.imds.ImdsProtocol;
import dev.pods.imds.ImdsServer;
import dev.pods.spi.Cidr;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainState;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import dev.pods.testing.InMemoryStateStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restart safety with the fakes: two runtime objects over the same in-memory hypervisor, network driver, instance
 * files and state folder stand for a runtime and its successor in a new JVM. Adoption, rebuilding what is missing,
 * removal of unwanted leftovers (never another owner's), interrupted destroys, and self-heal.
 */
class RuntimeRestartTest {
  private static final Cidr RANGE = Cidr.parse("10.98.0.0/16");
  private static final String OWNER = "test/owner-1";

  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private DirectoryInstanceFiles files;
  private BootImage image;
  private final List<Runnable> tasks = new ArrayList<>();
  private final List<PodRuntime> runtimes = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    files = new DirectoryInstanceFiles(tmp.resolve("instances"));
    image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
  }

  @AfterEach
  void tearDown() {
    runtimes.forEach(PodRuntime::close);
    hv.close();
    net.close();
  }

  private PodRuntime runtime(String owner, String stateDir, String prefix) {
    PodRuntime r = PodRuntime.builder()
        .hypervisor(hv)
        .networkDriver(net)
        .instanceFiles(files)
        .images(name -> image)
        .stateDir(tmp.resolve(stateDir))
        .owner(owner)
        .namePrefix(prefix)
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .executor(tasks::add)
        .build();
    runtimes.add(r);
    return r;
  }

  private PodRuntime runtime() {
    return runtime(OWNER, "state", "t-");
  }

  private static Pod pod() {
    return Pod.builder().name("shop")
        .unit(Unit.builder().name("db").image("tiny").memoryMib(192).build())
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192)
            .script(Script.shell(Phase.RELOAD, "pods get +/unit/db/private_ips\n")).build())
        .build();
  }

  /** Runs the queued tasks, and those they queue, until none is left. */
  private void runTasks() {
    while (!tasks.isEmpty()) {
      List<Runnable> now = List.copyOf(tasks);
      tasks.clear();
      now.forEach(Runnable::run);
    }
  }

  private static DefaultInstance impl(Instance i) {
    return (DefaultInstance) i;
  }

  private static ImdsServer imds(Instance i) {
    ImdsServer s = impl(i).imds();
    assertThat(s).as("metadata service of %s", i.name()).isNotNull();
    return s;
  }

  private IpAddressPool privatePool() {
    return net.pool(IpPoolSpec.subnets("priv-10-98-0-0-16", RANGE, 30));
  }

  private static void initialPhase(Instance i) {
    Instant at = Instant.now();
    impl(i).onAgentEvent(new AgentEvent.RunStarted(i.id(), at, "r1", Trigger.FIRST_BOOT, "v", "h", List.of(0)));
    impl(i).onAgentEvent(new AgentEvent.RunFinished(i.id(), at, "r1", Trigger.FIRST_BOOT, true, -1, 0,
        Duration.ofMillis(5)));
  }

  /** The token on the instance's seed, as the guest's agent has it. */
  private String seedToken(Instance i) throws IOException {
    String conf = Files.readString(files.dir(i.domainName()).resolve("seed/pods-agent.conf"));
    return conf.lines().filter(l -> l.startsWith("token=")).findFirst().orElseThrow().substring(6);
  }

  /** GET /v1/spec from the instance's metadata service with that token; the HTTP status. */
  private static int getSpec(Instance i, String token) throws Exception {
    InetSocketAddress a = imds(i).address();
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + ImdsProtocol.PREFIX
        + "/spec")).header(ImdsProtocol.TOKEN_HEADER, token).build();
    return HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  /** The instance's seed file as it is now: its content and its file key (a new file has a new one). */
  private List<Object> seedFile(Instance i) throws IOException {
    Path iso = files.dir(i.domainName()).resolve("seed.iso");
    return List.of(Files.readString(iso), String.valueOf(Files.readAttributes(iso,
        java.nio.file.attribute.BasicFileAttributes.class).fileKey()));
  }

  private Map<String, String> subnets(Deployment d) {
    return d.instances().stream().collect(Collectors.toMap(Instance::name, i -> i.privateAddress().getHostAddress()));
  }

  /** Waits (up to 5 s) for an event delivered on a subscriber thread. */
  private static void await(java.util.function.BooleanSupplier p) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!p.getAsBoolean() && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(p.getAsBoolean()).as("condition within 5 s").isTrue();
  }

  private Path stateFolder() {
    return tmp.resolve("state/deployments");
  }

  // ------------------------------------------------------------------------------------------ adoption

  @Test
  void recordsGoToACustomStoreAndAnotherRuntimeAdoptsFromIt() {
    InMemoryStateStore store = new InMemoryStateStore();
    PodRuntime first = PodRuntime.builder().hypervisor(hv).networkDriver(net).instanceFiles(files)
        .images(name -> image).stateDir(tmp.resolve("locks")).stateStore(store).owner(OWNER).namePrefix("t-")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).executor(tasks::add).build();
    runtimes.add(first);
    Deployment d = first.deploy(pod());
    runTasks();
    assertThat(store.all()).singleElement()
        .satisfies(e -> assertThat(new String(e.value(), StandardCharsets.UTF_8)).contains("shop-web-1"));
    assertThat(tmp.resolve("locks/deployments")).as("no record files beside the custom store").doesNotExist();
    Map<String, String> addresses = subnets(d);
    first.close();

    PodRuntime second = PodRuntime.builder().hypervisor(hv).networkDriver(net).instanceFiles(files)
        .images(name -> image).stateDir(tmp.resolve("locks")).stateStore(store).owner(OWNER).namePrefix("t-")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).executor(tasks::add).build();
    runtimes.add(second);
    runTasks();
    Deployment a = second.deployment("shop").orElseThrow();
    assertThat(subnets(a)).isEqualTo(addresses);
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0", "t-shop-web-1");
    a.destroy();
    assertThat(store.all()).isEmpty();
  }

  @Test
  void aNewRuntimeAdoptsRunningInstancesWithTheirTokensStatesAndAddresses() throws Exception {
    PodRuntime first = runtime();
    Deployment d = first.deploy(pod());
    runTasks();
    initialPhase(d.instance("db", 0));
    initialPhase(d.instance("web", 0));
    Map<String, String> addresses = subnets(d);
    Map<String, Cidr> allocations = privatePool().allocations();
    try (var s = Files.list(stateFolder())) {
      Path f = s.findFirst().orElseThrow();
      assertThat(Files.getPosixFilePermissions(f)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
      assertThat(Files.getPosixFilePermissions(stateFolder()))
          .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }
    first.close();

    PodRuntime second = runtime();
    Deployment a = second.deployment("shop").orElseThrow();
    assertThat(second.deployments()).containsExactly(a);
    assertThat(second.deployment("nope")).isEmpty();
    assertThat(a.pod()).isEqualTo(pod());
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    a.events().subscribe(events::add);
    assertThat(tasks).as("nothing to rebuild").isEmpty();
    assertThat(a.instances()).extracting(Instance::name, Instance::state).containsExactly(
        org.assertj.core.groups.Tuple.tuple("db-0", InstanceState.READY),
        org.assertj.core.groups.Tuple.tuple("web-0", InstanceState.READY),
        org.assertj.core.groups.Tuple.tuple("web-1", InstanceState.BOOTING));
    assertThat(subnets(a)).isEqualTo(addresses);
    assertThat(privatePool().allocations()).isEqualTo(allocations);
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0", "t-shop-web-1");
    for (Instance i : a.instances()) {
      assertThat(getSpec(i, seedToken(i))).as("the guest's token, at the adopted service of %s", i.name())
          .isEqualTo(200);
      assertThat(getSpec(i, ImdsServer.newToken())).isEqualTo(401);
    }
    assertThat(imds(a.instance("db", 0)).initialized()).as("a later boot of db-0 is not its first").isTrue();
    assertThat(imds(a.instance("web", 1)).initialized()).isFalse();

    // web-1 finished its initial phase while no runtime listened: its agent reports its status again
    impl(a.instance("web", 1)).onAgentEvent(
        new AgentEvent.StatusReported("shop-web-1", Instant.now(), AgentStatus.RUNNING));
    a.awaitReady(Duration.ofSeconds(5));
    assertThat(imds(a.instance("web", 1)).initialized()).isTrue();
    await(() -> !events.isEmpty());
    assertThat(events).filteredOn(PodEvent.StateChanged.class::isInstance)
        .extracting(e -> e.instance() + ":" + ((PodEvent.StateChanged) e).to())
        .containsExactly("web-1:READY");
    // the record follows: a third runtime sees web-1 READY
    second.close();
    assertThat(runtime().deployment("shop").orElseThrow().isReady()).isTrue();
  }

  @Test
  void anAdoptedReadyInstanceCountsAsInitializedForWaitsAndRestarts() {
    PodRuntime first = runtime();
    Deployment d = first.deploy(pod());
    runTasks();
    d.instances().forEach(RuntimeRestartTest::initialPhase);
    first.close();

    Deployment a = runtime().deployment("shop").orElseThrow();
    a.await(dev.pods.Wait.forPhase(Phase.INITIAL), Duration.ofSeconds(1));
    Instance db = a.instance("db", 0);
    db.restart(Duration.ZERO);
    assertThat(db.state()).isEqualTo(InstanceState.BOOTING);
    assertThat(hv.state(db.domainName())).isEqualTo(DomainState.RUNNING);
  }

  @Test
  void whatVanishedWhileNoRuntimeRanIsRestartedOnItsKeptFilesOrRebuiltWhenTheyAreGone() throws Exception {
    PodRuntime first = runtime();
    Deployment d = first.deploy(pod());
    runTasks();
    d.instances().forEach(RuntimeRestartTest::initialPhase);
    Map<String, String> tokens = new java.util.HashMap<>();
    Map<String, Object> seeds = new java.util.HashMap<>();
    for (Instance i : d.instances()) {
      tokens.put(i.name(), seedToken(i));
      seeds.put(i.name(), seedFile(i));
    }
    Map<String, String> addresses = subnets(d);
    first.close();
    hv.undefine("t-shop-db-0"); // the domain is gone (its files are kept)
    net.delete("shop-web-0"); // the network is gone (as after a host reboot; its domain and files are kept)
    files.delete("t-shop-web-1"); // the files are gone (the domain is still defined)

    PodRuntime second = runtime();
    Deployment a = second.deployment("shop").orElseThrow();
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    a.events().subscribe(events::add);
    assertThat(hv.domainNames()).as("web-1 without files is removed to be rebuilt; web-0's domain is kept")
        .containsExactly("t-shop-web-0");
    assertThat(hv.state("t-shop-web-0")).as("powered off: its tap went with its network")
        .isEqualTo(DomainState.SHUT_OFF);
    runTasks();
    assertThat(a.instances()).extracting(Instance::state).containsOnly(InstanceState.BOOTING);
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0", "t-shop-web-1");
    for (Instance i : a.instances()) {
      assertThat(hv.state(i.domainName())).isEqualTo(DomainState.RUNNING);
      assertThat(net.find(i.id())).isPresent();
      assertThat(seedToken(i)).isEqualTo(tokens.get(i.name()));
    }
    for (String kept : List.of("db-0", "web-0")) {
      Instance i = a.instances().stream().filter(x -> x.name().equals(kept)).findFirst().orElseThrow();
      assertThat(imds(i).initialized()).as("%s: a restart on its kept disk runs its reboot phase", kept).isTrue();
      assertThat(seedFile(i)).as("%s: its seed is the one of its first boot", kept).isEqualTo(seeds.get(kept));
      assertThat(hv.find(i.domainName()).orElseThrow().spec().seedIso())
          .isEqualTo(files.dir(i.domainName()).resolve("seed.iso"));
    }
    assertThat(imds(a.instance("web", 1)).initialized()).as("a fresh disk: the initial phase runs again").isFalse();
    await(() -> events.stream().filter(e -> e instanceof PodEvent.StateChanged c
        && c.to() == InstanceState.CREATING).count() == 3);
    Map<String, String> why = events.stream().filter(e -> e instanceof PodEvent.StateChanged c
            && c.to() == InstanceState.CREATING).map(e -> (PodEvent.StateChanged) e)
        .collect(Collectors.toMap(PodEvent.StateChanged::instance, c -> String.valueOf(c.reason())));
    assertThat(why.get("db-0")).isEqualTo("its domain was gone when a new runtime adopted it; restarting it on its "
        + "kept disk with the same addresses");
    assertThat(why.get("web-0")).isEqualTo("its network was gone when a new runtime adopted it; its domain, still "
        + "running, was powered off; restarting it on its kept disk with the same addresses");
    assertThat(why.get("web-1")).isEqualTo("its files were gone when a new runtime adopted it; rebuilding it on a "
        + "fresh disk with the same addresses (its initial phase runs again)");
    assertThat(subnets(a)).isEqualTo(addresses);
    assertThat(privatePool().allocations()).hasSize(3);
    a.instances().forEach(RuntimeRestartTest::initialPhase);
    a.awaitReady(Duration.ofSeconds(5));
    a.destroy();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(net.list(OWNER)).isEmpty();
    assertThat(privatePool().allocations()).isEmpty();
  }

  @Test
  void filesOfAnInterruptedFirstBuildAreNotBootedButBuiltAgain() throws Exception {
    PodRuntime first = runtime();
    first.deploy(pod()); // recorded; its builds never run (the JVM "dies" before)
    files.prepare("t-shop-db-0", new dev.pods.spi.InstanceFiles.Seed("db-0", new byte[0], "half written\n",
        Map.of()), null, 0); // what a build cut short while writing files may leave
    first.close();
    tasks.clear();

    Deployment a = runtime().deployment("shop").orElseThrow();
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    a.events().subscribe(events::add);
    runTasks();
    Instance db = a.instance("db", 0);
    assertThat(db.state()).isEqualTo(InstanceState.BOOTING);
    assertThat(seedToken(db)).as("a seed of its own, written again").isNotEmpty();
    assertThat(imds(db).initialized()).isFalse();
    await(() -> events.stream().anyMatch(e -> e instanceof PodEvent.StateChanged c && c.instance().equals("db-0")
        && c.to() == InstanceState.CREATING));
    assertThat(events).filteredOn(e -> e instanceof PodEvent.StateChanged c && c.instance().equals("db-0")
        && c.to() == InstanceState.CREATING).extracting(e -> ((PodEvent.StateChanged) e).reason())
        .containsExactly("its first build had not finished when a new runtime adopted it; rebuilding it on a fresh "
            + "disk with the same addresses (its initial phase runs again)");
  }

  @Test
  void aHostRebootRestartsOnTheKeptRootDiskAndAKeptSeedWithoutItsRootDiskIsRebuilt() throws Exception {
    image = new BootImage(image.kernel(), image.initrd(), image.cmdline(),
        Files.writeString(tmp.resolve("base.qcow2"), "base"));
    PodRuntime first = runtime();
    Deployment d = first.deploy(pod());
    runTasks();
    d.instances().forEach(RuntimeRestartTest::initialPhase);
    Path webDisk = files.dir("t-shop-web-0").resolve("root.qcow2");
    Files.writeString(webDisk, "written by the guest\n", java.nio.file.StandardOpenOption.APPEND);
    first.close();
    for (Instance i : d.instances()) { // the host reboot: every domain stopped, every network gone
      hv.destroy(i.domainName());
      net.delete(i.id());
    }
    Files.delete(files.dir("t-shop-web-1").resolve("root.qcow2")); // web-1's disk is gone, its seed kept

    Deployment a = runtime().deployment("shop").orElseThrow();
    runTasks();
    assertThat(a.instances()).extracting(Instance::state).containsOnly(InstanceState.BOOTING);
    assertThat(Files.readString(webDisk)).as("web-0 boots its kept disk").endsWith("written by the guest\n");
    assertThat(hv.find("t-shop-web-0").orElseThrow().spec().disks()).extracting(x -> x.path())
        .containsExactly(webDisk);
    assertThat(imds(a.instance("web", 0)).initialized()).isTrue();
    assertThat(imds(a.instance("db", 0)).initialized()).isTrue();
    assertThat(imds(a.instance("web", 1)).initialized()).as("rebuilt: its initial phase runs again").isFalse();
    assertThat(Files.exists(files.dir("t-shop-web-1").resolve("root.qcow2"))).isTrue();
    assertThat(hv.domainNames()).hasSize(3);
    assertThat(net.list(OWNER)).hasSize(3);
  }

  @Test
  void aShutOffDomainIsStartedAndWhenThatFailsItsInstanceIsRemovedAndFailed() throws Exception {
    PodRuntime first = runtime();
    Deployment d = first.deploy(pod());
    runTasks();
    initialPhase(d.instance("web", 0));
    first.close();
    hv.destroy("t-shop-web-0"); // powered off while no runtime ran
    hv.destroy("t-shop-db-0");
    hv.failNext("start");

    Deployment a = runtime().deployment("shop").orElseThrow();
    List<Runnable> order = List.copyOf(tasks);
    tasks.clear();
    order.get(0).run(); // db-0: its start fails
    order.get(1).run(); // web-0: started again, as it was (no rebuild: same disk)
    Instance db = a.instance("db", 0);
    Instance web = a.instance("web", 0);
    assertThat(db.state()).isEqualTo(InstanceState.FAILED);
    assertThat(hv.state("t-shop-db-0")).isEqualTo(DomainState.MISSING);
    assertThat(net.find(db.id())).isEmpty();
    assertThat(Files.exists(files.dir("t-shop-db-0"))).isFalse();
    assertThat(hv.state("t-shop-web-0")).isEqualTo(DomainState.RUNNING);
    assertThat(web.state()).isEqualTo(InstanceState.BOOTING);
    assertThat(imds(web).initialized()).as("web-0 finished its initial phase on this disk").isTrue();
  }

  @Test
  void aDeployThatCrashedBeforeBuildingAnythingIsFinishedWithoutAllocatingTwice() {
    PodRuntime first = runtime();
    first.deploy(pod());
    Map<String, Cidr> allocations = privatePool().allocations();
    tasks.clear(); // the JVM died: the creation tasks never run
    first.close();

    PodRuntime second = runtime();
    Deployment a = second.deployment("shop").orElseThrow();
    assertThat(a.instances()).extracting(Instance::state).containsOnly(InstanceState.PENDING);
    runTasks();
    assertThat(a.instances()).extracting(Instance::state).containsOnly(InstanceState.BOOTING);
    assertThat(privatePool().allocations()).isEqualTo(allocations);
    assertThat(hv.domainNames()).hasSize(3);
    assertThat(net.list(OWNER)).hasSize(3);
  }

  @Test
  void leftoversOfTheOwnerAreRemovedAndAnotherOwnersThingsAreNotTouched() throws Exception {
    PodRuntime other = runtime("test/owner-2", "state-2", "o-");
    Deployment theirs = other.deploy(Pod.builder().name("other")
        .unit(Unit.builder().name("a").image("tiny").memoryMib(192).build()).build());
    PodRuntime first = runtime();
    Deployment d = first.deploy(pod());
    runTasks();
    // leftovers of the owner that no record wants: a domain with its files and network, and a lone network
    var spec = hv.find("t-shop-db-0").orElseThrow().spec();
    hv.define(spec.toBuilder().name("t-gone-x-0").metadata(new DomainMetadata(OWNER, "gone", "x", 0, "v")).build());
    Files.createDirectories(files.dir("t-gone-x-0"));
    var netSpec = net.find("shop-db-0").orElseThrow().spec();
    privatePool().allocate("gone-x-0");
    net.create(netSpec.toBuilder().instanceId("gone-x-0").build());
    privatePool().allocate("lone-y-1");
    net.create(netSpec.toBuilder().instanceId("lone-y-1").build());
    first.close();

    PodRuntime second = runtime();
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0", "t-shop-web-1",
        "o-other-a-0");
    assertThat(Files.exists(files.dir("t-gone-x-0"))).isFalse();
    assertThat(net.list(OWNER)).extracting(n -> n.spec().instanceId())
        .containsExactlyInAnyOrder("shop-db-0", "shop-web-0", "shop-web-1");
    assertThat(privatePool().allocations().keySet())
        .containsExactlyInAnyOrder("shop-db-0", "shop-web-0", "shop-web-1", "other-a-0");
    // the other owner's deployment is intact, and its state folder is not this runtime's
    assertThat(net.list("test/owner-2")).hasSize(1);
    assertThat(hv.state("o-other-a-0")).isEqualTo(DomainState.RUNNING);
    assertThat(second.deployments()).extracting(x -> x.pod().name()).containsExactly("shop");
    assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.BOOTING);
    theirs.destroy();
  }

  @Test
  void anInstanceWhoseDomainNameIsNowAnotherOwnersFailsAndThatDomainIsKept() throws Exception {
    PodRuntime first = runtime();
    first.deploy(pod());
    runTasks();
    first.close();
    var spec = hv.find("t-shop-db-0").orElseThrow().spec();
    hv.undefine("t-shop-db-0");
    hv.define(spec.toBuilder().metadata(new DomainMetadata("test/owner-2", "mine", "db", 0, "v")).build());

    PodRuntime second = runtime();
    Instance db = second.deployment("shop").orElseThrow().instance("db", 0);
    runTasks();
    assertThat(db.state()).isEqualTo(InstanceState.FAILED);
    assertThat(db.failure()).get().asString().contains("belongs to owner 'test/owner-2'");
    assertThat(hv.find("t-shop-db-0").orElseThrow().metadata().owner()).isEqualTo("test/owner-2");
    assertThat(second.deployment("shop").orElseThrow().instance("web", 0).state()).isEqualTo(InstanceState.BOOTING);
  }

  @Test
  void aStatusReportSettlesOnlyAnAdoptedInstanceNotOneWhoseRunsTheRuntimeSees() {
    PodRuntime rt = runtime();
    Deployment d = rt.deploy(pod());
    runTasks();
    Instance db = d.instance("db", 0);
    // e.g. the agent of the boot before a restart: the runtime sees this boot's runs itself
    impl(db).onAgentEvent(new AgentEvent.StatusReported(db.id(), Instant.now(), AgentStatus.RUNNING));
    assertThat(db.state()).isEqualTo(InstanceState.BOOTING);
    rt.close();

    Instance adopted = runtime().deployment("shop").orElseThrow().instance("db", 0);
    impl(adopted).onAgentEvent(new AgentEvent.RunStarted(db.id(), Instant.now(), "r9", Trigger.FIRST_BOOT, "v",
        "h", List.of(0)));
    impl(adopted).onAgentEvent(new AgentEvent.StatusReported(db.id(), Instant.now(), AgentStatus.RUNNING));
    assertThat(adopted.state()).as("its run was seen: the run's end decides").isEqualTo(InstanceState.INITIALIZING);
  }

  @Test
  void aBootPhaseFailureReportedAfterARestartFailsTheInstance() {
    PodRuntime first = runtime();
    first.deploy(pod());
    runTasks();
    first.close();
    Deployment a = runtime().deployment("shop").orElseThrow();
    Instance db = a.instance("db", 0);
    impl(db).onAgentEvent(new AgentEvent.StatusReported(db.id(), Instant.now(), AgentStatus.INITIALIZING));
    assertThat(db.state()).isEqualTo(InstanceState.BOOTING);
    impl(db).onAgentEvent(new AgentEvent.StatusReported(db.id(), Instant.now(), AgentStatus.FAULT));
    assertThat(db.state()).isEqualTo(InstanceState.FAILED);
    assertThatThrownBy(() -> a.awaitReady(Duration.ofSeconds(5))).hasMessageContaining("boot phase");
  }

  @Test
  void aRecordOfAnotherOwnerInTheFolderIsNeitherAdoptedNorItsThingsRemoved() {
    PodRuntime first = runtime("test/owner-2", "state", "t-");
    first.deploy(pod());
    runTasks();
    first.close();
    PodRuntime second = runtime();
    assertThat(second.deployments()).isEmpty();
    assertThat(hv.domainNames()).hasSize(3);
    assertThat(net.list("test/owner-2")).hasSize(3);
  }

  @Test
  void anUnreadableRecordStopsTheRemovalOfLeftovers() throws IOException {
    PodRuntime first = runtime();
    first.deploy(pod());
    runTasks();
    first.close();
    try (var s = Files.list(stateFolder())) {
      Files.writeString(s.findFirst().orElseThrow(), "{\"format\": 1, \"pod\": ");
    }
    PodRuntime second = runtime();
    assertThat(second.deployments()).isEmpty();
    assertThat(hv.domainNames()).as("they may be wanted by the unreadable record").hasSize(3);
    assertThat(net.list(OWNER)).hasSize(3);
  }

  @Test
  void aDestroyThatACrashInterruptedIsFinishedByTheNextRuntime() throws IOException {
    PodRuntime first = runtime();
    Deployment d = first.deploy(pod());
    runTasks();
    net.failNext(InMemoryNetworkDriver.Operation.DELETE);
    assertThatThrownBy(d::destroy).isInstanceOf(PodsException.class);
    first.close();
    assertThat(net.list(OWNER)).isNotEmpty();

    PodRuntime second = runtime();
    assertThat(second.deployments()).isEmpty();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(net.list(OWNER)).isEmpty();
    assertThat(privatePool().allocations()).isEmpty();
    try (var s = Files.list(stateFolder())) {
      assertThat(s.toList()).isEmpty();
    }
  }

  // ------------------------------------------------------------------------------------------ self-heal

  @Test
  void aDomainThatVanishesIsRecreatedWithTheSameAddressesAndToken() throws Exception {
    PodRuntime rt = runtime();
    Deployment d = rt.deploy(pod());
    runTasks();
    d.instances().forEach(RuntimeRestartTest::initialPhase);
    d.awaitReady(Duration.ofSeconds(5));
    Instance web0 = d.instance("web", 0);
    String token = seedToken(web0);
    String address = web0.privateAddress().getHostAddress();
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    d.events().subscribe(events::add);

    hv.undefine(web0.domainName()); // someone removed it behind the runtime's back
    runTasks();
    assertThat(hv.state(web0.domainName())).isEqualTo(DomainState.RUNNING);
    assertThat(web0.state()).isEqualTo(InstanceState.BOOTING);
    assertThat(seedToken(web0)).isEqualTo(token);
    assertThat(web0.privateAddress().getHostAddress()).isEqualTo(address);
    assertThat(imds(web0).initialized()).isFalse();
    assertThat(getSpec(web0, token)).isEqualTo(200);
    assertThat(privatePool().allocations()).hasSize(3);
    initialPhase(web0);
    d.awaitReady(Duration.ofSeconds(5));
    // the feed delivers on its own threads: wait for the state changes themselves (other events come in between)
    await(() -> events.stream().filter(PodEvent.StateChanged.class::isInstance).count() >= 4);
    assertThat(events).filteredOn(PodEvent.StateChanged.class::isInstance)
        .extracting(e -> ((PodEvent.StateChanged) e).from() + "->" + ((PodEvent.StateChanged) e).to())
        .containsExactly("READY->CREATING", "CREATING->BOOTING", "BOOTING->INITIALIZING", "INITIALIZING->READY");
    assertThat(events).filteredOn(PodEvent.StateChanged.class::isInstance).first()
        .asString().contains("vanished");

    // a deliberate destroy is not fought
    d.destroy();
    runTasks();
    assertThat(hv.domainNames()).isEmpty();
    assertThat(net.list(OWNER)).isEmpty();
  }

  @Test
  void aDomainThatVanishedWhileTheHypervisorConnectionWasLostIsRecreatedAfterTheReconnection() {
    PodRuntime rt = runtime();
    Deployment d = rt.deploy(pod());
    runTasks();
    d.instances().forEach(RuntimeRestartTest::initialPhase);
    hv.disconnect();
    hv.undefine("t-shop-web-1"); // its event is lost
    runTasks();
    assertThat(hv.state("t-shop-web-1")).isEqualTo(DomainState.MISSING);
    hv.reconnect();
    runTasks();
    assertThat(hv.state("t-shop-web-1")).isEqualTo(DomainState.RUNNING);
    assertThat(d.instance("web", 1).state()).isEqualTo(InstanceState.BOOTING);
    assertThat(d.instance("web", 0).state()).isEqualTo(InstanceState.READY);
    assertThat(hv.domainNames()).hasSize(3);
  }

  @Test
  void aScaleDownIsNotFoughtAndANewRuntimeAdoptsTheScaledPod() {
    PodRuntime rt = runtime();
    Deployment d = rt.deploy(pod());
    runTasks();
    d.instances().forEach(RuntimeRestartTest::initialPhase);
    d.scale("web", 1);
    runTasks(); // the hypervisor's events of the removal are handled here
    assertThat(hv.domainNames()).containsExactlyInAnyOrder("t-shop-db-0", "t-shop-web-0");
    rt.close();

    Deployment a = runtime().deployment("shop").orElseThrow();
    assertThat(a.pod().unit("web").orElseThrow().count()).isEqualTo(1);
    assertThat(a.instances()).extracting(Instance::name, Instance::state).containsExactly(
        org.assertj.core.groups.Tuple.tuple("db-0", InstanceState.READY),
        org.assertj.core.groups.Tuple.tuple("web-0", InstanceState.READY));
    assertThat(privatePool().allocations()).containsOnlyKeys("shop-db-0", "shop-web-0");
  }

  @Test
  void aDomainThatMerelyStoppedIsNotRecreatedButItsInstanceIsStopped() {
    PodRuntime rt = runtime();
    Deployment d = rt.deploy(pod());
    runTasks();
    d.instances().forEach(RuntimeRestartTest::initialPhase);
    hv.destroy("t-shop-db-0"); // powered off, still defined
    runTasks();
    assertThat(hv.state("t-shop-db-0")).isEqualTo(DomainState.SHUT_OFF); // the same domain: no recreation
    assertThat(d.instance("db", 0).state()).isEqualTo(InstanceState.STOPPED); // no longer claims to be READY
    assertThat(d.instance("db", 0).status().reason()).startsWith("its domain was destroyed at ");
  }
}
