package dev.pods.etcd;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@link LocalInstances} for tests: a host whose instances are names in a set. Every start and stop is logged in
 * order ({@code start web-0}, {@code stop web-1}); starting what runs or stopping what does not fails, as the local
 * runtime would refuse a second domain of one instance. Thread-safe.
 */
final class RecordingInstances implements LocalInstances {
  private final Set<String> running = new TreeSet<>();
  private final List<String> log = new ArrayList<>();

  /** A host that runs {@code left} already (what an earlier run of its node left). */
  RecordingInstances(String... left) {
    running.addAll(List.of(left));
  }

  @Override
  public synchronized Set<String> running() {
    return new TreeSet<>(running);
  }

  @Override
  public synchronized void start(Assignment assignment) {
    if (!running.add(assignment.instance())) {
      throw new IllegalStateException(assignment.instance() + " runs here already");
    }
    log.add("start " + assignment.instance());
  }

  @Override
  public synchronized void stop(String instance) {
    if (!running.remove(instance)) {
      throw new IllegalStateException(instance + " does not run here");
    }
    log.add("stop " + instance);
  }

  synchronized List<String> log() {
    return List.copyOf(log);
  }
}
