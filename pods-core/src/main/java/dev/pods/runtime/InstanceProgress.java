package dev.pods.runtime;

import dev.pods.Phase;
import dev.pods.Trigger;
import dev.pods.Wait;
import dev.pods.imds.AgentEvent;
import java.util.ArrayDeque;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What an instance's agent reported that {@link dev.pods.Wait}s look at: whether the first boot's run and the
 * current boot's run finished successfully, the state hash of the latest successful run, the latest failed
 * reload, and the last {@value Wait#OUTPUT_HISTORY} output lines. Fed from the metadata service's event thread
 * through {@link DefaultInstance#onAgentEvent}; thread-safe (its own monitor, held only for bookkeeping).
 */
final class InstanceProgress {
  /** How a phase condition stands. */
  record PhaseStatus(boolean met, @Nullable String failure) {
    static final PhaseStatus MET = new PhaseStatus(true, null);
    static final PhaseStatus PENDING = new PhaseStatus(false, null);
  }

  /** What {@link #rebooting()} replaced, for {@link #restore}. */
  record Boot(@Nullable String bootRun, boolean bootDone) {}

  private final ArrayDeque<String> history = new ArrayDeque<>();
  private long appended;
  private boolean initialized;
  private @Nullable String bootRun;
  private boolean bootDone;
  private @Nullable String startedRun;
  private @Nullable String startedHash;
  private @Nullable String lastOkHash;
  private @Nullable String failedHash;
  private @Nullable String failedReason;

  synchronized void onRunStarted(AgentEvent.RunStarted r) {
    startedRun = r.run();
    startedHash = r.stateHash();
    if (r.trigger() != Trigger.CLUSTER_CHANGE) {
      bootRun = r.run();
      bootDone = false;
    }
  }

  synchronized void onRunFinished(AgentEvent.RunFinished f) {
    String hash = f.run().equals(startedRun) ? startedHash : null;
    if (f.ok()) {
      if (f.trigger() != Trigger.CLUSTER_CHANGE) {
        initialized = true; // a later boot's run implies the first one was done (an adopted instance)
      }
      if (f.trigger() != Trigger.CLUSTER_CHANGE && f.run().equals(bootRun)) {
        bootDone = true;
      }
      if (hash != null) {
        lastOkHash = hash;
        failedHash = null;
        failedReason = null;
      }
    } else if (hash != null) {
      failedHash = hash;
      failedReason = "its " + f.trigger().name().toLowerCase(java.util.Locale.ROOT) + " run failed in block "
          + f.failedBlock() + " with exit code " + f.exitCode();
    }
  }

  synchronized void onOutput(String line) {
    if (history.size() == Wait.OUTPUT_HISTORY) {
      history.removeFirst();
    }
    history.addLast(line);
    appended++;
  }

  /** A reboot is about to be asked for: the current boot's run is no longer done. Returns what it was. */
  synchronized Boot rebooting() {
    Boot old = new Boot(bootRun, bootDone);
    bootRun = null;
    bootDone = false;
    return old;
  }

  /** The reboot was not done after all: back to {@code old}, unless the agent reported a new boot since. */
  synchronized void restore(Boot old) {
    if (bootRun == null) {
      bootRun = old.bootRun();
      bootDone = old.bootDone();
    }
  }

  /**
   * What a new runtime knows of an adopted instance without having seen its runs: with {@code ready}, the first
   * boot and the current boot's run finished successfully (its record says READY, or its agent reported a boot
   * phase that succeeded while no runtime listened). Without, nothing changes.
   */
  synchronized void adopted(boolean ready) {
    if (ready) {
      initialized = true;
      bootDone = true;
    }
  }

  /** Whether the first boot's run finished successfully. */
  synchronized boolean initialized() {
    return initialized;
  }

  /**
   * How {@code phase} stands (see {@link Wait#forPhase}).
   *
   * @param currentHash the state hash the instance's metadata service serves now, or null when it has none
   */
  synchronized PhaseStatus phase(Phase phase, @Nullable String currentHash) {
    return switch (phase) {
      case INITIAL -> initialized ? PhaseStatus.MET : PhaseStatus.PENDING;
      case REBOOT -> bootDone ? PhaseStatus.MET : PhaseStatus.PENDING;
      case RELOAD -> {
        if (currentHash == null || !bootDone) {
          yield PhaseStatus.PENDING;
        }
        if (currentHash.equals(lastOkHash)) {
          yield PhaseStatus.MET;
        }
        yield currentHash.equals(failedHash) ? new PhaseStatus(false, failedReason) : PhaseStatus.PENDING;
      }
    };
  }

  /** The result of {@link #scan}: how many lines matched, and where the next scan starts. */
  record Scan(int matches, long next) {}

  /**
   * Counts the remembered output lines from line number {@code from} on (0 = the first line the instance ever
   * printed; lines no longer remembered are skipped) that {@code pattern} finds something in, so that a waiter
   * looks at each line once.
   */
  synchronized Scan scan(Pattern pattern, long from) {
    long first = appended - history.size();
    long i = first;
    int n = 0;
    for (String l : history) {
      if (i++ >= from && pattern.matcher(l).find()) {
        n++;
      }
    }
    return new Scan(n, appended);
  }

  /** The remembered lines, oldest first (tests). */
  synchronized List<String> history() {
    return List.copyOf(history);
  }
}
