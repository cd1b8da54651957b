package dev.pods.diff;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import java.util.List;
import org.junit.jupiter.api.Test;

class UnitDiffTest {
  private final Unit web =
      Unit.builder()
          .name("web")
          .image("debian12")
          .prose("# Web")
          .script(Script.shell("apt-get install -y nginx"))
          .script(Script.shell(Phase.RELOAD, "cat /etc/peers\nnginx -s reload"))
          .firewall(fw(80))
          .build();

  private static Firewall fw(int port) {
    return new Firewall(
        "web-fw",
        List.of(new IngressRule(Protocol.TCP, PortRange.of(port), List.of(IngressSource.parse("+/unit/lb")))));
  }

  @Test
  void equalUnitsHaveNoChanges() {
    UnitDiff d = UnitDiff.between(web, web.toBuilder().build());
    assertThat(d.isEmpty()).isTrue();
    assertThat(d.impact()).isEqualTo(Impact.NONE);
    assertThat(d.toText()).isEqualTo("unit web: no changes\n");
  }

  @Test
  void classifiesLiveAndRecreateChanges() {
    Unit next = web.toBuilder().count(3).memoryMib(2048).firewalls(List.of(fw(8080))).build();
    UnitDiff d = UnitDiff.between(web, next);
    assertThat(d.changes())
        .extracting(Change::path, Change::before, Change::after, Change::impact)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("count", "1", "3", Impact.LIVE),
            org.assertj.core.groups.Tuple.tuple("memory", "1024", "2048", Impact.RECREATE),
            org.assertj.core.groups.Tuple.tuple(
                "firewall[web-fw][0]", "tcp 80 from +/unit/lb", "tcp 8080 from +/unit/lb", Impact.LIVE));
    assertThat(d.impact()).isEqualTo(Impact.RECREATE);
  }

  @Test
  void theRestartPolicyChangesLiveAndTheLivenessTimeoutByRecreation() {
    Unit next = web.toBuilder().restart(dev.pods.RestartPolicy.NEVER)
        .livenessTimeout(java.time.Duration.ofSeconds(30)).build();
    assertThat(UnitDiff.between(web, next).changes())
        .extracting(Change::path, Change::before, Change::after, Change::impact)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("restart", "always", "never", Impact.LIVE),
            org.assertj.core.groups.Tuple.tuple("livenessTimeout", "60", "30", Impact.RECREATE));
  }

  @Test
  void aChangeOfTheHealthChecksIsLive() {
    Unit next = web.toBuilder().readinessCheck(dev.pods.spec.HealthCheck.tcp(80))
        .livenessCheck(dev.pods.spec.HealthCheck.exec("true").failures(1)).build();
    assertThat(UnitDiff.between(web, next).changes())
        .extracting(Change::path, Change::before, Change::after, Change::impact)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("readiness", "[]",
                "[tcp port 80 every 10 s, timeout 5 s, failures 3, grace 0 s]", Impact.LIVE),
            org.assertj.core.groups.Tuple.tuple("liveness", "[]",
                "[exec [true] every 10 s, timeout 5 s, failures 1, grace 0 s]", Impact.LIVE));
  }

  @Test
  void diffsScriptsByPhaseWithLines() {
    Unit next =
        web.toBuilder()
            .clearScripts()
            .script(Script.shell("apt-get install -y nginx"))
            .script(Script.shell(Phase.RELOAD, "cat /etc/peers\nnginx -t\nnginx -s reload"))
            .build();
    UnitDiff d = UnitDiff.between(web, next);
    assertThat(d.changes()).hasSize(1);
    Change c = d.changes().get(0);
    assertThat(c.path()).isEqualTo("scripts.reload[0]");
    assertThat(c.impact()).isEqualTo(Impact.LIVE);
    assertThat(c.lines()).containsExactly("  cat /etc/peers", "+ nginx -t", "  nginx -s reload");
    assertThat(d.toText())
        .isEqualTo(
            "unit web: 1 change (live)\n"
                + "  ~ scripts.reload[0]  [live]\n"
                + "        cat /etc/peers\n"
                + "      + nginx -t\n"
                + "        nginx -s reload\n");
  }

  @Test
  void proseChangesHaveNoImpact() {
    Unit next = web.toBuilder().blocks(List.of()).prose("# Web tier").build();
    UnitDiff d = UnitDiff.between(web.toBuilder().clearScripts().build(), next);
    assertThat(d.changes()).extracting(Change::path).containsExactly("documentation");
    assertThat(d.impact()).isEqualTo(Impact.NONE);
  }

  @Test
  void addedAndRemovedResources() {
    UnitDiff d = UnitDiff.between(web, web.toBuilder().firewalls(List.of()).build());
    assertThat(d.changes()).singleElement().satisfies(c -> {
      assertThat(c.path()).isEqualTo("firewall[web-fw]");
      assertThat(c.isRemoval()).isTrue();
    });
  }

  @Test
  void podDiffListsUnits() {
    Unit lb = Unit.builder().name("lb").image("debian12").build();
    Unit cache = Unit.builder().name("cache").image("debian12").build();
    Pod a = Pod.builder().name("shop").unit(web).unit(lb).unit(cache).build();
    Pod b = Pod.builder().name("shop").unit(web.toBuilder().count(2).build()).unit(lb)
        .unit(Unit.builder().name("db").image("debian12").build()).build();
    PodDiff d = PodDiff.between(a, b);
    assertThat(d.added()).extracting(Unit::name).containsExactly("db");
    assertThat(d.removed()).extracting(Unit::name).containsExactly("cache");
    assertThat(d.changed()).hasSize(1);
    assertThat(d.impact()).isEqualTo(Impact.LIVE);
    assertThat(d.toText()).startsWith("+ unit db (1 instances)\n- unit cache\nunit web: 1 change (live)\n");
  }
}
