package dev.pods.phase;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Phase;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class PhaseRulesTest {
  private static final Unit UNIT = Unit.builder().name("web").image("debian12")
      .script(Script.shell("echo i0"))
      .script(Script.shell(Phase.RELOAD, "echo l1"))
      .script(Script.shell(Phase.REBOOT, "echo b2"))
      .script(Script.shell(Phase.INITIAL, "echo i3"))
      .script(Script.shell(Phase.RELOAD, "echo l4"))
      .build();

  @Test
  void triggersSelectCumulativeBlocksInDocumentOrder() {
    assertThat(PhaseRules.blocks(UNIT, Trigger.FIRST_BOOT)).containsExactly(0, 1, 2, 3, 4);
    assertThat(PhaseRules.blocks(UNIT, Trigger.REBOOT)).containsExactly(1, 2, 4);
    assertThat(PhaseRules.blocks(UNIT, Trigger.CLUSTER_CHANGE)).containsExactly(1, 4);
  }

  @Test
  void aBootIsLaterWhenTheDiskOrTheHostSaysSo() {
    assertThat(PhaseRules.bootTrigger(false, false)).isEqualTo(Trigger.FIRST_BOOT);
    assertThat(PhaseRules.bootTrigger(true, false)).isEqualTo(Trigger.REBOOT);
    assertThat(PhaseRules.bootTrigger(false, true)).isEqualTo(Trigger.REBOOT);
    assertThat(PhaseRules.bootTrigger(true, true)).isEqualTo(Trigger.REBOOT);
  }

  @Property
  void selectionsNestAndKeepOrder(@ForAll @Size(min = 1, max = 12) List<Phase> phases) {
    Unit.Builder b = Unit.builder().name("u").image("img");
    for (int i = 0; i < phases.size(); i++) {
      b.script(Script.shell(phases.get(i), "echo " + i));
    }
    Unit u = b.build();
    List<Integer> first = PhaseRules.blocks(u, Trigger.FIRST_BOOT);
    List<Integer> reboot = PhaseRules.blocks(u, Trigger.REBOOT);
    List<Integer> reload = PhaseRules.blocks(u, Trigger.CLUSTER_CHANGE);
    assertThat(first).hasSize(phases.size()).isSorted();
    assertThat(first).containsAll(reboot);
    assertThat(reboot).containsAll(reload).isSorted();
    assertThat(reload).isSorted().allMatch(i -> phases.get(i) == Phase.RELOAD);
    assertThat(reboot).allMatch(i -> phases.get(i) != Phase.INITIAL);
    assertThat(reboot.size() + (int) phases.stream().filter(p -> p == Phase.INITIAL).count()).isEqualTo(phases.size());
  }
}
