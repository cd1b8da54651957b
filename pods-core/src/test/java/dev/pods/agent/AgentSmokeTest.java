package dev.pods.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Phase;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.imds.AgentEvent;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AgentSmokeTest {
  @ParameterizedTest
  @EnumSource(GuestShell.class)
  void runsFirstBoot(GuestShell shell) throws Exception {
    Unit unit = Unit.builder().name("web").image("debian12")
        .script(Script.shell("echo one"))
        .script(Script.python(Phase.RELOAD, "print('two')"))
        .build();
    try (AgentHarness h = new AgentHarness(shell, AgentHarness.view(unit, "1"))) {
      h.start();
      AgentEvent.RunFinished r = h.awaitRun(Trigger.FIRST_BOOT, 1, Duration.ofSeconds(10));
      System.err.println(h.events);
      System.err.println(h.logs());
      assertThat(r.ok()).isTrue();
    }
  }
}
