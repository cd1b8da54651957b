package dev.pods.phase;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Trigger;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.AgentStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PhaseTrackerTest {
  private static final String I = "shop-web-0";
  private final PhaseTracker t = new PhaseTracker();
  private Instant now = Instant.parse("2026-11-23T10:00:00Z");
  private int runs;

  private String run(Trigger trigger, String hash, boolean ok) {
    String id = start(trigger, hash);
    finish(id, trigger, ok);
    return id;
  }

  private String start(Trigger trigger, String hash) {
    String id = "b-" + (++runs);
    t.onEvent(new AgentEvent.RunStarted(I, tick(), id, trigger, "1", hash, List.of(0)));
    return id;
  }

  private void finish(String id, Trigger trigger, boolean ok) {
    t.onEvent(new AgentEvent.RunFinished(I, tick(), id, trigger, ok, ok ? -1 : 0, ok ? 0 : 3, Duration.ofMillis(5)));
  }

  private Instant tick() {
    now = now.plusMillis(100);
    return now;
  }

  @Test
  void noReloadIsDueBeforeTheBootPhaseSucceeded() {
    assertThat(t.reloadDue(I, "h1")).isFalse();
    run(Trigger.FIRST_BOOT, "h1", false);
    assertThat(t.reloadDue(I, "h2")).isFalse();
    assertThat(t.state(I).orElseThrow().initialized()).isFalse();
    run(Trigger.FIRST_BOOT, "h1", true);
    assertThat(t.state(I).orElseThrow().initialized()).isTrue();
    assertThat(t.converged(I, "h1")).isTrue();
    assertThat(t.reloadDue(I, "h1")).isFalse();
    assertThat(t.reloadDue(I, "h2")).isTrue();
  }

  @Test
  void changesDuringAReloadCoalesceIntoOneRunOfTheNewestState() {
    run(Trigger.FIRST_BOOT, "h1", true);
    String r = start(Trigger.CLUSTER_CHANGE, "h2");
    // h3 and h4 arrive while h2's reload runs: nothing more is due until it ends
    assertThat(t.reloadDue(I, "h3")).isFalse();
    assertThat(t.reloadDue(I, "h4")).isFalse();
    finish(r, Trigger.CLUSTER_CHANGE, true);
    assertThat(t.state(I).orElseThrow().appliedHash()).isEqualTo("h2");
    assertThat(t.reloadDue(I, "h4")).isTrue();
    run(Trigger.CLUSTER_CHANGE, "h4", true);
    assertThat(t.converged(I, "h4")).isTrue();
    assertThat(t.state(I).orElseThrow().overlaps()).isZero();
  }

  @Test
  void aFailedReloadWaitsForTheNextChange() {
    run(Trigger.FIRST_BOOT, "h1", true);
    run(Trigger.CLUSTER_CHANGE, "h2", false);
    assertThat(t.state(I).orElseThrow().appliedHash()).isEqualTo("h1");
    assertThat(t.reloadDue(I, "h2")).isFalse();
    assertThat(t.converged(I, "h2")).isFalse();
    assertThat(t.reloadDue(I, "h3")).isTrue();
    run(Trigger.CLUSTER_CHANGE, "h3", true);
    assertThat(t.state(I).orElseThrow().failedHash()).isNull();
    assertThat(t.converged(I, "h3")).isTrue();
  }

  @Test
  void overlappingReloadsAreCountedAsAnAgentFault() {
    run(Trigger.FIRST_BOOT, "h1", true);
    start(Trigger.CLUSTER_CHANGE, "h2");
    start(Trigger.CLUSTER_CHANGE, "h3");
    assertThat(t.state(I).orElseThrow().overlaps()).isEqualTo(1);
  }

  @Test
  void aNewBootForgetsTheRunThePreviousBootLeftUnfinished() {
    run(Trigger.FIRST_BOOT, "h1", true);
    start(Trigger.CLUSTER_CHANGE, "h2");
    String r = start(Trigger.REBOOT, "h2");
    assertThat(t.state(I).orElseThrow().overlaps()).isZero();
    assertThat(t.reloadDue(I, "h3")).isFalse();
    finish(r, Trigger.REBOOT, true);
    assertThat(t.converged(I, "h2")).isTrue();
  }

  @Test
  void healthNeedsAGoodStatusAndAFreshHeartbeat() {
    Duration ttl = Duration.ofSeconds(60);
    assertThat(t.health(I, now, ttl)).isEqualTo(Health.UNKNOWN);
    t.onEvent(new AgentEvent.StatusReported(I, now, AgentStatus.INITIALIZING));
    assertThat(t.health(I, now, ttl)).isEqualTo(Health.UNHEALTHY);
    t.onEvent(new AgentEvent.StatusReported(I, now, AgentStatus.RUNNING));
    assertThat(t.health(I, now.plusSeconds(60), ttl)).isEqualTo(Health.HEALTHY);
    assertThat(t.health(I, now.plusSeconds(61), ttl)).isEqualTo(Health.UNHEALTHY);
    t.onEvent(new AgentEvent.Heartbeat(I, now.plusSeconds(61)));
    assertThat(t.health(I, now.plusSeconds(61), ttl)).isEqualTo(Health.HEALTHY);
    t.onEvent(new AgentEvent.StatusReported(I, now, AgentStatus.RELOAD_FAULT));
    assertThat(t.health(I, now, ttl)).isEqualTo(Health.UNHEALTHY);
    assertThat(t.health("other", now, ttl)).isEqualTo(Health.UNKNOWN);
    t.forget(I);
    assertThat(t.state(I)).isEmpty();
  }
}
