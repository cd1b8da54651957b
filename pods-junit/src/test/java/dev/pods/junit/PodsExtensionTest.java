package dev.pods.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * The extension's behaviour, run through the JUnit engine itself ({@link EngineTestKit}) on test classes nested
 * here, with the {@link FakeRuntimeFactory} (in-memory hypervisor and network, real runtime and metadata services,
 * stand-in agents). Each test checks, after the engine finished, that the run left nothing: no domain, network,
 * instance folder or deployment, and a closed runtime. The nested classes are not run by Surefire themselves (they
 * are not top-level {@code *Test} classes).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PodsExtensionTest {
  /** What the nested test classes saw, in order. */
  static final List<String> SEEN = new CopyOnWriteArrayList<>();
  static final List<Deployment> DEPLOYMENTS = new CopyOnWriteArrayList<>();

  @BeforeEach
  void clear() {
    SEEN.clear();
    DEPLOYMENTS.clear();
    FakeRuntimeFactory.RUNS.clear();
  }

  @AfterEach
  void deleteRuns() throws Exception {
    for (FakeRuntimeFactory.FakeRun r : FakeRuntimeFactory.RUNS) {
      r.delete();
    }
  }

  static Pod pod(String name, String... initialLines) {
    Unit.Builder u = Unit.builder().name("app").image("tiny").memoryMib(192);
    if (initialLines.length > 0) {
      u.script(Script.shell(Phase.INITIAL, String.join("\n", initialLines) + "\n"));
    }
    return Pod.builder().name(name).unit(u.build()).build();
  }

  private static EngineExecutionResults run(Class<?> type) {
    return EngineTestKit.engine("junit-jupiter").selectors(selectClass(type)).execute();
  }

  private static List<Throwable> failures(Events events) {
    return events.failed().stream()
        .map(e -> e.getRequiredPayload(TestExecutionResult.class).getThrowable().orElseThrow()).toList();
  }

  /** The single fake run of the engine execution, closed and empty. */
  private static FakeRuntimeFactory.FakeRun ranCleanly() throws Exception {
    assertThat(FakeRuntimeFactory.RUNS).as("runtimes made in the run").hasSize(1);
    FakeRuntimeFactory.FakeRun r = FakeRuntimeFactory.RUNS.get(0);
    assertThat(r.closed).as("runtime closed at the end of the run").isTrue();
    assertThat(r.leftovers()).as("left after the run").isEmpty();
    assertThat(r.agentFailures).as("stand-in agent failures").isEmpty();
    for (Deployment d : r.deployed) {
      assertThat(d.instances()).extracting(Instance::state).containsOnly(InstanceState.DESTROYED);
    }
    return r;
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  @PodTest(runtime = FakeRuntimeFactory.class)
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  static class PerClass {
    @Deploy static Pod shop = pod("shop", "echo shop up");

    @BeforeAll
    static void before(Deployment d) {
      SEEN.add("beforeAll ready=" + d.isReady());
    }

    @Test
    @Order(1)
    void one(Deployment d) {
      DEPLOYMENTS.add(d);
      SEEN.add("one " + d.pod().name() + " ready=" + d.isReady() + " " + d.instance("app", 0).recentOutput());
    }

    @Test
    @Order(2)
    void two(Deployment d) {
      DEPLOYMENTS.add(d);
      SEEN.add("two");
    }

    @AfterAll
    static void after(Deployment d) {
      SEEN.add("afterAll " + d.instance("app", 0).state());
    }
  }

  @Test
  void aStaticPodIsDeployedOnceForTheClassAndDestroyedAfterItsAfterAll() throws Exception {
    EngineExecutionResults r = run(PerClass.class);

    r.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(SEEN).containsExactly(
        "beforeAll ready=true", "one shop-1 ready=true [shop up]", "two", "afterAll READY");
    assertThat(DEPLOYMENTS.get(0)).isSameAs(DEPLOYMENTS.get(1));
    assertThat(ranCleanly().deployed).hasSize(1);
  }

  @PodTest(runtime = FakeRuntimeFactory.class)
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  static class PerMethod {
    @Deploy Pod scratch = pod("scratch", "echo scratch up");

    @BeforeEach
    void before(Deployment d) {
      SEEN.add("beforeEach " + d.pod().name() + " ready=" + d.isReady());
    }

    @Test
    @Order(1)
    void one(Deployment d) {
      DEPLOYMENTS.add(d);
    }

    @Test
    @Order(2)
    void two(Deployment d) {
      SEEN.add("two sees the first " + DEPLOYMENTS.get(0).instance("app", 0).state());
      DEPLOYMENTS.add(d);
    }

    @AfterEach
    void after(Deployment d) {
      SEEN.add("afterEach " + d.pod().name() + " " + d.instance("app", 0).state());
    }
  }

  @Test
  void anInstancePodIsDeployedForEveryTestAndDestroyedAfterItsAfterEach() throws Exception {
    EngineExecutionResults r = run(PerMethod.class);

    r.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(SEEN).containsExactly(
        "beforeEach scratch-1 ready=true", "afterEach scratch-1 READY",
        "beforeEach scratch-2 ready=true", "two sees the first DESTROYED", "afterEach scratch-2 READY");
    assertThat(DEPLOYMENTS.get(0)).isNotSameAs(DEPLOYMENTS.get(1));
    assertThat(ranCleanly().deployed).hasSize(2);
  }

  // ------------------------------------------------------------------------------------------------ injection

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class Injection {
    @Deploy static Pod shop = pod("shop");
    @Deploy(templates = {"cache.md", "queue.md"}, name = "backend") static Deployment backend;
    @PodName("shop") static Deployment shopField;
    @Deploy Pod mine = pod("mine");
    @PodName("mine") Deployment mineField;

    @Test
    void byName(@PodName("shop") Deployment s, @PodName("backend") Deployment b, @PodName("mine") Deployment m,
        PodRuntime runtime) {
      SEEN.add("shop " + s.pod().name() + " field same=" + (s == shopField));
      SEEN.add("mine " + m.pod().name() + " field same=" + (m == mineField));
      SEEN.add("backend " + b.pod().name() + " field same=" + (b == backend) + " "
          + b.instances().stream().map(i -> i.name() + "=" + i.state() + i.recentOutput()).toList());
      SEEN.add("runtime deployments " + runtime.deployments().stream().map(d -> d.pod().name()).sorted().toList());
    }

    @Test
    void ambiguous(Deployment d) {
      SEEN.add("ambiguous ran");
    }

    @Test
    void unknown(@PodName("nope") Deployment d) {
      SEEN.add("unknown ran");
    }
  }

  @Test
  void deploymentsAreInjectedByPodNameIntoParametersAndFields() throws Exception {
    EngineExecutionResults r = run(Injection.class);

    r.testEvents().assertStatistics(s -> s.started(3).succeeded(1).failed(2));
    // the n of <name>-<n> follows the order JUnit lists the fields in, which is not the declaration order
    assertThat(SEEN).hasSize(4);
    assertThat(SEEN.get(0)).matches("shop shop-\\d field same=true");
    assertThat(SEEN.get(1)).matches("mine mine-\\d field same=true");
    assertThat(SEEN.get(2)).matches("backend backend-\\d field same=true \\[cache-0=READY\\[cache warming up\\], "
        + "cache-1=READY\\[cache warming up\\], queue-0=READY\\[queue up\\]\\]");
    assertThat(SEEN.get(3)).matches("runtime deployments \\[backend-\\d, mine-\\d, shop-\\d\\]");
    assertThat(failures(r.testEvents())).extracting(Throwable::getMessage).containsExactlyInAnyOrder(
        "parameter d of Injection.ambiguous: several pods are deployed [backend, mine, shop]; say which with "
            + "@PodName",
        "parameter d of Injection.unknown asks for pod 'nope', but the pods deployed are [backend, mine, shop]");
    ranCleanly();
  }

  // ------------------------------------------------------------------------------------------------ failures

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class FailingTest {
    @Deploy static Pod shop = pod("shop");
    @Deploy Pod each = pod("each");

    @Test
    void fails(@PodName("each") Deployment d) {
      DEPLOYMENTS.add(d);
      throw new AssertionError("the test failed");
    }
  }

  @Test
  void aFailingTestStillTearsEverythingDown() throws Exception {
    EngineExecutionResults r = run(FailingTest.class);

    r.testEvents().assertStatistics(s -> s.started(1).failed(1));
    assertThat(failures(r.testEvents())).extracting(Throwable::getMessage).containsExactly("the test failed");
    assertThat(ranCleanly().deployed).hasSize(2);
  }

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class NotReadyForTheClass {
    @Deploy static Pod fine = pod("fine", "echo fine");
    @Deploy static Pod broken = pod("broken", "echo installing", "echo E: no such package", "exit 3");

    @Test
    void never() {
      SEEN.add("never ran");
    }
  }

  @Test
  void aPodThatFailsItsInitialPhaseFailsTheClassWithItsOutputAndIsDestroyedWithItsSiblings() throws Exception {
    EngineExecutionResults r = run(NotReadyForTheClass.class);

    r.testEvents().assertStatistics(s -> s.started(0));
    List<Throwable> failed = failures(r.containerEvents());
    assertThat(failed).hasSize(1);
    assertThat(failed.get(0).getMessage())
        .containsPattern("pod broken of NotReadyForTheClass.broken \\(deployed as broken-\\d\\) did not get ready")
        .contains("exit code 3")
        .contains("E: no such package");
    assertThat(SEEN).isEmpty();
    // both were deployed before either was awaited, so the sibling was deployed, and destroyed, too
    assertThat(ranCleanly().deployed).extracting(d -> d.pod().name().replaceAll("-\\d$", ""))
        .containsExactlyInAnyOrder("fine", "broken");
  }

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class NotReadyForTheTest {
    @Deploy(readyTimeoutSeconds = 1) Pod slow = pod("slow", "echo step 1", "echo waiting for the database",
        "sleep infinity");

    @Test
    void never() {
      SEEN.add("never ran");
    }
  }

  @Test
  void aPodThatIsNotReadyInTimeFailsTheTestWithItsLastLinesAndIsDestroyed() throws Exception {
    EngineExecutionResults r = run(NotReadyForTheTest.class);

    r.testEvents().assertStatistics(s -> s.started(1).failed(1));
    assertThat(failures(r.testEvents()).get(0).getMessage())
        .contains("pod slow of NotReadyForTheTest.slow (deployed as slow-1) did not get ready")
        .contains("instance app-0 is INITIALIZING")
        .contains("step 1\n  waiting for the database");
    assertThat(SEEN).isEmpty();
    ranCleanly();
  }

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class WrongField {
    @Deploy static String shop = "shop";

    @Test
    void never() {
      SEEN.add("never ran");
    }
  }

  @Test
  void aDeployAnnotationOnAnotherTypeFailsTheClassClearly() {
    EngineExecutionResults r = run(WrongField.class);

    assertThat(failures(r.containerEvents())).extracting(Throwable::getMessage).containsExactly(
        "@Deploy on dev.pods.junit.PodsExtensionTest$WrongField.shop of type java.lang.String: @Deploy goes on a "
            + "field of type dev.pods.Pod or dev.pods.Deployment");
    assertThat(SEEN).isEmpty();
    assertThat(FakeRuntimeFactory.RUNS).as("no runtime needed").isEmpty();
  }

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class CamelCaseTemplateField {
    @Deploy(templates = "cache.md") static Deployment myCache;

    @Test
    void never() {
      SEEN.add("never ran");
    }
  }

  @Test
  void aTemplateFieldWhoseNameIsNoPodNameAsksForOne() {
    EngineExecutionResults r = run(CamelCaseTemplateField.class);

    assertThat(failures(r.containerEvents())).extracting(Throwable::getMessage).containsExactly(
        "@Deploy on dev.pods.junit.PodsExtensionTest$CamelCaseTemplateField.myCache: the pod's name 'myCache' is "
            + "not a DNS label (1-63 lower-case letters, digits or inner '-'); give one with @Deploy(name = ...)");
    assertThat(FakeRuntimeFactory.RUNS).isEmpty();
  }

  // ------------------------------------------------------------------------------------------------ skipping

  @PodTest(runtime = FakeRuntimeFactory.Unavailable.class)
  static class OnAHostWithoutVms {
    @Deploy static Pod shop = pod("shop");

    @Test
    void never() {
      SEEN.add("never ran");
    }
  }

  @Test
  void aClassIsSkippedWithWhatIsMissingWhenTheHostCannotRunPods() {
    EngineExecutionResults r = run(OnAHostWithoutVms.class);

    assertThat(r.containerEvents().skipped().stream().map(e -> e.getRequiredPayload(String.class)).toList())
        .containsExactly("pods cannot run on this host: missing root (CAP_NET_ADMIN); qemu-system-x86_64 "
            + "(Debian package qemu-system)");
    r.testEvents().assertStatistics(s -> s.started(0));
    assertThat(SEEN).isEmpty();
    assertThat(FakeRuntimeFactory.RUNS).isEmpty();
  }

  // ------------------------------------------------------------------------------------------------ parallel

  static final CyclicBarrier BOTH_DEPLOYED = new CyclicBarrier(2);
  static final List<String> IDS = new CopyOnWriteArrayList<>();

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class ParallelA {
    @Deploy static Pod shop = pod("shop", "echo up");

    @Test
    void meet(Deployment d) throws Exception {
      IDS.add(d.instance("app", 0).id());
      BOTH_DEPLOYED.await(30, TimeUnit.SECONDS);
      SEEN.add("A ready=" + d.isReady());
    }
  }

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class ParallelB {
    @Deploy static Pod shop = pod("shop", "echo up");

    @Test
    void meet(Deployment d) throws Exception {
      IDS.add(d.instance("app", 0).id());
      BOTH_DEPLOYED.await(30, TimeUnit.SECONDS);
      SEEN.add("B ready=" + d.isReady());
    }
  }

  @Test
  void twoClassesDeployingTheSamePodInParallelGetDistinctInstances() throws Exception {
    IDS.clear();
    BOTH_DEPLOYED.reset();
    EngineExecutionResults r = EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(ParallelA.class), selectClass(ParallelB.class))
        .configurationParameters(Map.of(
            "junit.jupiter.execution.parallel.enabled", "true",
            "junit.jupiter.execution.parallel.mode.default", "concurrent",
            "junit.jupiter.execution.parallel.mode.classes.default", "concurrent",
            "junit.jupiter.execution.parallel.config.strategy", "fixed",
            "junit.jupiter.execution.parallel.config.fixed.parallelism", "2"))
        .execute();

    r.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(SEEN).containsExactlyInAnyOrder("A ready=true", "B ready=true");
    assertThat(IDS).hasSize(2).doesNotHaveDuplicates().allMatch(id -> id.length() <= 40);
    List<String> names = new ArrayList<>();
    ranCleanly().deployed.forEach(d -> names.add(d.pod().name()));
    assertThat(names).containsExactlyInAnyOrder("shop-1", "shop-2");
  }

  // ------------------------------------------------------------------------------------------------ nesting, names

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class Outer {
    @Deploy static Pod outer = pod("outer");

    @Nested
    class Inner {
      @Deploy Pod inner = pod("inner");

      @Test
      void seesItsOwnAndTheOuterPods(@PodName("outer") Deployment o, @PodName("inner") Deployment i) {
        SEEN.add(o.pod().name() + " " + o.isReady() + ", " + i.pod().name() + " " + i.isReady());
      }
    }
  }

  @Test
  void aNestedClassSeesTheEnclosingClassPodsAndDeploysItsOwn() throws Exception {
    EngineExecutionResults r = run(Outer.class);

    r.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
    assertThat(SEEN).containsExactly("outer-1 true, inner-2 true");
    assertThat(ranCleanly().deployed).hasSize(2);
  }

  static final String LONG_NAME = "a-pod-with-a-name-as-long-as-a-dns-label-may-be-sixty-three-chr";

  @PodTest(runtime = FakeRuntimeFactory.class)
  static class LongName {
    @Deploy static Pod pod = Pod.builder().name(LONG_NAME)
        .unit(Unit.builder().name("a-unit-with-a-long-name-too").image("tiny").count(2).build()).build();

    @Test
    void deployed(Deployment d) {
      d.instances().forEach(i -> SEEN.add(d.pod().name() + " " + i.id()));
    }
  }

  @Test
  void aLongPodNameStaysADnsLabelAndItsInstanceIdsFitTheNetworkDriver() throws Exception {
    assertThat(LONG_NAME).hasSize(63);
    EngineExecutionResults r = run(LongName.class);

    r.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
    assertThat(SEEN).hasSize(2).allSatisfy(line -> {
      String[] f = line.split(" ");
      assertThat(f[0]).hasSize(63).isEqualTo(LONG_NAME.substring(0, 61) + "-1");
      assertThat(f[1]).hasSizeLessThanOrEqualTo(40).matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
    });
    assertThat(SEEN.get(0).split(" ")[1]).isNotEqualTo(SEEN.get(1).split(" ")[1]);
    ranCleanly();
  }
}
