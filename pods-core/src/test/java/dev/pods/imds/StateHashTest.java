package dev.pods.imds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Phase;
import dev.pods.Script;
import dev.pods.Unit;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StateHashTest {
  private static final Unit UNIT = Unit.builder().name("web").image("debian12")
      .script(Script.shell(Phase.RELOAD, "echo reload")).build();
  private static final InstanceView BASE = ImdsServerTest.view(UNIT, "1");

  @Test
  void isASha256OfTheStateAndStableForEqualViews() {
    String h = StateHash.of(BASE);
    assertThat(h).matches("[0-9a-f]{64}");
    assertThat(StateHash.of(BASE.toBuilder().build())).isEqualTo(h);
    // unit order and secret field order do not matter
    InstanceView reordered = BASE.toBuilder().removeUnit("web")
        .unitInstances("web", BASE.units().get("web")).secret("db-creds", Map.of("user", "app", "password", "pa ss")).build();
    assertThat(StateHash.of(reordered)).isEqualTo(h);
  }

  @Test
  void changesWithPeersAddressesHealthSecretsAndSpec() {
    String h = StateHash.of(BASE);
    List<PeerInstance> db = BASE.units().get("db");
    List<InstanceView> changed = List.of(
        BASE.toBuilder().unitInstances("db", List.of(db.get(0))).build(),
        BASE.toBuilder().unitInstances("db", List.of(db.get(0), db.get(1).withHealthy(!db.get(1).healthy()))).build(),
        BASE.toBuilder().unitInstances("db", List.of(db.get(0),
            new PeerInstance(db.get(1).name(), db.get(1).index(), List.of("10.9.9.9"), db.get(1).publicIps(), db.get(1).healthy()))).build(),
        BASE.toBuilder().secret("db-creds", Map.of("password", "other", "user", "app")).build(),
        BASE.toBuilder().spec(UNIT, "2").build(),
        BASE.toBuilder().spec(UNIT.toBuilder().script(Script.shell("echo more")).build(), "1").build(),
        BASE.toBuilder().spec(Unit.builder().name("web").image("debian12")
            .script(Script.shell(Phase.RELOAD, "echo reload").withTimeout(Duration.ofSeconds(5))).build(), "1").build(),
        BASE.toBuilder().privateIps(List.of("10.0.0.9")).build());
    for (InstanceView v : changed) {
      assertThat(StateHash.of(v)).as("%s", v).isNotEqualTo(h);
    }
    assertThat(changed.stream().map(StateHash::of).distinct()).hasSize(changed.size());
  }

  @Test
  void ignoresTheInstancesOwnHealthButNotThatOfTheOthersOfItsUnit() {
    List<PeerInstance> web = BASE.units().get("web");
    PeerInstance self = web.stream().filter(p -> p.index() == BASE.index()).findFirst().orElseThrow();
    List<PeerInstance> selfFlipped = web.stream().map(p -> p == self ? p.withHealthy(!p.healthy()) : p).toList();
    assertThat(StateHash.of(BASE.toBuilder().unitInstances("web", selfFlipped).build())).isEqualTo(StateHash.of(BASE));
    List<PeerInstance> otherFlipped = web.stream().map(p -> p == self ? p : p.withHealthy(!p.healthy())).toList();
    assertThat(otherFlipped).isNotEqualTo(web);
    assertThat(StateHash.of(BASE.toBuilder().unitInstances("web", otherFlipped).build()))
        .isNotEqualTo(StateHash.of(BASE));
  }

  @Test
  void ignoresTheInitializedFlag() {
    assertThat(StateHash.of(BASE.toBuilder().initialized(true).build())).isEqualTo(StateHash.of(BASE));
  }
}
