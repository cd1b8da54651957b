package dev.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import java.util.List;
import org.junit.jupiter.api.Test;

class PodTest {
  private static Unit unit(String name) {
    return Unit.builder().name(name).image("debian12").build();
  }

  private static Unit db(String admits) {
    return Unit.builder()
        .name("db")
        .image("debian12")
        .firewall(
            new Firewall(
                "db-fw",
                List.of(new IngressRule(Protocol.TCP, PortRange.of(5432), List.of(IngressSource.parse("+/unit/" + admits))))))
        .build();
  }

  @Test
  void buildsAndFindsUnits() {
    Pod p = Pod.builder().name("shop").unit(unit("web")).unit(db("web")).build();
    assertThat(p.unit("db")).contains(db("web"));
    assertThat(p.unit("nope")).isEmpty();
    assertThat(p.toBuilder().build()).isEqualTo(p);
  }

  @Test
  void withUnitReplacesByNameOrAdds() {
    Pod p = Pod.builder().name("shop").unit(unit("web")).build();
    Unit web3 = unit("web").toBuilder().count(3).build();
    assertThat(p.withUnit(web3).units()).containsExactly(web3);
    assertThat(p.withUnit(unit("lb")).units()).extracting(Unit::name).containsExactly("web", "lb");
    assertThat(p.withUnit(unit("lb")).withoutUnit("lb")).isEqualTo(p);
  }

  @Test
  void rejectsDuplicateUnitsUnknownFirewallUnitsAndBadNames() {
    PodSpecException e =
        catchThrowableOfType(PodSpecException.class, () -> Pod.builder().name("-shop").unit(unit("web")).unit(unit("web")).unit(db("wbe")).build());
    assertThat(e.errors()).extracting(Problem::field)
        .containsExactly("name", "units", "units[db].firewall[db-fw].ingress[0]");
    assertThat(e.errors().get(2).message()).startsWith("source +/unit/wbe names no unit of this pod");
  }

  @Test
  void needsAUnit() {
    PodSpecException e = catchThrowableOfType(PodSpecException.class, () -> Pod.builder().name("x").build());
    assertThat(e.errors()).extracting(Problem::message).containsExactly("a pod has at least one unit");
  }
}
