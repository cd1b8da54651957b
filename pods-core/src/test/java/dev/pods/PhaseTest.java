package dev.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PhaseTest {
  private final Script install = Script.shell(Phase.INITIAL, "apt-get install -y nginx");
  private final Script start = Script.shell(Phase.REBOOT, "nginx");
  private final Script configure = Script.python(Phase.RELOAD, "export('A', '1')");
  private final Script more = Script.shell(Phase.INITIAL, "echo done");
  private final List<Script> doc = List.of(install, start, configure, more);

  @Test
  void firstBootRunsEveryBlockInDocumentOrder() {
    assertThat(Phase.select(doc, Trigger.FIRST_BOOT)).containsExactly(install, start, configure, more);
  }

  @Test
  void laterBootRunsRebootAndReloadBlocks() {
    assertThat(Phase.select(doc, Trigger.REBOOT)).containsExactly(start, configure);
  }

  @Test
  void clusterChangeRunsReloadBlocksOnly() {
    assertThat(Phase.select(doc, Trigger.CLUSTER_CHANGE)).containsExactly(configure);
  }

  @Test
  void parsesOnlyExactPhaseWords() {
    assertThat(Phase.parse("reload")).isEqualTo(Phase.RELOAD);
    assertThatThrownBy(() -> Phase.parse("relaod"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown phase 'relaod': expected one of initial, reboot, reload");
    assertThatThrownBy(() -> Phase.parse("Reload")).isInstanceOf(IllegalArgumentException.class);
  }
}
