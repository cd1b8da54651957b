package dev.pods.etcd.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.ExecResult;
import dev.pods.InstanceState;
import dev.pods.OutputStream;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Trigger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every kind of event survives its round trip through etcd's JSON; bad values are refused naming the key. */
class EventRecordTest {
  private static final Instant AT = Instant.ofEpochMilli(1_764_000_000_123L);

  @Test
  void everyKindOfEventSurvivesItsRoundTrip() {
    List<PodEvent> all = List.of(
        new PodEvent.StateChanged("web-0", AT, InstanceState.BOOTING, InstanceState.READY, "initial phase done"),
        new PodEvent.StateChanged("web-0", AT, InstanceState.PENDING, InstanceState.CREATING, null),
        new PodEvent.PhaseStarted("web-0", AT, Trigger.REBOOT, "r-1"),
        new PodEvent.PhaseFinished("web-0", AT, Trigger.FIRST_BOOT, "r-1", false, 2, 7, Duration.ofMillis(1234)),
        new PodEvent.OutputLine("web-0", AT, "r-1", 1, OutputStream.STDERR, "ünïcode \u001b[31m red"),
        new PodEvent.JournalLine("web-0", AT, "app", "hello"),
        new PodEvent.JournalDropped("web-0", AT, "app", 12),
        new PodEvent.EventsDropped("web-0", AT, 3),
        new PodEvent.Placed("web-2", AT, "h3", "web-2 on h3: least loaded of h1, h3; h2 already runs web-0"),
        new PodEvent.Placed("web-3", AT, null, "web-3: no node has room"));
    for (PodEvent e : all) {
      assertThat(EventRecord.read(EventRecord.write(e), "k")).isEqualTo(e);
    }
    PodEvent.ExecFinished x = new PodEvent.ExecFinished("web-1", AT, List.of("sh", "-c", "echo"),
        new ExecResult(3, "out\n".getBytes(StandardCharsets.UTF_8), new byte[] {0, (byte) 0xff}, true));
    PodEvent.ExecFinished back = (PodEvent.ExecFinished) EventRecord.read(EventRecord.write(x), "k");
    assertThat(back.argv()).isEqualTo(x.argv());
    assertThat(back.result().exitCode()).isEqualTo(3);
    assertThat(back.result().stdout()).isEqualTo(x.result().stdout());
    assertThat(back.result().stderr()).isEqualTo(x.result().stderr());
    assertThat(back.result().timedOut()).isTrue();
  }

  @Test
  void aValueThatIsNotAnEventIsRefusedNamingTheKey() {
    assertThatThrownBy(() -> EventRecord.read("{\"instance\":\"a\",\"at\":1,\"type\":\"nope\"}"
        .getBytes(StandardCharsets.UTF_8), "/p/cluster/events/shop/h1-1"))
        .isInstanceOf(PodsException.class).hasMessageContaining("/p/cluster/events/shop/h1-1")
        .hasMessageContaining("unknown type 'nope'");
    assertThatThrownBy(() -> EventRecord.read("{\"instance\":\"a\",\"type\":\"state\"}"
        .getBytes(StandardCharsets.UTF_8), "k")).isInstanceOf(PodsException.class).hasMessageContaining("'at'");
  }
}
