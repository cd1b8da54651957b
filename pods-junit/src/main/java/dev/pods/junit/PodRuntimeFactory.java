package dev.pods.junit;

import dev.pods.PodRuntime;
import java.util.Optional;

/**
 * Makes the {@link PodRuntime} that {@link PodTest @PodTest} classes deploy their pods on. Named by
 * {@link PodTest#runtime()}; the {@link PodsExtension} instantiates it with its no-argument constructor, asks
 * {@link #unavailableReason()} once per run, and calls {@link #create()} at most once per run (JVM), lazily, when
 * the first class needing it starts. The runtime is shared by every class naming the same factory class, possibly
 * from several threads (parallel test classes).
 *
 * <p><b>Ownership.</b> The extension destroys every deployment it made, then {@link PodRuntime#close() closes} the
 * runtime when the run ends: that close must release everything the factory built for it (hypervisor
 * connection, network driver, threads, per-run folders). The factory is responsible for its per-run identity
 * (owner label, name prefix) and for reaping the leftovers of earlier runs whose JVM died, before it returns the
 * runtime.
 *
 * @since 0.1
 */
public interface PodRuntimeFactory {

  /**
   * Why this host cannot run this factory's runtime, listing everything that is missing; empty when it can. The
   * test classes using this factory are skipped with this reason. Called once per run; may probe the host
   * (quickly, without side effects).
   */
  default Optional<String> unavailableReason() {
    return Optional.empty();
  }

  /**
   * Makes the run's runtime. Blocks (reaping leftovers, connecting).
   *
   * @throws dev.pods.PodsException when it cannot be made; the test classes using this factory then fail
   */
  PodRuntime create();
}
