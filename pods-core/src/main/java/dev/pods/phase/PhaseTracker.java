package dev.pods.phase;

import dev.pods.Trigger;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.AgentStatus;
import dev.pods.imds.ImdsListener;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the host knows about each instance's phases, from the {@link AgentEvent}s of its IMDS: the reported
 * status, the last heartbeat, the state hash of the last successful run (applied), the hash of the last failed
 * reload, and the run in progress.
 *
 * <p>The rules mirror the agent's: reloads are level-triggered and coalesced (a reload is due when the current
 * hash is neither the applied one nor the one whose reload just failed, and no run is in progress; the agent
 * then runs the newest state, skipping intermediate ones), and runs never overlap (a run that starts while
 * another is in progress is counted in {@link State#overlaps()} and logged, as it means a broken agent).
 *
 * <p>Thread-safe; {@link #onEvent} never blocks, so it can be (part of) an {@link ImdsListener}.
 */
public final class PhaseTracker implements ImdsListener {
  private static final Logger LOG = LoggerFactory.getLogger(PhaseTracker.class);

  /**
   * One instance's phase state. Immutable.
   *
   * @param status the last reported status, or {@code null}
   * @param lastHeartbeat when the agent was last heard from, or {@code null}
   * @param bootDone whether a boot phase (first or later boot) succeeded since the agent started
   * @param initialized whether the instance ever completed its first boot
   * @param appliedHash the state hash of the last successful run, or {@code null}
   * @param failedHash the state hash of the last failed reload (not retried until the state changes), or
   *     {@code null}
   * @param running the run in progress, or {@code null}
   * @param runningTrigger its trigger, or {@code null}
   * @param runningHash its state hash, or {@code null}
   * @param overlaps how many runs started while another was in progress (0 for a correct agent)
   */
  public record State(
      @Nullable AgentStatus status,
      @Nullable Instant lastHeartbeat,
      boolean bootDone,
      boolean initialized,
      @Nullable String appliedHash,
      @Nullable String failedHash,
      @Nullable String running,
      @Nullable Trigger runningTrigger,
      @Nullable String runningHash,
      int overlaps) {

    static final State EMPTY = new State(null, null, false, false, null, null, null, null, null, 0);
  }

  private final Map<String, State> states = new ConcurrentHashMap<>();

  /** Folds one event into its instance's state. */
  @Override
  public void onEvent(AgentEvent event) {
    Objects.requireNonNull(event, "event");
    states.compute(event.instance(), (k, old) -> apply(old == null ? State.EMPTY : old, event));
  }

  private static State apply(State s, AgentEvent e) {
    Instant at = e.at();
    if (e instanceof AgentEvent.Heartbeat) {
      return new State(s.status(), at, s.bootDone(), s.initialized(), s.appliedHash(), s.failedHash(), s.running(),
          s.runningTrigger(), s.runningHash(), s.overlaps());
    }
    if (e instanceof AgentEvent.StatusReported r) {
      return new State(r.status(), at, s.bootDone(), s.initialized(), s.appliedHash(), s.failedHash(), s.running(),
          s.runningTrigger(), s.runningHash(), s.overlaps());
    }
    if (e instanceof AgentEvent.RunStarted r) {
      int overlaps = s.overlaps();
      boolean boot = r.trigger() != Trigger.CLUSTER_CHANGE;
      if (s.running() != null && !boot) {
        overlaps++;
        LOG.warn("instance {}: run {} started while run {} is in progress", e.instance(), r.run(), s.running());
      }
      // a boot run means a new agent: whatever ran before died with the previous boot
      return new State(s.status(), at, boot ? false : s.bootDone(), s.initialized(), s.appliedHash(),
          s.failedHash(), r.run(), r.trigger(), r.stateHash(), overlaps);
    }
    if (e instanceof AgentEvent.RunFinished r) {
      if (!r.run().equals(s.running())) {
        return s;
      }
      String hash = s.runningHash();
      boolean boot = r.trigger() != Trigger.CLUSTER_CHANGE;
      if (r.ok()) {
        return new State(s.status(), at, s.bootDone() || boot, s.initialized() || r.trigger() == Trigger.FIRST_BOOT,
            hash, null, null, null, null, s.overlaps());
      }
      return new State(s.status(), at, boot ? false : s.bootDone(), s.initialized(), s.appliedHash(),
          boot ? s.failedHash() : hash, null, null, null, s.overlaps());
    }
    return s;
  }

  /** The state of an instance, if anything was heard from it. */
  public Optional<State> state(String instance) {
    return Optional.ofNullable(states.get(instance));
  }

  /**
   * Whether the agent will run a reload for {@code currentHash}: its boot phase succeeded, no run is in progress,
   * and the hash is neither the applied one nor the one whose reload failed last.
   */
  public boolean reloadDue(String instance, String currentHash) {
    State s = states.getOrDefault(instance, State.EMPTY);
    return s.bootDone()
        && s.running() == null
        && !currentHash.equals(s.appliedHash())
        && !currentHash.equals(s.failedHash());
  }

  /** Whether the instance has applied {@code currentHash} and runs nothing. */
  public boolean converged(String instance, String currentHash) {
    State s = states.getOrDefault(instance, State.EMPTY);
    return s.bootDone() && s.running() == null && currentHash.equals(s.appliedHash());
  }

  /**
   * The instance's health at {@code now}: {@link Health#HEALTHY} when its status is {@code running} or
   * {@code reloading} and it was heard from within {@code ttl}; {@link Health#UNKNOWN} before anything was heard;
   * {@link Health#UNHEALTHY} otherwise.
   */
  public Health health(String instance, Instant now, Duration ttl) {
    State s = states.get(instance);
    if (s == null || s.lastHeartbeat() == null) {
      return Health.UNKNOWN;
    }
    boolean fresh = !s.lastHeartbeat().plus(ttl).isBefore(now);
    boolean good = s.status() == AgentStatus.RUNNING || s.status() == AgentStatus.RELOADING;
    return fresh && good ? Health.HEALTHY : Health.UNHEALTHY;
  }

  /** Forgets an instance (it was destroyed). */
  public void forget(String instance) {
    states.remove(instance);
  }
}
