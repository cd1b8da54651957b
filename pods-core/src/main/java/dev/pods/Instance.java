package dev.pods;

import dev.pods.imds.ExecRequest;
import dev.pods.imds.ExecResult;
import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A handle on one instance ({@code unit x index}) of a {@link Deployment}: one VM with its own network, files
 * and metadata service.
 *
 * <p>Thread-safe. Accessors never block; {@link #exec} blocks until the guest agent answered (or the request
 * timed out) and {@link #consoleOutput()} reads a file. The handle owns nothing: its resources belong to the
 * deployment, which removes them in {@link Deployment#destroy()}.
 *
 * @since 0.1
 */
public interface Instance {

  /** {@code <unit>-<index>}, unique within the deployment; the guest's host name. */
  String name();

  /** The unit's name. */
  String unit();

  /** The index within the unit, from 0. */
  int index();

  /** The instance's identity on this host: its network's instance id (and the base of its namespace name). */
  String id();

  /** The hypervisor's name of the instance's domain. */
  String domainName();

  /** The current state. */
  InstanceState state();

  /** Why the instance is {@link InstanceState#FAILED}, if it is. */
  Optional<Throwable> failure();

  /**
   * The VM's private address (allocated when the instance was scheduled: by {@link PodRuntime#deploy},
   * {@link Deployment#scale} or a {@link MigrationPlan}); a recreation keeps it.
   */
  Inet4Address privateAddress();

  /** The VM's public address, when its unit has one (a recreation that turns it on or off changes it). */
  Optional<Inet4Address> publicAddress();

  /** The last lines (up to 50) the agent reported from the phase blocks, oldest first. */
  List<String> recentOutput();

  /** What the guest wrote to its serial console so far; empty before the domain exists. */
  String consoleOutput();

  /**
   * Runs {@code argv} in the guest through the agent (no shell), with {@link ExecRequest#DEFAULT_TIMEOUT}, and
   * waits for the result. A command that does not end in time is killed and reported with
   * {@link ExecResult#timedOut()}.
   *
   * @throws IllegalStateException when the instance has no metadata service (failed, destroyed, not yet created)
   * @throws PodsException when the agent does not answer in time
   */
  ExecResult exec(String... argv);

  /** {@link #exec(String...)} with a full request (stdin, timeout); blocks. */
  ExecResult exec(ExecRequest request);

  /** Asynchronous twin of {@link #exec(ExecRequest)}; never blocks. */
  CompletableFuture<ExecResult> execAsync(ExecRequest request);
}
