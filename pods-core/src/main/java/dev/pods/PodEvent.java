package dev.pods;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Something that happened to an instance of a {@link Deployment}, delivered to the subscribers of
 * {@link Deployment#events()}. Every event names its instance ({@link Instance#name()}, e.g. {@code web-0}) and
 * when the runtime saw it. Immutable values.
 *
 * @since 0.1
 */
public sealed interface PodEvent {

  /** The instance's name within its deployment, {@code <unit>-<index>}. */
  String instance();

  /** When the runtime saw it. */
  Instant at();

  /**
   * The instance changed state.
   *
   * @param reason why, for {@link InstanceState#FAILED}; otherwise {@code null}
   */
  record StateChanged(String instance, Instant at, InstanceState from, InstanceState to, @Nullable String reason)
      implements PodEvent {
    /** Validates. */
    public StateChanged {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
    }
  }

  /** The agent started a phase run ({@code trigger} says which blocks run). */
  record PhaseStarted(String instance, Instant at, Trigger trigger, String run) implements PodEvent {}

  /**
   * A phase run ended.
   *
   * @param failedBlock the block that failed, or -1
   * @param exitCode the failed block's exit code, or 0
   */
  record PhaseFinished(
      String instance, Instant at, Trigger trigger, String run, boolean ok, int failedBlock, int exitCode,
      Duration duration)
      implements PodEvent {}

  /** One line a block printed (without its line break). */
  record OutputLine(String instance, Instant at, String run, int block, OutputStream stream, String line)
      implements PodEvent {}

  /** An exec request finished in the guest. */
  record ExecFinished(String instance, Instant at, List<String> argv, ExecResult result) implements PodEvent {
    /** Copies. */
    public ExecFinished {
      argv = List.copyOf(argv);
    }
  }

  /**
   * One line of a journal input of the instance's unit ({@code kind: journal}, input {@code key}): a line appended
   * to the followed file, or a message of the followed systemd unit.
   */
  record JournalLine(String instance, Instant at, String key, String line) implements PodEvent {}

  /**
   * The guest's agent dropped this many lines of journal input {@code key} (its bounded buffer was full while the
   * host did not take them); the lines after it are the ones that followed.
   */
  record JournalDropped(String instance, Instant at, String key, long count) implements PodEvent {}

  /**
   * Where a cluster's leader put the instance, and why (a runtime over a cluster, such as pods-etcd's
   * {@code ClusterRuntime}, publishes one at every change of the instance's assignment; a runtime on one host never
   * does).
   *
   * @param node the node that runs it, or the node it waits for; {@code null} when no node has room for it
   * @param why the leader's explanation, e.g. {@code web-2 on h3: least loaded of h1, h3; h2 already runs web-0}
   * @since 0.2
   */
  record Placed(String instance, Instant at, @Nullable String node, String why) implements PodEvent {
    /** Validates. */
    public Placed {
      Objects.requireNonNull(instance, "instance");
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(why, "why");
    }
  }

  /** A subscriber was too slow: this many events were not delivered to it. */
  record EventsDropped(String instance, Instant at, long count) implements PodEvent {}
}
