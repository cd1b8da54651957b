package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.MigrationPlan.Action;
import dev.pods.MigrationPlan.Step;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.spec.Reference;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure part of planning: what each running instance becomes. */
class PlannerTest {
  private static Unit.Builder web() {
    return Unit.builder().name("web").image("tiny").memoryMib(192);
  }

  private static Pod pod(Unit... units) {
    return Pod.builder().name("p").units(List.of(units)).build();
  }

  private static String text(List<Step> steps) {
    return String.join("\n", steps.stream().map(s -> s.instance() + " " + s.action() + " " + s.reasons()).toList());
  }

  @Test
  void aPublicAddressOrTheImageRecreatesWhileScriptsAndSecretsAreLive() {
    Unit before = web().count(2).build();
    List<Planner.Running> running = List.of(
        new Planner.Running("web", 0, before, false), new Planner.Running("web", 1, before, false));

    assertThat(text(Planner.steps(pod(web().count(2).publicAddress(true).build()), running))).isEqualTo("""
        web-0 RECREATE [publicAddress false -> true]
        web-1 RECREATE [publicAddress false -> true]""");
    assertThat(text(Planner.steps(pod(web().count(2).image("debian12").processors(2).build()), running)))
        .isEqualTo("""
            web-0 RECREATE [image tiny -> debian12, processors 1 -> 2]
            web-1 RECREATE [image tiny -> debian12, processors 1 -> 2]""");
    Unit live = web().count(2).secret(Reference.parse("+/secret/db/password"))
        .script(Script.shell(Phase.RELOAD, "echo hi\n")).build();
    assertThat(Planner.steps(pod(live), running)).extracting(Step::action).containsOnly(Action.LIVE);
    assertThat(Planner.steps(pod(live), running).get(0).reasons())
        .containsExactly("secrets [] -> [+/secret/db/password]", "scripts.reload[0] added");
  }

  @Test
  void documentationIsLiveBecauseTheSpecVersionTheAgentSeesChanges() {
    Unit before = web().build();
    List<Step> steps = Planner.steps(pod(web().prose("# Web\n\nServes pages.").build()),
        List.of(new Planner.Running("web", 0, before, false)));
    assertThat(text(steps)).isEqualTo("web-0 LIVE [documentation added]");
  }

  @Test
  void gapsAreFilledAndInstancesBeyondTheCountRemovedAndFailedOnesRecreated() {
    Unit u = web().count(3).build();
    List<Planner.Running> running = List.of(
        new Planner.Running("web", 0, u, true),
        new Planner.Running("web", 2, u, false),
        new Planner.Running("web", 4, u, false));
    assertThat(text(Planner.steps(pod(u), running))).isEqualTo("""
        web-0 RECREATE [failed]
        web-1 CREATE [missing]
        web-2 KEEP [reloads: web-1 created, web-4 removed]
        web-4 REMOVE [beyond count 3]""");
  }

  @Test
  void nothingRunningAndNothingWantedIsAnEmptyList() {
    assertThat(Planner.steps(pod(web().count(0).build()), List.of())).isEmpty();
    assertThat(Planner.text("p", "no changes\n", List.of())).isEqualTo("""
        pod p:
          no changes
        instances:
          (none)
        """);
  }
}
