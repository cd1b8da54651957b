package dev.pods.agent;

import dev.pods.Phase;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.InstanceView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark (a main, not a test): from a cluster-state change in the host ({@code ImdsServer.update}) to the
 * first output line of the reload block arriving back at the IMDS, under each {@link GuestShell}. Prints
 * min / p50 / p90 / max of {@code N} changes (default 50), one change at a time.
 *
 * <pre>
 * java -cp pods-core/target/test-classes:pods-core/target/classes:$(deps) dev.pods.agent.ReloadLatencyBenchmark [N]
 * </pre>
 */
public final class ReloadLatencyBenchmark {
  private ReloadLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    Unit unit = Unit.builder().name("web").image("debian12")
        .script(Script.shell("echo installed"))
        .script(Script.shell(Phase.RELOAD, "echo reloaded\nsleep 0.05\necho done"))
        .build();
    for (GuestShell shell : GuestShell.values()) {
      if (!shell.available()) {
        System.out.println(shell + ": not installed, skipped");
        continue;
      }
      try (AgentHarness h = new AgentHarness(shell, AgentHarness.view(unit, "0"))) {
        h.start();
        h.awaitRun(Trigger.FIRST_BOOT, 1, Duration.ofSeconds(20));
        List<Long> micros = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          Thread.sleep(100);
          InstanceView next = h.imds.view().toBuilder().spec(unit, "v" + i).build();
          Instant t0 = Instant.now();
          h.imds.update(next);
          AgentEvent.RunFinished r = h.awaitRun(Trigger.CLUSTER_CHANGE, i, Duration.ofSeconds(20));
          AgentEvent.OutputLine first = h.events(AgentEvent.OutputLine.class, l -> l.run().equals(r.run())).get(0);
          micros.add(Duration.between(t0, first.at()).toNanos() / 1000);
        }
        List<Long> s = micros.stream().sorted().toList();
        System.out.printf(Locale.ROOT, "%-8s n=%d  min %.1f ms  p50 %.1f ms  p90 %.1f ms  max %.1f ms%n",
            shell, n, s.get(0) / 1000.0, s.get(s.size() / 2) / 1000.0, s.get((int) (s.size() * 0.9)) / 1000.0,
            s.get(s.size() - 1) / 1000.0);
      }
    }
  }
}
