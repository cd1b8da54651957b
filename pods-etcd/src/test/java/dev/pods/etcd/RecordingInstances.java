package dev.pods.etcd;

import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * {@link LocalInstances} for tests: a host whose instances are names in a set. Every start and stop is logged in
 * order ({@code start web-0}, {@code stop web-1}); starting what runs or stopping what does not fails, as the local
 * runtime would refuse a second domain of one instance. Thread-safe. In pods-etcd's test-jar, for other modules'
 * tests of nodes.
 */
public final class RecordingInstances implements LocalInstances {
  private final Set<String> running = new TreeSet<>();
  private final List<String> log = new ArrayList<>();
  private final Map<String, Cidr> addresses = new HashMap<>();
  private @Nullable IpAddressPool pool;

  /** A host that runs {@code left} already (what an earlier run of its node left). */
  public RecordingInstances(String... left) {
    running.addAll(List.of(left));
  }

  /** From now on, each start allocates the instance's private address from {@code p}, holder the instance id. */
  public synchronized RecordingInstances addressesFrom(IpAddressPool p) {
    pool = p;
    return this;
  }

  /** The address each instance got at its start here. */
  public synchronized Map<String, Cidr> addresses() {
    return Map.copyOf(addresses);
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
    if (pool != null) {
      addresses.put(assignment.instance(), pool.allocate(assignment.instance()));
    }
  }

  @Override
  public synchronized void stop(String instance) {
    if (!running.remove(instance)) {
      throw new IllegalStateException(instance + " does not run here");
    }
    log.add("stop " + instance);
  }

  /** Every start and stop so far, in order. */
  public synchronized List<String> log() {
    return List.copyOf(log);
  }
}
