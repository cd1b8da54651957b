package dev.pods.imds;

import dev.pods.OutputStream;
import dev.pods.Trigger;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The phase runs of one instance as its agent reports them, turned into {@link AgentEvent}s. Every report is
 * idempotent (a repeated one changes nothing and publishes nothing), and everything kept is bounded whatever the
 * guest sends: at most {@link ImdsProtocol#MAX_OPEN_RUNS} open runs (a new one evicts the oldest, which an agent
 * that was killed mid-run leaves behind), the ids of the last {@link #FINISHED_KEPT} finished runs, per run only
 * the blocks it declared (each below the spec's block count), per stream one partial line of at most
 * {@link OutputAssembler#MAX_LINE} bytes. Thread-safe: every method holds the tracker's lock briefly and never
 * blocks.
 */
final class RunTracker {
  /** How many finished run ids are remembered, so that a repeated end is recognised. */
  static final int FINISHED_KEPT = 32;

  /** What a report did. */
  enum Outcome {
    /** Recorded, and its events published. */
    APPLIED,
    /** Already recorded: nothing changed. */
    DUPLICATE,
    /** The run is not (or no longer) known: nothing changed. */
    UNKNOWN_RUN
  }

  private static final class Run {
    final Trigger trigger;
    final Instant started;
    final Set<Integer> declared;
    final Map<Integer, Instant> blockStarts = new HashMap<>();
    final Set<Integer> ended = new HashSet<>();
    final Map<String, OutputAssembler> outputs = new HashMap<>();

    Run(Trigger trigger, Instant started, List<Integer> blocks) {
      this.trigger = trigger;
      this.started = started;
      this.declared = Set.copyOf(blocks);
    }
  }

  private final String instance;
  private final Consumer<AgentEvent> publish;
  private final RateLimitedLog warnings;
  private final LinkedHashMap<String, Run> open = new LinkedHashMap<>();
  private final LinkedHashMap<String, Boolean> finished = new LinkedHashMap<>(FINISHED_KEPT * 2, 0.75f, false) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > FINISHED_KEPT;
    }
  };

  RunTracker(String instance, Consumer<AgentEvent> publish, RateLimitedLog warnings) {
    this.instance = instance;
    this.publish = publish;
    this.warnings = warnings;
  }

  /** A run started; {@code blocks} were checked against the spec by the caller. */
  synchronized Outcome start(String run, Trigger trigger, String version, String hash, List<Integer> blocks, Instant now) {
    if (open.containsKey(run) || finished.containsKey(run)) {
      return Outcome.DUPLICATE;
    }
    if (open.size() >= ImdsProtocol.MAX_OPEN_RUNS) {
      Iterator<Map.Entry<String, Run>> it = open.entrySet().iterator();
      String oldest = it.next().getKey();
      it.remove();
      warnings.warn("runs", "more than " + ImdsProtocol.MAX_OPEN_RUNS + " open runs: forgot run '" + oldest + "'");
    }
    open.put(run, new Run(trigger, now, blocks));
    publish.accept(new AgentEvent.RunStarted(instance, now, run, trigger, version, hash, blocks));
    return Outcome.APPLIED;
  }

  /** Whether {@code run} is open. */
  synchronized boolean isOpen(String run) {
    return open.containsKey(run);
  }

  /**
   * Whether {@code block} is one that {@code run} declared; false for an unknown run.
   */
  synchronized boolean declared(String run, int block) {
    Run r = open.get(run);
    return r != null && r.declared.contains(block);
  }

  synchronized Outcome blockStart(String run, int block, Instant now) {
    Run r = open.get(run);
    if (r == null) {
      return finished.containsKey(run) ? Outcome.DUPLICATE : Outcome.UNKNOWN_RUN;
    }
    if (r.blockStarts.containsKey(block)) {
      return Outcome.DUPLICATE;
    }
    r.blockStarts.put(block, now);
    publish.accept(new AgentEvent.BlockStarted(instance, now, run, block));
    return Outcome.APPLIED;
  }

  /** Bytes of a block's stream from {@code offset} on; bytes already received are ignored. */
  synchronized Outcome output(String run, int block, OutputStream stream, long offset, byte[] bytes, Instant now) {
    Run r = open.get(run);
    if (r == null) {
      return finished.containsKey(run) ? Outcome.DUPLICATE : Outcome.UNKNOWN_RUN;
    }
    if (r.ended.contains(block)) {
      return Outcome.DUPLICATE;
    }
    List<String> lines = r.outputs.computeIfAbsent(block + "/" + stream, k -> new OutputAssembler()).accept(offset, bytes);
    lines.forEach(l -> publish.accept(new AgentEvent.OutputLine(instance, now, run, block, stream, l)));
    return Outcome.APPLIED;
  }

  synchronized Outcome blockEnd(String run, int block, int exit, boolean timedOut, Instant now) {
    Run r = open.get(run);
    if (r == null) {
      return finished.containsKey(run) ? Outcome.DUPLICATE : Outcome.UNKNOWN_RUN;
    }
    if (!r.ended.add(block)) {
      return Outcome.DUPLICATE;
    }
    Instant started = r.blockStarts.getOrDefault(block, now);
    for (OutputStream s : OutputStream.values()) {
      OutputAssembler a = r.outputs.remove(block + "/" + s);
      if (a != null) {
        a.flush().forEach(l -> publish.accept(new AgentEvent.OutputLine(instance, now, run, block, s, l)));
      }
    }
    publish.accept(new AgentEvent.BlockFinished(instance, now, run, block, exit, timedOut, Duration.between(started, now)));
    return Outcome.APPLIED;
  }

  /**
   * A run ended.
   *
   * @return the outcome; {@link Outcome#APPLIED} carries the run's trigger through {@code trigger}
   */
  synchronized Outcome end(String run, boolean ok, int failedBlock, int exit, Instant now, Consumer<Trigger> trigger) {
    Run r = open.remove(run);
    if (r == null) {
      return finished.containsKey(run) ? Outcome.DUPLICATE : Outcome.UNKNOWN_RUN;
    }
    finished.put(run, Boolean.TRUE);
    trigger.accept(r.trigger);
    publish.accept(new AgentEvent.RunFinished(instance, now, run, r.trigger, ok, failedBlock, exit, Duration.between(r.started, now)));
    return Outcome.APPLIED;
  }

  /** How many runs are open (for tests of the bounds). */
  synchronized int openRuns() {
    return open.size();
  }
}
