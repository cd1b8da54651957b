package dev.pods.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.ExecResult;
import dev.pods.spec.DomainRecord;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.RecordType;
import dev.pods.spec.Reference;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * {@link PodTest @PodTest} on the real host: the default {@link LocalRuntimeFactory} (libvirt, TCG here; the Linux
 * network driver; the tiny guest, 192 MiB), run through the JUnit engine so that this test can check, once the run
 * ended, that nothing with the run's prefix is left: no domain, namespace, link, nft table, process or run folder.
 * The guest has no public address, so no traffic leaves the run's namespaces; {@code exec} goes from the JVM's
 * metadata listener inside the instance's namespace to its VM. Leftovers of crashed runs are reaped by the factory.
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class PodTestSystemIT {
  static final List<String> DOMAINS = new CopyOnWriteArrayList<>();
  static final List<String> SEEN = new CopyOnWriteArrayList<>();

  /** The default factory plus what a host application adds through {@link LocalRuntimeFactory#configure}. */
  static class ExampleDomainRuntime extends LocalRuntimeFactory {
    @Override
    protected PodRuntime.Builder configure(PodRuntime.Builder builder) {
      return builder.domain("example", "example.test");
    }
  }

  @PodTest(runtime = ExampleDomainRuntime.class)
  static class TinyGuest {
    @Deploy static Pod tiny = Pod.builder().name("tiny")
        .unit(Unit.builder().name("vm").image("tiny").memoryMib(192)
            .domain(new DomainRecords("vm-dns", List.of(
                new DomainRecord("vm", Reference.of("domain", "example"), RecordType.PRIVATE, null))))
            .script(Script.shell(Phase.INITIAL, "echo \"up as $(hostname)\"\n")).build())
        .build();

    @Test
    void execRunsInTheGuest(Deployment d) {
      Instance vm = d.instance("vm", 0);
      DOMAINS.add(vm.domainName());
      ExecResult r = vm.exec("sh", "-c", "hostname; grep MemTotal /proc/meminfo");
      SEEN.add(r.exitCode() + "\n" + r.stdoutText());
      SEEN.add(String.join("|", vm.recentOutput()));
      ExecResult dns = vm.exec("nslookup", "-type=a", "vm.example.test");
      SEEN.add(vm.privateAddress().getHostAddress() + "\n" + dns.stdoutText());
    }
  }

  @Test
  void aTinyGuestDeployedByTheExtensionRunsExecAndTheRunLeavesNothing() throws Exception {
    long t0 = System.nanoTime();
    EngineExecutionResults r = EngineTestKit.engine("junit-jupiter").selectors(selectClass(TinyGuest.class)).execute();
    System.out.printf("junit-it: @PodTest class with one tiny guest (reap, deploy, ready, exec, destroy) %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    List<String> skipped = r.containerEvents().skipped().stream().map(e -> e.getRequiredPayload(String.class)).toList();
    assumeTrue(skipped.isEmpty(), () -> String.join("; ", skipped));
    List<Throwable> failures = new ArrayList<>();
    r.allEvents().failed().stream()
        .forEach(e -> e.getRequiredPayload(TestExecutionResult.class).getThrowable().ifPresent(failures::add));
    assertThat(failures).as("failures").isEmpty();
    r.testEvents().assertStatistics(s -> s.started(1).succeeded(1));

    List<String> out = SEEN.get(0).lines().toList();
    assertThat(out.get(0)).as("exit code").isEqualTo("0");
    assertThat(out.get(1)).as("hostname").isEqualTo("vm-0");
    long memKib = Long.parseLong(out.get(2).replaceAll("[^0-9]", ""));
    assertThat(memKib).as("MemTotal of a 192 MiB guest").isBetween(100_000L, 192L * 1024);
    assertThat(SEEN.get(1)).isEqualTo("up as vm-0");
    // the domain the factory's configure() registered answers in the guest, through its resolver
    List<String> dns = SEEN.get(2).lines().toList();
    assertThat(dns.subList(1, dns.size())).as("nslookup of vm.example.test in the guest")
        .anyMatch(l -> l.startsWith("Name:") && l.contains("vm.example.test"))
        .anyMatch(l -> l.startsWith("Address:") && l.substring("Address:".length()).strip().equals(dns.get(0)));

    String domain = DOMAINS.get(0);
    String p = domain.substring(0, domain.indexOf('-'));
    assertThat(p).as("the run's prefix").matches("pj[0-9a-z]{4}");
    assertThat(domain).isEqualTo(p + "-tiny-1-vm-0");
    assertNothingLeft(p);
  }

  @Test
  void theLeftoversOfARunWhoseJvmWasKilledAreReapedByTheNextRun() throws Exception {
    assumeTrue(new LocalRuntimeFactory().unavailableReason().isEmpty(), "pods cannot run on this host");
    Path log = Files.createTempFile("pods-junit-crash-", ".log");
    Process child = startJava(CrashingRun.class, log);
    String domain;
    try {
      domain = awaitReadyLine(child, log);
    } finally {
      child.destroyForcibly(); // SIGKILL: no JUnit teardown, no shutdown hook
      child.waitFor(60, TimeUnit.SECONDS);
    }
    String p = domain.substring(0, domain.indexOf('-'));
    assertThat(run("virsh", "-c", "qemu:///system", "list", "--all", "--name").lines())
        .as("the dead run's domain is still there").contains(domain);
    assertThat(namespaces(p)).as("the dead run's namespaces").isNotEmpty();

    // the next run reaps before it starts, then ends cleanly itself
    long t0 = System.nanoTime();
    new LocalRuntimeFactory().create().close();
    System.out.printf("junit-it: next run reaped a dead run's guest and network in %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    assertNothingLeft(p);
    Files.delete(log);
  }

  @Test
  void aRunStoppedWithSigtermCleansUpInItsShutdownHook() throws Exception {
    assumeTrue(new LocalRuntimeFactory().unavailableReason().isEmpty(), "pods cannot run on this host");
    Path log = Files.createTempFile("pods-junit-term-", ".log");
    Process child = startJava(TerminatedRun.class, log);
    String domain;
    try {
      domain = awaitReadyLine(child, log);
    } finally {
      child.destroy(); // SIGTERM: the JVM runs its shutdown hooks
    }
    assertThat(child.waitFor(3, TimeUnit.MINUTES)).as("the child ended; its output:%n%s", Files.readString(log))
        .isTrue();
    String p = domain.substring(0, domain.indexOf('-'));
    assertThat(Files.readString(log)).contains("destroying pod term-1 left at the JVM shutdown");
    assertNothingLeft(p);
    Files.delete(log);
  }

  private static Process startJava(Class<?> main, Path log) throws IOException {
    return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), main.getName())
        .redirectErrorStream(true).redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
  }

  /** The domain the child printed as {@code READY <domain>}, once its guest is ready (at most 6 minutes). */
  private static String awaitReadyLine(Process child, Path log) throws Exception {
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
    String domain = null;
    while (domain == null && child.isAlive() && System.nanoTime() < end) {
      domain = Files.readAllLines(log).stream().filter(l -> l.startsWith("READY ")).map(l -> l.substring(6))
          .findFirst().orElse(null);
      Thread.sleep(200);
    }
    assertThat(domain).as("the child's guest got ready; its output:%n%s", Files.readString(log)).isNotNull();
    return domain;
  }

  /** No domain, namespace, root link, nft table, process or run folder of the run with prefix {@code p}. */
  private static void assertNothingLeft(String p) throws Exception {
    assertThat(run("virsh", "-c", "qemu:///system", "list", "--all", "--name").lines())
        .as("domains").noneMatch(n -> n.startsWith(p));
    assertThat(namespaces(p)).as("namespaces").isEmpty();
    assertThat(run("ip", "-o", "link", "show").lines().map(l -> l.split(":\\s*")[1].split("@")[0]))
        .as("links in the root namespace").noneMatch(n -> n.startsWith(p));
    assertThat(run("nft", "list", "tables")).as("nft tables").doesNotContain(p);
    assertThat(processesMentioning(p)).as("processes").isEmpty();
    assertThat(LocalRuntimeFactory.junitDir().resolve(p)).as("run folder").doesNotExist();
  }

  private static List<String> namespaces(String prefix) throws IOException {
    List<String> out = new ArrayList<>();
    Path runDir = Path.of("/run/netns");
    if (Files.isDirectory(runDir)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(runDir, prefix + "*")) {
        ds.forEach(x -> out.add(x.getFileName().toString()));
      }
    }
    return out;
  }

  private static List<String> processesMentioning(String text) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(Path.of("/proc"))) {
      for (Path d : s.filter(x -> x.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        try {
          String cmd = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
          if (cmd.contains(text)) {
            out.add(d.getFileName() + ": " + cmd);
          }
        } catch (IOException e) {
          // the process ended while we looked
        }
      }
    }
    return out;
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process pr = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    byte[] out;
    try (var in = pr.getInputStream()) {
      out = in.readAllBytes();
    }
    assertThat(pr.waitFor(60, TimeUnit.SECONDS)).as("%s finished", String.join(" ", cmd)).isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(pr.exitValue()).as("%s: %s", String.join(" ", cmd), text).isZero();
    return text;
  }
}
