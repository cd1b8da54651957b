package dev.pods;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A handle on one instance ({@code unit x index}) of a {@link Deployment}: one VM with its own network, files
 * and metadata service.
 *
 * <p>Thread-safe. Accessors never block; {@link #exec} blocks until the guest agent answered (or the request
 * timed out), {@link #await} until its condition held, {@link #restart} until the domain was rebooted,
 * {@link #stop} until it is shut off, {@link #start} until it started, and {@link #consoleOutput()} reads a file. The handle owns nothing: its resources (including the forwarders of
 * {@link #endpoint}) belong to the deployment, which removes them in {@link Deployment#destroy()}.
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
   * The current state with why and since when (e.g. {@code STOPPED since 17:02:11: its domain was destroyed;
   * restart 1 at 17:02:21}). Never blocks.
   */
  InstanceStatus status();

  /**
   * The VM's private address (allocated when the instance was scheduled: by {@link PodRuntime#deploy},
   * {@link Deployment#scale} or a {@link MigrationPlan}); a recreation keeps it.
   */
  Inet4Address privateAddress();

  /** The VM's public address, when its unit has one (a recreation that turns it on or off changes it). */
  Optional<Inet4Address> publicAddress();

  /** The last lines (up to 50) the agent reported from the phase blocks, oldest first. */
  List<String> recentOutput();

  /**
   * The last lines (up to 1000) of journal input {@code key} of the unit's {@code kind: journal} resources, oldest
   * first, as the agent shipped them since this runtime runs the instance (each also comes as a
   * {@link PodEvent.JournalLine}); empty for a key without lines. The agent follows each input from the moment it
   * starts ({@code tail -F PATH} for a file, {@code journalctl -f -u UNIT} for a systemd unit), batches lines and
   * never blocks the guest: while the host does not take them it keeps up to 1000 lines and drops (and reports,
   * as {@link PodEvent.JournalDropped}) the others.
   */
  List<String> journal(String key);

  /**
   * What the guest wrote to its serial console so far; empty before the domain exists. The log covers the boots
   * since the hypervisor last started the domain: a {@link #restart()} by guest reboot keeps appending to it, a
   * restart that fell back to stop and start begins a new log (with the libvirt backend, whose log file is the
   * {@code console.log} in the instance's folder).
   */
  String consoleOutput();

  /**
   * Runs {@code argv} in the guest through the agent (no shell), with {@link ExecRequest#DEFAULT_TIMEOUT}, and
   * waits for the result. A command that does not end in time is killed and reported with
   * {@link ExecResult#timedOut()}.
   *
   * @throws IllegalStateException when the instance has no metadata service (failed, destroyed, not yet created)
   * @throws PodsException at once when the instance is {@link InstanceState#STOPPED} or becomes so while the
   *     command runs, saying what happened and when (and when a restart is due); when the agent does not answer
   *     in time, saying when the guest last contacted its metadata service
   */
  ExecResult exec(String... argv);

  /** {@link #exec(String...)} with a full request (stdin, timeout); blocks. */
  ExecResult exec(ExecRequest request);

  /**
   * Asynchronous twin of {@link #exec(ExecRequest)}; never blocks. The future fails with a {@link PodsException}
   * as {@link #exec(String...)} says (at once for a stopped instance, when it stops, or when the agent did not
   * answer within the request's timeout and a grace of 30 s for the guest's answer to travel).
   */
  CompletableFuture<ExecResult> execAsync(ExecRequest request);

  /** How long {@link #restart()} lets the guest take to reboot before it powers the domain off and on. */
  Duration DEFAULT_RESTART_GRACE = Duration.ofSeconds(60);

  /**
   * Blocks until {@code condition} holds for this instance (see {@link Wait} for what each condition means).
   *
   * @throws WaitTimeoutException when {@code timeout} passes first; its message names the instance, the
   *     condition, the instance's state and its last output lines (or console lines when the agent reported none)
   * @throws PodsException at once when the instance is or becomes {@link InstanceState#FAILED}, or the reload
   *     waited for failed, with the cause and the last output lines; at once when it is or becomes
   *     {@link InstanceState#STOPPED}, saying what happened when and when it restarts; when interrupted (the flag
   *     is set again)
   * @throws IllegalStateException when the instance is or becomes {@link InstanceState#DESTROYED}
   */
  void await(Wait condition, Duration timeout);

  /**
   * A TCP address on {@code 127.0.0.1} (an ephemeral port in the JVM's own network namespace) that forwards each
   * connection to the VM's private address and {@code port}, the connection to the VM being opened inside the
   * instance's network namespace: a test reaches the guest without any route into the pod's networks. Bytes flow
   * both ways; a half-close (end of stream one way) is passed on; a connection the VM refuses is reset.
   *
   * <p>One forwarder per instance and port, made on the first call and returned by later ones. It serves a bounded
   * number of connections at once (further clients wait in the listen backlog) and is closed, with its
   * connections, when the deployment is destroyed or the runtime closed. Never blocks beyond binding the socket.
   *
   * @throws IllegalArgumentException unless {@code 1 <= port <= 65535}
   * @throws IllegalStateException when the instance has no network (not yet created, failed creation, destroyed),
   *     when it is {@link InstanceState#STOPPED} (saying what happened when), or the runtime is closed
   * @throws PodsException when the local socket cannot be bound
   */
  InetSocketAddress endpoint(int port);

  /**
   * The instance's VNC console, for a unit with {@code vnc: true} ({@link dev.pods.spec.InstanceOptions#vnc()}):
   * its domain's display on this host's loopback and the password it takes. With a public address the display
   * also answers on {@link VncConsole#PUBLIC_PORT} of that address (kept back from the VM), with the same
   * password, so that the console is never open without it. Blocks on the hypervisor.
   *
   * @return the console, or empty when the unit has none or the domain does not run (yet)
   * @throws PodsException when the hypervisor cannot be asked
   */
  Optional<VncConsole> console();

  /** How long {@link #stop()} lets the guest take to power off before the domain is powered off forcibly. */
  Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(30);

  /** {@link #stop(Duration)} with {@link #DEFAULT_STOP_GRACE}. */
  void stop();

  /**
   * Stops the instance's VM: asks the guest to power off and, after {@code grace}, powers the domain off. The
   * instance becomes {@link InstanceState#STOPPED} (reason {@code "stopped by Instance.stop()"}) and stays so,
   * whatever its unit's {@link RestartPolicy}, until {@link #start()}; peers stop listing it. Its network,
   * disk, addresses, token and metadata service are kept. Blocks until the domain is shut off. A no-op when the
   * instance is already stopped this way.
   *
   * @throws IllegalStateException unless the instance is {@code BOOTING}, {@code INITIALIZING}, {@code READY},
   *     {@code UNHEALTHY} or {@code STOPPED}
   * @throws PodsException when the hypervisor fails
   */
  void stop(Duration grace);

  /**
   * Starts a {@link InstanceState#STOPPED} instance's domain again (the same disk, addresses and token): it
   * becomes {@link InstanceState#BOOTING}, its agent runs the {@code reboot} and {@code reload} blocks (or the
   * initial phase, when the first boot never finished) and it is {@code READY} again. Cancels a pending automatic
   * restart. Returns once the domain started, not when the blocks ran (wait with
   * {@code await(Wait.forPhase(Phase.REBOOT), ...)}).
   *
   * @throws IllegalStateException unless the instance is {@code STOPPED}
   * @throws PodsException when the hypervisor fails (the instance stays stopped)
   */
  void start();

  /** {@link #restart(Duration)} with {@link #DEFAULT_RESTART_GRACE}. */
  void restart();

  /**
   * Reboots the instance's VM: asks the hypervisor for a guest reboot and, when the guest has not rebooted within
   * {@code grace}, powers the domain off and starts it again ({@link Duration#ZERO} does that at once, without
   * asking the guest; a stopped domain is just started). The agent then
   * runs the {@code reboot} and {@code reload} blocks ({@link Trigger#REBOOT}). Returns once the domain was
   * rebooted, not when the blocks ran: wait for that with {@code await(Wait.forPhase(Phase.REBOOT), ...)}.
   *
   * <p>States: the instance goes from {@link InstanceState#READY} to {@link InstanceState#BOOTING} before the
   * reboot is asked for, and back to {@code READY} when the new boot's run finished successfully; a failed reboot
   * run makes it {@link InstanceState#FAILED} (the VM is kept), as a failed initial phase does. So
   * {@link Deployment#awaitReady} and {@link Deployment#isReady()} keep meaning "every instance finished its
   * current boot's phases". A reboot the guest does by itself goes the same way once its run starts.
   *
   * @throws IllegalStateException unless the instance finished its first boot and is {@code READY},
   *     {@code UNHEALTHY}, {@code STOPPED} (its domain is started; a planned restart or a {@link #stop()} ends) or
   *     {@code BOOTING} after an earlier restart
   * @throws PodsException when the hypervisor fails (the instance's state is left as it was then), or interrupted
   */
  void restart(Duration grace);
}
