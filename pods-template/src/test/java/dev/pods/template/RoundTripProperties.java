package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Block;
import dev.pods.Prose;
import dev.pods.Unit;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/** {@code parse(render(u))} equals {@code u} for every valid unit. */
class RoundTripProperties {

  @Provide
  Arbitrary<Unit> units() {
    return UnitArbitraries.units();
  }

  @Property(tries = 2000)
  void parseOfRenderEqualsTheUnit(@ForAll("units") Unit unit) {
    String markdown = Templates.render(unit);

    ParseResult back = Templates.read("gen.md", markdown);

    assertThat(back.errors()).as(markdown).isEmpty();
    assertThat(back.unit()).as(markdown).contains(unit);
    Statistics.label("blocks").collect(unit.blocks().size() / 4 * 4);
    Statistics.label("resources").collect(unit.resourceNames().size());
  }

  @Property(tries = 300)
  void renderingIsStable(@ForAll("units") Unit unit) {
    String once = Templates.render(unit);

    String twice = Templates.render(Templates.parse("gen.md", once));

    assertThat(twice).isEqualTo(once);
  }

  @Property(tries = 300)
  void renderKeepsProseVerbatim(@ForAll("units") Unit unit) {
    String markdown = Templates.render(unit);

    List<String> prose =
        unit.blocks().stream().filter(Prose.class::isInstance).map(b -> ((Prose) b).markdown()).toList();

    int from = 0;
    for (String p : prose) {
      int at = markdown.indexOf(p, from);
      assertThat(at).as("prose %s in %s", p, markdown).isGreaterThanOrEqualTo(0);
      from = at + p.length();
    }
    assertThat(unit.blocks()).extracting(Block::getClass).isNotEmpty();
  }
}
