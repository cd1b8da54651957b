package dev.pods;

import java.time.Duration;
import java.util.List;

/**
 * A pod deployed by a {@link PodRuntime}: its instances, their events, and the means to wait for them and to
 * remove them.
 *
 * <pre>{@code
 * Deployment d = runtime.deploy(shop);             // returns once scheduled
 * d.events().subscribe(e -> LOG.info("{}", e));
 * d.awaitReady(Duration.ofMinutes(2));              // initial phase done everywhere
 * ExecResult r = d.instance("web", 0).exec("cat", "/etc/hostname");
 * d.destroy();
 * }</pre>
 *
 * <p><b>Contract.</b> Thread-safe. {@link #instances()} is fixed when {@link PodRuntime#deploy} returns.
 * {@link #awaitReady} and {@link #destroy()} block; everything else returns at once. The deployment owns
 * every domain, network, disk, metadata listener and address allocation of its instances; {@link #destroy()} (or
 * {@link #close()}, the same) removes them all. Closing the runtime instead leaves them running.
 *
 * @since 0.1
 */
public interface Deployment extends AutoCloseable {

  /** The pod as deployed. */
  Pod pod();

  /** Every instance, unit by unit in the pod's order, then by index. */
  List<Instance> instances();

  /**
   * The instance {@code index} of {@code unit}.
   *
   * @throws IllegalArgumentException when there is no such instance
   */
  Instance instance(String unit, int index);

  /** The event feed. */
  PodEvents events();

  /**
   * Waits until every instance finished its initial phase (an instance being restarted: until its new boot's run
   * finished too, see {@link Instance#restart()}).
   *
   * @throws PhaseTimeoutException when {@code timeout} passes first; its message names the instances that are not
   *     ready, each with its last output lines (or its last console lines when the agent reported nothing)
   * @throws PodsException as soon as an instance failed (its creation or its initial phase), with its last output
   *     lines; the other instances are left as they are
   * @throws IllegalStateException when the deployment was destroyed
   */
  void awaitReady(Duration timeout);

  /**
   * Blocks until {@code condition} held for every instance (see {@link Wait}); the instances are waited for
   * together, within the one timeout.
   *
   * @throws WaitTimeoutException when {@code timeout} passes first; its message names each instance the condition
   *     does not hold for, with its state and last output lines
   * @throws PodsException at once when an instance is or becomes {@link InstanceState#FAILED} (or a reload waited
   *     for failed), with its cause and last output lines; when interrupted
   * @throws IllegalStateException when the deployment is or becomes destroyed
   */
  void await(Wait condition, Duration timeout);

  /** Whether every instance is {@link InstanceState#READY}. */
  boolean isReady();

  /**
   * Removes everything the deployment owns: metadata listeners, domains, instance files, networks, address
   * allocations and its state file. Waits for instances still being created first. Idempotent.
   *
   * @throws PodsException when something could not be removed; everything else was still removed, and a second
   *     call retries what is left
   */
  void destroy();

  /** The same as {@link #destroy()}. */
  @Override
  void close();
}
