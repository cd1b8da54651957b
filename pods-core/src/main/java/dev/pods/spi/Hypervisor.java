package dev.pods.spi;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs instance domains (virtual machines) on one host: define, start, stop, reboot, destroy, undefine, and
 * observe them. The node is a parameter of the implementation (e.g. a libvirt URI), never a global.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>Thread-safety:</b> implementations are safe for concurrent use by several threads.
 *   <li><b>Blocking:</b> every method blocks until the operation is done ({@link #stop} up to its grace period,
 *       then the forced power-off). None returns a future; callers wanting asynchrony use their own executor.
 *   <li><b>Idempotency:</b> {@link #define} of a spec equal to the defined one changes nothing; {@link #start}
 *       of a running domain, {@link #stop}/{@link #destroy} of a stopped one and {@link #undefine} of a missing
 *       one are no-ops.
 *   <li><b>Ownership:</b> a domain belongs to the owner in its {@link DomainMetadata}. {@link #define} never
 *       replaces a domain of another owner, nor one that pods did not create.
 *   <li><b>Failures:</b> every failure is a {@link dev.pods.BackendException} naming the operation, the domain
 *       and the backend's error code; a failed operation leaves nothing half-created behind.
 *   <li><b>Files:</b> the hypervisor does not own disk images, seed ISOs or log files named in a spec; the
 *       caller creates and deletes them.
 *   <li><b>Closing:</b> whoever created the hypervisor closes it. {@link #close()} is idempotent, releases the
 *       connection and listeners, and leaves domains running (they outlive the JVM).
 * </ul>
 */
public interface Hypervisor extends AutoCloseable {

  /** What this hypervisor is connected to, and what {@link Acceleration#AUTO} resolves to. */
  HypervisorInfo info();

  /**
   * Defines (or updates) a domain. When a domain of that name exists with the same owner, its definition is
   * replaced (a running guest sees the change at its next start) unless it is already equal to {@code spec},
   * in which case nothing happens.
   *
   * @return the domain as now defined; its spec's acceleration is resolved
   * @throws dev.pods.BackendException when a domain of that name belongs to another owner or was not created by
   *     pods, when a kernel or initrd of a direct kernel boot does not exist, or when the backend refuses it
   */
  DomainInfo define(DomainSpec spec);

  /**
   * Starts a defined domain; a no-op when it is already running.
   *
   * @throws dev.pods.BackendException when the domain is missing or fails to start (the domain stays defined
   *     and shut off)
   */
  void start(String name);

  /**
   * Stops a domain: asks the guest to power off (ACPI), waits up to {@code grace}, then powers it off forcibly.
   * Returns when the domain is shut off. A no-op for a missing or stopped domain.
   *
   * @param grace how long the guest may take; {@link Duration#ZERO} powers off at once
   * @return how the stop ended
   */
  StopOutcome stop(String name, Duration grace);

  /**
   * Asks a running guest to reboot (ACPI, as a power button followed by a new boot in the same domain). The
   * domain stays running; a {@link HypervisorEvent.Type#REBOOTED} event may follow when the backend sees it.
   *
   * @throws dev.pods.BackendException when the domain is missing or not running
   */
  void reboot(String name);

  /** Powers a domain off at once (pulling the plug); a no-op for a missing or stopped domain. */
  void destroy(String name);

  /** Removes a domain's definition, powering it off first when it runs; a no-op when it is missing. */
  void undefine(String name);

  /** The domain's state, {@link DomainState#MISSING} when no such domain is defined. */
  DomainState state(String name);

  /**
   * The pods domain with that name, whoever owns it; empty when no domain has that name or when it is not a pods
   * domain (one without pods metadata, which {@link #define} will also refuse to replace).
   */
  Optional<DomainInfo> find(String name);

  /**
   * Every domain whose metadata names {@code owner}, in name order. Domains without pods metadata are never
   * listed.
   */
  default List<DomainInfo> list(String owner) {
    java.util.Objects.requireNonNull(owner, "owner");
    return listAll().stream().filter(i -> i.metadata().owner().equals(owner)).toList();
  }

  /**
   * Every pods domain on the host whatever its owner (to find leftovers of crashed runtimes), in name order.
   */
  List<DomainInfo> listAll();

  /**
   * A resource usage sample of a running domain.
   *
   * @throws dev.pods.BackendException when the domain is missing or not running
   */
  HypervisorStats stats(String name);

  /**
   * What the guest has written to its serial console so far (the content of the spec's serial log file, decoded
   * as UTF-8 with malformed bytes replaced); empty when there is no log or nothing was written yet.
   *
   * @throws dev.pods.BackendException when the domain is missing
   */
  String consoleOutput(String name);

  /**
   * Where the VNC display of a running domain listens now: the spec's {@link DomainSpec#vncListen()} address and
   * the port the backend chose when the domain started (it may change when the domain is started again). The
   * display speaks RFB; with a {@link DomainSpec#vncPassword()} it offers VNC authentication only.
   *
   * @return the address, or empty when the domain has no display or does not run
   * @throws dev.pods.BackendException when the domain is missing
   */
  Optional<java.net.InetSocketAddress> vncDisplay(String name);

  /**
   * Subscribes to events of every domain on this host and of the connection. The listener may be called on a
   * backend thread and must return quickly; exceptions it throws are logged and ignored.
   *
   * @return a handle whose {@link Subscription#close()} ends the subscription (idempotent)
   */
  Subscription subscribe(Consumer<HypervisorEvent> listener);

  /** Closes the connection and ends every subscription; idempotent; domains keep running. */
  @Override
  void close();

  /** A listener registration; closing it is idempotent and never throws. */
  interface Subscription extends AutoCloseable {
    /** Ends the subscription; no event is delivered after this returns, except one already being delivered. */
    @Override
    void close();
  }
}
