package dev.pods;

import dev.pods.diff.PodDiff;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What it takes to move a {@link Deployment} to another version of its pod: the {@link PodDiff} and, for each
 * instance, the {@link Action} that {@link #apply()} takes.
 *
 * <pre>{@code
 * MigrationPlan p = d.plan(shop.withUnit(web.toBuilder().memoryMib(1024).count(3).build()));
 * System.out.print(p.toText());     // web-0  recreate  (memory 512 -> 1024 MiB) ... web-2  create  (count 2 -> 3)
 * p.apply();                        // blocks until every recreated instance finished its initial phase again
 * d.awaitReady(Duration.ofMinutes(2));   // the created ones
 * }</pre>
 *
 * <p>The actions, in the order {@link #apply()} takes them:
 * <ol>
 *   <li>{@link Action#REMOVE} (count down, unit removed), highest index first: everything the instance owns is
 *       removed and its addresses released; then {@link Action#CREATE} (count up, new unit): addresses allocated,
 *       the instances built in parallel like {@link PodRuntime#deploy}, not waited for;
 *   <li>{@link Action#LIVE}: the instance's unit changed in ways a running guest takes without a new VM (scripts,
 *       count, firewalls, DNS, roles, secrets, journals, documentation): its metadata service serves the new spec
 *       and version, so its agent fetches the new scripts and runs the {@code reload} blocks;
 *   <li>{@link Action#RECREATE}, one instance at a time: the image, processors, memory, disk size, VPC, mounts,
 *       VNC or public address changed, or the instance {@link InstanceState#FAILED}: its domain, disk, seed and
 *       network are removed and built anew with the same id, name and private address, and its {@code initial}
 *       phase runs again; apply waits for it before the next.
 * </ol>
 * Peers of removed and created instances ({@link Action#KEEP} included) run their {@code reload} blocks because the
 * addresses they see change; the text form notes it. A changed {@code initial} block is LIVE: instances already
 * running do not run it again (it runs on instances created or recreated later).
 *
 * <p><b>Contract.</b> An immutable value: the diff, steps and text are fixed when {@link Deployment#plan} returns.
 * Thread-safe; {@link #apply()} blocks (see there) and is serialized with every other change of the deployment.
 * A plan is made against one state of its deployment: once the deployment changed ({@link Deployment#scale}, another
 * plan applied, this one included), it refuses to apply with a {@link ConflictException}.
 *
 * @since 0.1
 */
public interface MigrationPlan {

  /** How long {@link #apply()} waits for each recreated instance to finish its initial phase. */
  Duration DEFAULT_RECREATE_TIMEOUT = Duration.ofMinutes(10);

  /** What {@link #apply()} does to one instance. */
  enum Action {
    /** Nothing (it may still reload, when peers come or go). */
    KEEP,
    /** It gets the new spec and reloads. */
    LIVE,
    /** Its VM is built anew (same id and addresses) and its initial phase runs again. */
    RECREATE,
    /** A new instance. */
    CREATE,
    /** The instance is removed. */
    REMOVE
  }

  /**
   * One instance's part of the plan.
   *
   * @param instance the instance's name, {@code <unit>-<index>}
   * @param unit its unit's name
   * @param index its index in the unit
   * @param action what happens to it
   * @param reasons why, for people: e.g. {@code memory 512 -> 1024 MiB}, {@code count 1 -> 2}, {@code failed};
   *     empty for a plain {@link Action#KEEP}
   */
  record Step(String instance, String unit, int index, Action action, List<String> reasons) {
    /** Validates and copies. */
    public Step {
      Objects.requireNonNull(instance, "instance");
      Objects.requireNonNull(unit, "unit");
      Objects.requireNonNull(action, "action");
      reasons = List.copyOf(reasons);
    }
  }

  /** The deployment's pod when the plan was made. */
  Pod from();

  /** The pod the plan leads to. */
  Pod to();

  /** The difference between {@link #from()} and {@link #to()}. */
  PodDiff diff();

  /**
   * One step per instance, unit by unit in the new pod's order (removed units last), then by index: every instance
   * of the deployment (created ones included) appears once.
   */
  List<Step> steps();

  /** Whether applying changes nothing: the pods are equal and every step is {@link Action#KEEP}. */
  boolean isEmpty();

  /**
   * The plan for people: the diff ({@link PodDiff#toText()}), then one line per instance, e.g.
   * {@code web-0  recreate  (memory 512 -> 1024 MiB)}.
   */
  String toText();

  /** {@link #apply(Duration)} with {@link #DEFAULT_RECREATE_TIMEOUT}. */
  void apply();

  /**
   * Applies the plan (see the order above). Blocks until removals are done, creations scheduled, live updates
   * handed to the metadata services, and every recreated instance finished its initial phase. The deployment's
   * {@link Deployment#pod()} is {@link #to()} from the moment the changes start, so when apply stops midway,
   * {@code d.plan(d.pod())} lists what is left (a failed recreation is recreated again).
   *
   * @param recreateTimeout how long to wait for each recreated instance
   * @throws ConflictException when the deployment changed since the plan was made; nothing was done
   * @throws PodsException when addresses for new instances cannot be allocated (nothing was done), when an instance
   *     cannot be removed (creations and live updates were still made, no recreation started), or when a
   *     recreation failed or timed out (the message names it, the instances recreated before it and those left
   *     as they were; the failed one is {@link InstanceState#FAILED} or still starting)
   * @throws IllegalStateException when the deployment was destroyed or its runtime closed before; when that
   *     happens while a recreation is waited for, the apply ends at once with a {@link PodsException} naming it
   */
  void apply(Duration recreateTimeout);
}
