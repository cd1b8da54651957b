package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.InstanceState;
import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.spi.PodDocuments;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A deployment's record (with its pod's document inside) survives its round trip; bad bytes are refused. */
class DeploymentRecordTest {
  private static Unit everything() {
    return Unit.builder().name("web").count(3).image("debian12").processors(2).memoryMib(2048).publicAddress(true)
        .role("frontend").build();
  }

  @Test
  void theSpecVersionOfAUnitSurvivesItsDocument() {
    Pod pod = Pod.builder().name("shop").unit(everything()).build();
    Pod back = PodDocuments.decode(PodDocuments.encode(pod), "test");
    // the spec version (a hash of the unit) is what adoption compares: it must not move
    assertThat(DefaultDeployment.specVersion(back.units().get(0)))
        .isEqualTo(DefaultDeployment.specVersion(pod.units().get(0)));
  }

  @Test
  void aRecordSurvivesItsRoundTripThroughBytes() {
    Pod pod = Pod.builder().name("shop").unit(everything()).unit(Unit.builder().name("db").image("i").build())
        .build();
    DeploymentRecord r = new DeploymentRecord(pod, "owner-1", true, List.of(
        new DeploymentRecord.InstanceRecord("web", 0, "shop-web-0", "p-shop-web-0", "10.98.0.4/30", "203.0.113.9",
            "abc", "tok-en_1", InstanceState.READY, null),
        new DeploymentRecord.InstanceRecord("web", 1, "shop-web-1", "p-shop-web-1", null, null, "abc", "t2",
            InstanceState.FAILED, "boom")));
    DeploymentRecord back = DeploymentRecord.parse(r.toBytes());
    assertThat(back).isEqualTo(r);
  }

  @Test
  void bytesThatAreNotARecordAreRefused() {
    assertThatThrownBy(() -> DeploymentRecord.parse("{\"format\":1".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not JSON");
  }
}
