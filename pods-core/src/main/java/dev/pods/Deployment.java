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
 * d.scale("web", 3);                                // web-2 built, web-0 and web-1 reload
 * MigrationPlan p = d.plan(d.pod().withUnit(web.toBuilder().memoryMib(1024).build()));
 * p.apply();                                       // web-0, web-1, web-2 recreated one at a time
 * d.destroy();
 * }</pre>
 *
 * <p><b>Contract.</b> Thread-safe. {@link #instances()} and {@link #pod()} change only through {@link #scale} and
 * {@link MigrationPlan#apply()}, which are serialized with each other and with {@link #destroy()}; an
 * {@link Instance} handle stays valid across live updates and recreations (same name, id and addresses) and is
 * {@link InstanceState#DESTROYED} once its instance was removed. {@link #awaitReady}, {@link #scale},
 * {@link MigrationPlan#apply()} and {@link #destroy()} block; everything else returns at once. The deployment owns
 * every domain, network, disk, metadata listener and address allocation of its instances; {@link #destroy()} (or
 * {@link #close()}, the same) removes them all. Closing the runtime instead leaves them running.
 *
 * @since 0.1
 */
public interface Deployment extends AutoCloseable {

  /**
   * The pod as deployed, or as migrated to by the last {@link #scale} or {@link MigrationPlan#apply()} (set when
   * their changes start: after one that stopped midway, {@code plan(pod())} lists what is left to do).
   */
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
   *     lines, or is {@link InstanceState#STOPPED} with no restart planned (saying why); the other instances are
   *     left as they are. A stopped instance whose restart is planned is waited for.
   * @throws IllegalStateException when the deployment was destroyed
   */
  void awaitReady(Duration timeout);

  /**
   * Blocks until {@code condition} held for every instance (see {@link Wait}); the instances are waited for
   * together, within the one timeout. The instances are those of the deployment when the call starts: one that a
   * scale or migration removes meanwhile is no longer waited for, one it adds is not waited for.
   *
   * @throws WaitTimeoutException when {@code timeout} passes first; its message names each instance the condition
   *     does not hold for, with its state and last output lines
   * @throws PodsException at once when an instance is or becomes {@link InstanceState#FAILED} (or a reload waited
   *     for failed), with its cause and last output lines, or {@link InstanceState#STOPPED}, saying what happened
   *     when and when it restarts; when interrupted
   * @throws IllegalStateException when the deployment is or becomes destroyed
   */
  void await(Wait condition, Duration timeout);

  /** Whether every instance is {@link InstanceState#READY}. */
  boolean isReady();

  /**
   * Removes everything the deployment owns: metadata listeners, domains, instance files, networks, address
   * allocations and its state file. Waits for instances still being created first. Idempotent. The state file is
   * marked first, so a runtime of the same owner that starts after a crash in the middle finishes the removal.
   *
   * @throws PodsException when something could not be removed; everything else was still removed, and a second
   *     call retries what is left
   */
  void destroy();

  /**
   * Sets the number of instances of {@code unit}: new instances (the next indices) get addresses and are built in
   * parallel like at {@link PodRuntime#deploy}; instances beyond {@code count} are removed, highest index first,
   * with everything they own; every remaining instance of the pod then sees the new set of addresses (its agent
   * runs the {@code reload} blocks, where {@code pods get +/unit/<unit>/private_ips} lists the new set). The state
   * file is rewritten.
   *
   * <p>The same as {@code plan(pod().withUnit(<unit with count>)).apply()}: blocks until the removals are done and
   * the new instances are scheduled ({@link #awaitReady} then waits for them). When the deployment differs from
   * its pod in more than the count (failed instances, or an earlier {@link MigrationPlan#apply()} that stopped
   * midway), that is taken care of as well, and blocks as {@link MigrationPlan#apply()} does.
   *
   * @throws IllegalArgumentException when the pod has no such unit, or {@code count} is negative or above
   *     {@link Unit#MAX_COUNT}
   * @throws PodsException as {@link MigrationPlan#apply()}
   * @throws IllegalStateException when the deployment was destroyed
   */
  void scale(String unit, int count);

  /**
   * Plans the migration of this deployment to {@code next}: compares {@code next} with {@link #pod()} and with what
   * each instance runs. Does no I/O and changes nothing; never blocks.
   *
   * @throws IllegalArgumentException when {@code next} has another name than the deployed pod
   * @throws PodsException when a unit of {@code next} wants a public address and the runtime has no public network
   * @throws PodSpecException when the runtime's {@link ImagePolicy} refuses an image of {@code next}
   * @throws IllegalStateException when the deployment was destroyed
   */
  MigrationPlan plan(Pod next);

  /** The same as {@link #destroy()}. */
  @Override
  void close();
}
