package dev.pods.imds;

import dev.pods.OutputStream;
import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import dev.pods.Trigger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Something the guest agent reported, as the {@link ImdsServer} turns it into a runtime event. Every event
 * names its instance ({@link InstanceView#instanceId()}) and when the server received it. Immutable values.
 */
public sealed interface AgentEvent {

  /** The instance that reported. */
  String instance();

  /** When the server received the report. */
  Instant at();

  /** The agent reported its status (which is also a heartbeat). */
  record StatusReported(String instance, Instant at, AgentStatus status) implements AgentEvent {
    /** Validates. */
    public StatusReported {
      Objects.requireNonNull(status, "status");
    }
  }

  /**
   * The agent is alive: it long-polled ({@code /v1/state}, or {@code /v1/exec/next} with the state hash, which an
   * idle agent of this version sends at least every {@code poll_wait} seconds).
   */
  record Heartbeat(String instance, Instant at) implements AgentEvent {}

  /**
   * A phase run started.
   *
   * @param run the agent's run id (unique per agent process)
   * @param trigger why it runs
   * @param specVersion the spec version it runs
   * @param stateHash the state hash its spec was served with
   * @param blocks the indexes (in {@link dev.pods.Unit#scripts()}) of the blocks it will run, in order
   */
  record RunStarted(
      String instance, Instant at, String run, Trigger trigger, String specVersion, String stateHash,
      List<Integer> blocks)
      implements AgentEvent {
    /** Copies. */
    public RunStarted {
      blocks = List.copyOf(blocks);
    }
  }

  /** A block started. */
  record BlockStarted(String instance, Instant at, String run, int block) implements AgentEvent {}

  /** One line of a block's output (without its line break; invalid UTF-8 replaced). */
  record OutputLine(String instance, Instant at, String run, int block, OutputStream stream, String line)
      implements AgentEvent {}

  /** A block ended, with its exit code; {@code duration} is measured by the server. */
  record BlockFinished(
      String instance, Instant at, String run, int block, int exitCode, boolean timedOut, Duration duration)
      implements AgentEvent {}

  /**
   * A phase run ended.
   *
   * @param ok whether every block succeeded
   * @param failedBlock the block that failed, or -1
   * @param exitCode the failed block's exit code, or 0
   */
  record RunFinished(
      String instance, Instant at, String run, Trigger trigger, boolean ok, int failedBlock, int exitCode,
      Duration duration)
      implements AgentEvent {}

  /** An exec request finished. */
  record ExecFinished(String instance, Instant at, String execId, ExecRequest request, ExecResult result)
      implements AgentEvent {}

  /**
   * Lines the agent shipped from a journal input of the unit ({@code kind: journal}).
   *
   * @param key the input's key
   * @param lines the lines, in order, without line breaks
   * @param dropped lines the agent dropped before these (its buffer was full while the host was slow)
   */
  record JournalLines(String instance, Instant at, String key, List<String> lines, long dropped)
      implements AgentEvent {
    /** Copies. */
    public JournalLines {
      lines = List.copyOf(lines);
    }
  }

  /** The listener was too slow: this many events were dropped (output lines first). */
  record EventsDropped(String instance, Instant at, long count) implements AgentEvent {}
}
