package dev.pods.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.Phase;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.AgentStatus;
import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import dev.pods.imds.ImdsServer;
import dev.pods.imds.InstanceView;
import dev.pods.OutputStream;
import dev.pods.imds.PeerInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The real agent script, under busybox sh (busybox applets only, busybox wget) and under dash (GNU tools, curl),
 * against the real IMDS on 127.0.0.1.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentTest {
  private static final Duration WAIT = Duration.ofSeconds(15);

  private static Unit.Builder unit() {
    return Unit.builder().name("web").image("debian12");
  }

  private static AgentHarness harness(GuestShell shell, Unit unit) throws Exception {
    assumeTrue(shell.available(), shell + " is not installed");
    return new AgentHarness(shell, AgentHarness.view(unit, "1"));
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void firstBootRunsEveryBlockInOrderAndLaterBootsRunRebootAndReload(GuestShell shell) throws Exception {
    Unit u = unit()
        .script(Script.shell("echo initial-1"))
        .script(Script.shell(Phase.RELOAD, "echo reload-2"))
        .script(Script.python(Phase.REBOOT, "print('reboot-3')"))
        .script(new Script(Script.Language.SH, Phase.INITIAL, "echo initial-4", null))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      AgentEvent.RunFinished first = h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT);
      assertThat(first.ok()).isTrue();
      assertThat(h.stdout(first.run())).containsExactly("initial-1", "reload-2", "reboot-3", "initial-4");
      assertThat(h.events(AgentEvent.RunStarted.class).get(0).blocks()).containsExactly(0, 1, 2, 3);
      assertThat(h.await(WAIT, () -> Files.exists(h.stateDir.resolve("initialized")))).isTrue();

      h.reboot();
      h.start();
      AgentEvent.RunFinished later = h.awaitRun(Trigger.REBOOT, 1, WAIT);
      assertThat(later.ok()).isTrue();
      assertThat(h.stdout(later.run())).containsExactly("reload-2", "reboot-3");

      // a guest without persistent state (tmpfs only) learns from the IMDS that this is not its first boot
      h.reboot();
      AgentHarness.deleteTree(h.stateDir);
      h.start();
      AgentEvent.RunFinished tmpfs = h.awaitRun(Trigger.REBOOT, 2, WAIT);
      assertThat(h.stdout(tmpfs.run())).containsExactly("reload-2", "reboot-3");
      assertThat(h.events(AgentEvent.RunFinished.class, r -> r.trigger() == Trigger.FIRST_BOOT)).hasSize(1);
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void exportedVariablesAndWorkingDirectoryCarryBetweenShellAndPython(GuestShell shell) throws Exception {
    Unit u = unit()
        .script(Script.shell(
            "export A='x y \"z\"'\n"
                + "export M=\"line1\nline2 ünïcødé 'q' \\$HOME\"\n"
                + "LOCAL_ONLY=1\n"
                + "mkdir -p sub/dir && cd sub/dir\n"))
        .script(Script.python(Phase.INITIAL,
            "import os\n"
                + "print('A=' + os.environ['A'])\n"
                + "print('cwd=' + os.path.basename(os.getcwd()))\n"
                + "print('local=' + os.environ.get('LOCAL_ONLY', 'unset'))\n"
                + "kept = os.environ['M'].splitlines()[1]\n"
                + "export('B', os.environ['A'] + \" & it's b\")\n"
                + "os.chdir('..')\n"))
        .script(Script.python(Phase.INITIAL, "print('kept=' + kept)\n"))
        .script(Script.shell(
            "printf 'A=%s\\nB=%s\\ncwd=%s\\n' \"$A\" \"$B\" \"$(basename \"$(pwd)\")\"\n"
                + "printf '%s\\n' \"$M\"\n"
                + "unset A\n"))
        .script(Script.shell("echo \"A=${A-unset}\""))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      AgentEvent.RunFinished r = h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT);
      assertThat(r.ok()).as(h.logs()).isTrue();
      assertThat(h.output(r.run(), 1)).containsExactly("A=x y \"z\"", "cwd=dir", "local=unset");
      assertThat(h.output(r.run(), 2)).containsExactly("kept=line2 ünïcødé 'q' $HOME");
      assertThat(h.output(r.run(), 3))
          .containsExactly(
              "A=x y \"z\"", "B=x y \"z\" & it's b", "cwd=sub", "line1", "line2 ünïcødé 'q' $HOME");
      assertThat(h.output(r.run(), 4)).containsExactly("A=unset");
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void failingBlockStopsItsPhaseWithExitCodeAndTheInitialPhaseRunsAgainAtNextBoot(GuestShell shell)
      throws Exception {
    Unit u = unit()
        .script(Script.shell("echo before"))
        .script(Script.shell("echo oops >&2\nfalse\necho not-reached"))
        .script(Script.shell("echo after"))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      AgentEvent.RunFinished r = h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT);
      assertThat(r.ok()).isFalse();
      assertThat(r.failedBlock()).isEqualTo(1);
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(h.events(AgentEvent.OutputLine.class, l -> l.block() == 1))
          .extracting(AgentEvent.OutputLine::stream, AgentEvent.OutputLine::line)
          .containsExactly(org.assertj.core.groups.Tuple.tuple(OutputStream.STDERR, "oops"));
      assertThat(h.events(AgentEvent.BlockStarted.class, b -> b.block() == 2)).isEmpty();
      assertThat(h.await(WAIT, () -> h.imds.lastStatus().orElse(null) == AgentStatus.FAULT)).isTrue();
      assertThat(Files.exists(h.stateDir.resolve("initialized"))).isFalse();

      h.reboot();
      h.start();
      AgentEvent.RunFinished again = h.awaitRun(Trigger.FIRST_BOOT, 2, WAIT);
      assertThat(again.ok()).isFalse();
      assertThat(h.stdout(again.run())).containsExactly("before");
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void blockPastItsTimeoutIsKilledWithItsChildren(GuestShell shell) throws Exception {
    Unit u = unit()
        .script(Script.shell("echo started; sleep 30 & sleep 31; echo never").withTimeout(Duration.ofSeconds(1)))
        .script(Script.python(Phase.INITIAL, "import time\nprint('py'); time.sleep(30)").withTimeout(Duration.ofSeconds(1)))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      long t0 = System.nanoTime();
      h.start();
      AgentEvent.RunFinished r = h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(8));
      assertThat(r.ok()).isFalse();
      assertThat(r.failedBlock()).isZero();
      assertThat(r.exitCode()).isEqualTo(124);
      AgentEvent.BlockFinished b = h.events(AgentEvent.BlockFinished.class).get(0);
      assertThat(b.timedOut()).isTrue();
      assertThat(h.output(r.run(), 0)).contains("started").doesNotContain("never");
      // both sleeps of the block's process group are gone (only the agent and its long polls remain)
      assertThat(h.await(Duration.ofSeconds(5), () -> h.markedPids().stream()
              .map(p -> ProcessHandle.of(p).flatMap(ph -> ph.info().commandLine()).orElse(""))
              .noneMatch(c -> c.contains("sleep 3"))))
          .isTrue();
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void pythonBlockPastItsTimeoutFails(GuestShell shell) throws Exception {
    Unit u = unit()
        .script(Script.python(Phase.INITIAL, "x = 41"))
        .script(Script.python(Phase.INITIAL, "import time\nprint(x + 1); time.sleep(30)").withTimeout(Duration.ofSeconds(1)))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      AgentEvent.RunFinished r = h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT);
      assertThat(r.ok()).isFalse();
      assertThat(r.failedBlock()).isEqualTo(1);
      assertThat(r.exitCode()).isEqualTo(124);
      assertThat(h.output(r.run(), 1)).contains("42");
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void aMetadataServiceThatCameBackLearnsHowTheBootPhaseEndedAndExecWorksAgain(GuestShell shell) throws Exception {
    try (AgentHarness h = harness(shell, unit().script(Script.shell("sleep 2; echo initial-done")).build())) {
      h.start();
      assertThat(h.await(WAIT, () -> !h.events(AgentEvent.BlockStarted.class).isEmpty())).as(h.logs()).isTrue();
      java.net.InetSocketAddress at = h.imds.address();
      h.imds.close(); // the runtime died while the initial phase ran: its end and status reach nobody
      assertThat(h.await(WAIT, () -> Files.exists(h.stateDir.resolve("initialized")))).as(h.logs()).isTrue();

      List<AgentEvent> later = new java.util.concurrent.CopyOnWriteArrayList<>();
      try (ImdsServer again = ImdsServer.builder().binding(dev.pods.imds.ImdsBinding.at(at)).view(h.imds.view())
          .token(h.token).listener(later::add).start()) {
        assertThat(h.await(WAIT, () -> later.stream().anyMatch(
            e -> e instanceof AgentEvent.StatusReported r && r.status() == AgentStatus.RUNNING)))
            .as("status reported again; agent log:%n%s", h.logs()).isTrue();
        assertThat(later).noneMatch(AgentEvent.RunStarted.class::isInstance);
        ExecResult r = again.exec(ExecRequest.of("echo", "back")).get(20, TimeUnit.SECONDS);
        assertThat(r.stdoutText()).isEqualTo("back\n");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void execRunsArgvWithStdinAndReportsExitCodeAndOutput(GuestShell shell) throws Exception {
    try (AgentHarness h = harness(shell, unit().script(Script.shell("true")).build())) {
      h.start();
      ExecResult r =
          h.imds.exec(new ExecRequest(List.of("sh", "-c", "cat; echo \"$1\" >&2; exit 7", "sh", "a b 'c'"),
                  "in put\nünï\n".getBytes(java.nio.charset.StandardCharsets.UTF_8), Duration.ofSeconds(10)))
              .get(20, TimeUnit.SECONDS);
      assertThat(r.exitCode()).isEqualTo(7);
      assertThat(r.stdoutText()).isEqualTo("in put\nünï\n");
      assertThat(r.stderrText()).isEqualTo("a b 'c'\n");
      assertThat(r.timedOut()).isFalse();

      ExecResult slow = h.imds.exec(ExecRequest.of("sleep", "30").withTimeout(Duration.ofSeconds(1)))
          .get(20, TimeUnit.SECONDS);
      assertThat(slow.timedOut()).isTrue();
      assertThat(slow.exitCode()).isEqualTo(124);

      ExecResult missing = h.imds.exec(ExecRequest.of("no-such-command-pods")).get(20, TimeUnit.SECONDS);
      assertThat(missing.exitCode()).isEqualTo(127);
      assertThat(h.await(WAIT, () -> h.events(AgentEvent.ExecFinished.class).size() == 3)).isTrue();
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void podsGetAndPciGetResolveReferencesThroughTheImds(GuestShell shell) throws Exception {
    Unit u = unit()
        .script(Script.shell(
            "echo \"db=$(pods get +/unit/db/private_ips)\"\n"
                + "echo \"healthy=$(pods get +/unit/db/healthy_private_ips)\"\n"
                + "echo \"public=$(pci get +/unit/db/public_ips)\"\n"
                + "echo \"self=$(pci get +/instance/self/private_ip)\"\n"
                + "echo \"secret=$(pods get +/secret/db-creds/password)\"\n"
                + "if pods get +/unit/nope/private_ips; then echo found; else echo \"missing=$?\"; fi\n"))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      AgentEvent.RunFinished r = h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT);
      assertThat(r.ok()).as(h.logs()).isTrue();
      assertThat(h.stdout(r.run()))
          .containsExactly(
              "db=10.0.1.1,10.0.1.2", "healthy=10.0.1.1", "public=203.0.113.7", "self=10.0.0.2",
              "secret=s3cr3t pass", "missing=1");
      assertThat(h.events(AgentEvent.OutputLine.class, l -> l.stream() == OutputStream.STDERR))
          .extracting(AgentEvent.OutputLine::line)
          .containsExactly("pods get: +/unit/nope/private_ips: not found");
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void clusterChangeRunsReloadBlocksOnlyWithTheNewState(GuestShell shell) throws Exception {
    Unit u = unit()
        .script(Script.shell("echo install"))
        .script(Script.shell(Phase.RELOAD, "echo \"peers=$(pods get +/unit/db/healthy_private_ips)\""))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      assertThat(h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT).ok()).isTrue();
      InstanceView v = h.imds.view();
      assertThat(h.imds.update(v)).isFalse();
      h.imds.update(v.toBuilder()
          .unitInstances("db", List.of(PeerInstance.healthy("db-0", 0, "10.0.1.1"),
              PeerInstance.healthy("db-1", 1, "10.0.1.2")))
          .build());
      AgentEvent.RunFinished r = h.awaitRun(Trigger.CLUSTER_CHANGE, 1, WAIT);
      assertThat(r.ok()).isTrue();
      assertThat(h.stdout(r.run())).containsExactly("peers=10.0.1.1,10.0.1.2");
      assertThat(h.await(WAIT, () -> h.imds.lastStatus().orElse(null) == AgentStatus.RUNNING)).isTrue();
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void aNewSpecVersionRunsTheNewReloadBlocks(GuestShell shell) throws Exception {
    // what a live migration does: same instance, same peers, a new unit (scripts) under a new version
    Unit u = unit()
        .script(Script.shell("echo install"))
        .script(Script.shell(Phase.RELOAD, "echo old reload"))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      assertThat(h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT).ok()).isTrue();
      Unit next = unit()
          .script(Script.shell("echo install v2"))
          .script(Script.shell(Phase.RELOAD, "echo \"new reload at $(pods get +/instance/self/spec_version)\""))
          .script(Script.python(Phase.RELOAD, "print('python reload too')"))
          .build();
      assertThat(h.imds.update(h.imds.view().toBuilder().spec(next, "2").build())).isTrue();
      AgentEvent.RunFinished r = h.awaitRun(Trigger.CLUSTER_CHANGE, 1, WAIT);
      assertThat(r.ok()).isTrue();
      // the new reload blocks only: neither the old one nor the changed initial block
      assertThat(h.stdout(r.run())).containsExactly("new reload at 2", "python reload too");
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void reloadsNeverOverlapAndCoalesceToTheNewestState(GuestShell shell) throws Exception {
    Unit u = unit()
        .script(Script.shell(Phase.RELOAD, "echo \"v=$(pods get +/instance/self/spec_version)\"; sleep 1"))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      assertThat(h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT).ok()).isTrue();
      InstanceView v = h.imds.view();
      h.imds.update(v.toBuilder().spec(u, "2").build());
      assertThat(h.await(WAIT, () -> h.events(AgentEvent.RunStarted.class).size() == 2)).isTrue();
      // while reload 2 runs, three more changes: they must coalesce into one reload of the newest
      for (String ver : List.of("3", "4", "5")) {
        h.imds.update(v.toBuilder().spec(u, ver).build());
        Thread.sleep(50);
      }
      h.awaitRun(Trigger.CLUSTER_CHANGE, 2, WAIT);
      Thread.sleep(1500);
      List<AgentEvent.RunFinished> reloads = h.events(AgentEvent.RunFinished.class, r -> r.trigger() == Trigger.CLUSTER_CHANGE);
      assertThat(reloads).hasSize(2);
      assertThat(h.stdout(reloads.get(1).run())).containsExactly("v=5");
      // no run started before the previous one finished
      List<AgentEvent> runEvents = h.events.stream()
          .filter(e -> e instanceof AgentEvent.RunStarted || e instanceof AgentEvent.RunFinished)
          .toList();
      for (int i = 0; i < runEvents.size(); i++) {
        assertThat(runEvents.get(i)).isInstanceOf(i % 2 == 0 ? AgentEvent.RunStarted.class : AgentEvent.RunFinished.class);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void failedReloadIsRetriedOnTheNextChange(GuestShell shell) throws Exception {
    Unit u = unit().script(Script.shell(Phase.RELOAD, "exit \"$(pods get +/secret/ctl/code)\"")).build();
    try (AgentHarness h = harness(shell, u)) {
      h.imds.update(h.imds.view().toBuilder().secret("ctl", Map.of("code", "0")).build());
      h.start();
      assertThat(h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT).ok()).isTrue();
      h.imds.update(h.imds.view().toBuilder().secret("ctl", Map.of("code", "5")).build());
      AgentEvent.RunFinished failed = h.awaitRun(Trigger.CLUSTER_CHANGE, 1, WAIT);
      assertThat(failed.ok()).isFalse();
      assertThat(failed.exitCode()).isEqualTo(5);
      assertThat(h.await(WAIT, () -> h.imds.lastStatus().orElse(null) == AgentStatus.RELOAD_FAULT)).isTrue();
      h.imds.update(h.imds.view().toBuilder().secret("ctl", Map.of("code", "0")).build());
      assertThat(h.awaitRun(Trigger.CLUSTER_CHANGE, 2, WAIT).ok()).isTrue();
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void wrongTokenIsRefusedAndNothingRuns(GuestShell shell) throws Exception {
    try (AgentHarness h = harness(shell, unit().script(Script.shell("echo hi")).build())) {
      h.start("wrong-token-0123456789abcdef");
      assertThat(h.await(WAIT, () -> {
        try {
          return h.logs().contains("token refused");
        } catch (java.io.IOException e) {
          return false;
        }
      })).isTrue();
      assertThat(h.events).isEmpty();
      assertThat(h.imds.lastContact()).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void secondAgentOfTheSameBootExitsAtOnce(GuestShell shell) throws Exception {
    try (AgentHarness h = harness(shell, unit().script(Script.shell("echo once")).build())) {
      Process a = h.start();
      Process b = h.start();
      h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT);
      assertThat(h.await(WAIT, () -> !a.isAlive() || !b.isAlive())).isTrue();
      Process loser = a.isAlive() ? b : a;
      assertThat(loser.exitValue()).isZero();
      assertThat(a.isAlive() ^ b.isAlive()).as(h.logs()).isTrue();
      Thread.sleep(300);
      assertThat(h.events(AgentEvent.RunStarted.class)).hasSize(1);
      assertThat(h.logs()).contains("another agent runs");
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void aFileJournalsLinesArriveInBatchesFromWhereTheBootStarted(GuestShell shell) throws Exception {
    Path log = Files.createTempFile("pods-journal-", ".log");
    try {
      Files.writeString(log, "written before the agent started\n");
      Unit u = unit()
          .journal(new dev.pods.spec.Journal("logs", List.of(
              new dev.pods.spec.JournalInput("app", dev.pods.spec.JournalInput.Type.FILE, null, log.toString()))))
          .script(Script.shell("for i in 1 2 3 4 5; do echo \"line $i\" >> " + log + "; done\necho done\n"))
          .build();
      try (AgentHarness h = harness(shell, u)) {
        h.start();
        assertThat(h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT).ok()).as(h.logs()).isTrue();
        java.util.function.Supplier<List<String>> lines = () -> h.events(AgentEvent.JournalLines.class).stream()
            .flatMap(j -> j.lines().stream()).toList();
        assertThat(h.await(WAIT, () -> lines.get().size() >= 5)).as(h.logs()).isTrue();
        assertThat(lines.get()).containsExactly("line 1", "line 2", "line 3", "line 4", "line 5");
        assertThat(h.events(AgentEvent.JournalLines.class)).allSatisfy(j -> {
          assertThat(j.key()).isEqualTo("app");
          assertThat(j.dropped()).isZero();
        });
        // one line appended while the agent runs comes on its own
        Files.writeString(log, "later\n", java.nio.file.StandardOpenOption.APPEND);
        assertThat(h.await(WAIT, () -> lines.get().size() == 6)).as(h.logs()).isTrue();
        assertThat(lines.get().get(5)).isEqualTo("later");

        // a burst: every line arrives or is counted as dropped, in order, none twice
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
          burst.append("burst ").append(i).append('\n');
        }
        Files.writeString(log, burst, java.nio.file.StandardOpenOption.APPEND);
        java.util.function.LongSupplier accounted = () -> lines.get().size() - 6
            + h.events(AgentEvent.JournalLines.class).stream().mapToLong(AgentEvent.JournalLines::dropped).sum();
        assertThat(h.await(WAIT, () -> accounted.getAsLong() >= 5000)).as(h.logs()).isTrue();
        assertThat(accounted.getAsLong()).isEqualTo(5000);
        List<Integer> got = lines.get().subList(6, lines.get().size()).stream()
            .map(l -> Integer.parseInt(l.substring("burst ".length()))).toList();
        assertThat(got).isSorted().doesNotHaveDuplicates();
      }
    } finally {
      Files.deleteIfExists(log);
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void reportsAndExecResultsThatGetNoAcknowledgementAreSentAgainAndCountOnce(GuestShell shell) throws Exception {
    Unit u = unit().script(Script.shell("echo one")).script(Script.shell("echo two >&2")).build();
    try (AgentHarness h = harness(shell, u);
        // reports and exec results: the first two refused (503), the next one applied but its answer lost (500)
        FlakyProxy proxy = new FlakyProxy(h.imds.baseUri(),
            w -> w.equals("POST /v1/report") || w.matches("POST /v1/exec/[^/]+/result"), 2, 1)) {
      h.url = proxy.uri();
      h.start();
      AgentEvent.RunFinished r = h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT);
      assertThat(r.ok()).as(h.logs()).isTrue();
      assertThat(h.await(WAIT, () -> h.imds.lastStatus().orElse(null) == AgentStatus.RUNNING)).isTrue();
      // the proxy counts the lost answer after the metadata service applied the report: wait for it
      assertThat(h.await(WAIT, proxy::exhausted)).as("two reports refused, one applied without an acknowledgement")
          .isTrue();
      assertThat(h.events(AgentEvent.RunStarted.class)).hasSize(1);
      assertThat(h.events(AgentEvent.RunFinished.class)).hasSize(1);
      assertThat(h.events(AgentEvent.BlockFinished.class)).extracting(AgentEvent.BlockFinished::block).containsExactly(0, 1);
      assertThat(h.output(r.run(), 0)).containsExactly("one");
      assertThat(h.output(r.run(), 1)).containsExactly("two");

      // an exec result whose first attempts fail still completes the request, once
      int before = proxy.seen.get();
      proxy.arm(2, 1);
      ExecResult e = h.imds.exec(ExecRequest.of("echo", "done")).get(30, TimeUnit.SECONDS);
      assertThat(e.stdoutText()).isEqualTo("done\n");
      // two refused, one applied but unacknowledged (the request completed then), one answered 404: final
      assertThat(h.await(WAIT, () -> proxy.exhausted() && proxy.seen.get() >= before + 4)).isTrue();
      assertThat(h.events(AgentEvent.ExecFinished.class)).hasSize(1);
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void execOutputOverTheLimitEndsTheCommandWithAClearError(GuestShell shell) throws Exception {
    try (AgentHarness h = harness(shell, unit().script(Script.shell("true")).build())) {
      h.start();
      long t0 = System.nanoTime();
      java.util.concurrent.CompletableFuture<ExecResult> f =
          h.imds.exec(ExecRequest.of("yes", "pods").withTimeout(Duration.ofSeconds(40)));
      assertThat(f).failsWithin(Duration.ofSeconds(30))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .havingCause()
          .isInstanceOf(dev.pods.PodsException.class)
          .withMessageContaining("output passed the limit of " + dev.pods.imds.ImdsProtocol.MAX_EXEC_OUTPUT_BYTES);
      // ended by the limit, not by its 40 s timeout
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
      assertThat(h.await(WAIT, () -> h.markedPids().stream()
              .map(p -> ProcessHandle.of(p).flatMap(ph -> ph.info().commandLine()).orElse(""))
              .noneMatch(c -> c.contains("yes pods"))))
          .as("the command was ended").isTrue();
      // the agent serves the next request as usual
      assertThat(h.imds.exec(ExecRequest.of("echo", "ok")).get(20, TimeUnit.SECONDS).stdoutText()).isEqualTo("ok\n");
    }
  }

  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void anAgentKilledAndStartedAgainInTheSameBootResumesWithoutRunningItsPhasesAgain(GuestShell shell)
      throws Exception {
    Unit u = unit()
        .script(Script.shell("export CARRIED=from-initial\necho ran >>\"$HOME/initial-runs\""))
        .script(Script.shell(Phase.RELOAD, "echo \"reload sees $CARRIED\""))
        .build();
    try (AgentHarness h = harness(shell, u)) {
      h.start();
      assertThat(h.awaitRun(Trigger.FIRST_BOOT, 1, WAIT).ok()).isTrue();
      assertThat(h.await(WAIT, () -> h.imds.lastStatus().orElse(null) == AgentStatus.RUNNING)).isTrue();
      List<Long> old = h.markedPids();
      long main = h.agentPid();
      assertThat(main).isPositive();
      ProcessHandle.of(main).orElseThrow().destroyForcibly(); // kill -9 of the agent's main process
      // what it left behind (its poll loop, its guard) notices and ends by itself
      assertThat(h.await(Duration.ofSeconds(40), () -> old.stream().noneMatch(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false))))
          .as("the killed agent's processes ended: %s", old).isTrue();
      int statuses = h.events(AgentEvent.StatusReported.class).size();

      h.start(); // what the guest's supervisor does
      assertThat(h.await(WAIT, () -> h.events(AgentEvent.StatusReported.class).size() > statuses)).as(h.logs()).isTrue();
      assertThat(h.imds.lastStatus()).hasValue(AgentStatus.RUNNING);
      assertThat(h.events(AgentEvent.RunStarted.class)).hasSize(1);
      assertThat(Files.readAllLines(h.root.resolve("initial-runs"))).containsExactly("ran");
      // and it still reloads, with what the initial phase exported
      h.imds.update(h.imds.view().toBuilder().spec(u, "2").build());
      AgentEvent.RunFinished r = h.awaitRun(Trigger.CLUSTER_CHANGE, 1, WAIT);
      assertThat(h.stdout(r.run())).containsExactly("reload sees from-initial");
    }
  }

  /**
   * Processes the agent spawns (counted with strace under busybox, poll_wait 5 s): while idle, and while a block
   * is silent (after its first second, when its shippers start), about two per poll_wait (the long poll's wget
   * and the guard's sleep); the figures are printed.
   */
  @org.junit.jupiter.api.Test
  void anIdleAgentAndASilentBlockSpawnAlmostNoProcesses() throws Exception {
    assumeTrue(Files.isExecutable(java.nio.file.Path.of("/usr/bin/strace")), "strace is not installed");
    Unit u = unit().script(Script.shell("echo one")).script(Script.shell("sleep 13")).build();
    try (AgentHarness h = harness(GuestShell.BUSYBOX, u)) {
      java.nio.file.Path log = h.root.resolve("strace.out");
      h.prefix = ForkCount.straceTo(log);
      java.time.Instant t0 = java.time.Instant.now();
      h.start();
      assertThat(h.await(WAIT, () -> h.events(AgentEvent.BlockStarted.class, b -> b.block() == 1).size() == 1))
          .as(h.logs()).isTrue();
      java.time.Instant silentFrom = h.events(AgentEvent.BlockStarted.class, b -> b.block() == 1).get(0).at().plusMillis(2500);
      AgentEvent.RunFinished r = h.awaitRun(Trigger.FIRST_BOOT, 1, Duration.ofSeconds(30));
      assertThat(r.ok()).isTrue();
      java.time.Instant silentTo = silentFrom.plusSeconds(10);
      assertThat(h.await(WAIT, () -> h.imds.lastStatus().orElse(null) == AgentStatus.RUNNING)).isTrue();
      java.time.Instant idleFrom = java.time.Instant.now().plusSeconds(1);
      Thread.sleep(16_000); // the measured idle stretch
      java.time.Instant idleTo = idleFrom.plusSeconds(15);
      long agent = h.agentPid();
      ProcessHandle.of(agent).ifPresent(ProcessHandle::destroy);
      assertThat(h.await(WAIT, () -> ProcessHandle.of(agent).map(p -> !p.isAlive()).orElse(true))).isTrue();
      h.stopAgents();
      ForkCount f = ForkCount.read(log);
      double idle = f.between(idleFrom, idleTo) / 15.0;
      double silent = f.between(silentFrom, silentTo) / 10.0;
      long boot = f.between(t0, r.at());
      System.out.printf(java.util.Locale.ROOT,
          "agent processes (busybox, poll_wait 5 s): idle %.2f/s, during a silent block %.2f/s, first boot of 2 blocks"
              + " (one of them the 13 s sleep) %d, in all %d%n", idle, silent, boot, f.total());
      assertThat(idle).isLessThanOrEqualTo(0.6);
      assertThat(silent).isLessThanOrEqualTo(0.6);
    }
  }
}
