package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.Problem;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.spec.IngressSource;
import dev.pods.template.ParseResult;
import dev.pods.template.Templates;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShopTest {
  @Test
  void everyTemplateParsesWithoutErrorsAndSaysWhatHasNoEffectYet() {
    // the shop tells the truth: what a pods host does not act on yet is named, at its line, by pods validate
    java.util.Map<String, List<String>> expected = java.util.Map.of(
        "db.md", List.of(),
        "lb.md", List.of(),
        "web.md", List.of("16:1 instance.roles"));
    for (String t : Shop.TEMPLATES) {
      ParseResult r = Templates.read("shop/" + t, Shop.text(t));
      assertThat(r.errors()).as(t).extracting(Problem::toString).isEmpty();
      assertThat(r.warnings()).as(t)
          .extracting(p -> p.location().line() + ":" + p.location().column() + " " + p.field()
              + (p.field().equals("kind") ? " " + p.message().split("'")[1] : ""))
          .containsExactlyElementsOf(expected.get(t));
      assertThat(r.warnings()).as(t).allSatisfy(p -> assertThat(p.message()).contains("no effect on a pods host yet"));
    }
  }

  @Test
  void thePodHasItsThreeUnits() {
    Pod shop = Shop.pod();
    assertThat(shop.units()).extracting(Unit::name).containsExactly("web", "lb", "db");
    assertThat(shop.unit("lb").orElseThrow().publicAddress()).isTrue();
    assertThat(shop.unit("web").orElseThrow().count()).isEqualTo(2);
  }

  @Test
  void theLoadBalancerRewritesItsUpstreamsOnEveryChange() {
    Unit lb = Shop.unit("lb.md");
    assertThat(lb.scripts(Trigger.CLUSTER_CHANGE))
        .singleElement()
        .satisfies(s -> assertThat(s.source()).contains("pods get +/unit/web/private_ips").contains("nginx -s reload"));
  }

  @Test
  void theDatabaseAdmitsOnlyTheWebTier() {
    Unit db = Shop.unit("db.md");
    assertThat(db.firewalls()).singleElement().satisfies(fw -> {
      assertThat(fw.ingress()).singleElement().satisfies(rule -> {
        assertThat(rule.ports().toString()).isEqualTo("5432");
        assertThat(rule.sources()).containsExactly(IngressSource.parse("+/unit/web"));
      });
    });
  }

  @Test
  void webHandsValuesFromBashToPython() {
    Unit web = Shop.unit("web.md");
    assertThat(web.scripts()).extracting(Script::phase)
        .containsExactly(Phase.RELOAD, Phase.INITIAL, Phase.REBOOT, Phase.RELOAD);
    assertThat(web.scripts().get(3).language()).isEqualTo(Script.Language.PYTHON);
    assertThat(web.scripts().get(3).source()).contains("os.environ[\"WWW_ROOT\"]");
  }

  @Test
  void everyTemplateRoundTrips() {
    for (String t : Shop.TEMPLATES) {
      Unit u = Shop.unit(t);
      assertThat(Templates.parse("again.md", Templates.render(u))).as(t).isEqualTo(u);
    }
  }
}
