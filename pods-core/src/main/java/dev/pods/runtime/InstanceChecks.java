package dev.pods.runtime;

import dev.pods.spec.HealthCheck;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The declared health checks of one instance while it is up: when each runs next, whether a run is under way, and
 * how many runs failed in a row. Runs start on {@link #runDue}; their results arrive on any thread. Thread-safe
 * (guarded by {@code this}; nothing blocks while holding it).
 */
final class InstanceChecks {
  /** Which list a check belongs to. */
  enum Role {
    READINESS("readiness"),
    LIVENESS("liveness");

    final String word;

    Role(String word) {
      this.word = word;
    }
  }

  private record Key(Role role, HealthCheck check) {}

  private static final class State {
    Instant nextAt;
    boolean running;
    int failedInRow;
    String lastFailure = "";

    State(Instant nextAt) {
      this.nextAt = nextAt;
    }
  }

  private final Map<Key, State> states = new HashMap<>();

  /** The instance is down (booting, stopped): results are forgotten; checks start again after its next boot. */
  synchronized void reset() {
    states.clear();
  }

  /**
   * Starts, at {@code now}, every check of {@code readiness} and {@code liveness} that is due (its grace after
   * {@code upAt}, when the instance's boot phase finished, has passed, and its interval since its last run; none
   * already running) with {@code runner},
   * which returns null for a pass or what failed. Checks no longer declared are forgotten (a live change).
   */
  void runDue(List<HealthCheck> readiness, List<HealthCheck> liveness, Instant upAt, Instant now,
      Function<HealthCheck, CompletableFuture<@Nullable String>> runner) {
    List<Key> due = new java.util.ArrayList<>();
    synchronized (this) {
      Set<Key> declared = new HashSet<>();
      readiness.forEach(c -> declared.add(new Key(Role.READINESS, c)));
      liveness.forEach(c -> declared.add(new Key(Role.LIVENESS, c)));
      states.keySet().retainAll(declared);
      for (Key k : declared) {
        State s = states.computeIfAbsent(k, x -> new State(upAt.plus(x.check().grace())));
        if (!s.running && !now.isBefore(s.nextAt)) {
          s.running = true;
          s.nextAt = now.plus(k.check().interval());
          due.add(k);
        }
      }
    }
    for (Key k : due) {
      CompletableFuture<@Nullable String> f;
      try {
        f = runner.apply(k.check());
      } catch (RuntimeException e) {
        f = CompletableFuture.completedFuture(String.valueOf(e.getMessage()));
      }
      f.whenComplete((failure, x) -> done(k, x != null ? String.valueOf(x.getMessage()) : failure));
    }
  }

  private synchronized void done(Key k, @Nullable String failure) {
    State s = states.get(k);
    if (s == null) {
      return; // forgotten meanwhile (the instance went down, or the check was removed)
    }
    s.running = false;
    if (failure == null) {
      s.failedInRow = 0;
    } else {
      s.failedInRow++;
      s.lastFailure = failure;
    }
  }

  /**
   * The first check of {@code role} among {@code checks} that failed its {@link HealthCheck#failures} runs in a row,
   * as a reason ({@code "its readiness check tcp port 80 failed 3 times in a row (last: connection refused)"}), or
   * null when none did.
   */
  synchronized @Nullable String failing(Role role, List<HealthCheck> checks) {
    for (HealthCheck c : checks) {
      State s = states.get(new Key(role, c));
      if (s != null && s.failedInRow >= c.failures()) {
        return "its " + role.word + " check " + c.describe() + " failed " + s.failedInRow + " time"
            + (s.failedInRow == 1 ? "" : "s") + " in a row (last: " + s.lastFailure + ")";
      }
    }
    return null;
  }
}
