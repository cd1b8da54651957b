package dev.pods.spi;

import dev.pods.InstanceState;
import java.net.Inet4Address;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * What makes a runtime one host of several running the same pods (a node of a cluster, see pods-etcd): which
 * instances of a pod this runtime runs, and the pod's instances that other hosts run, as this runtime's instances
 * see them. Given with {@link dev.pods.PodRuntime.Builder#membership}; without one a runtime runs every instance of
 * the pods it deploys and knows no others.
 *
 * <p>With a membership, the runtime
 * <ul>
 *   <li>creates, on {@link dev.pods.PodRuntime#deploy} and on every {@link dev.pods.MigrationPlan#apply()}, only the
 *       instances of the pod that {@link #hosts} says it runs, and removes (as a scale-down does) those it no longer
 *       runs;</li>
 *   <li>when {@link #listen told} that a pod changed, applies the same to that pod's deployment at once (on its own
 *       executor: instances newly hosted are created, instances no longer hosted are removed; serialised with
 *       scale, apply and destroy, and a burst of changes shares a re-plan or two; failed instances are left to the
 *       user's plans) and refreshes every view that names peers, without waiting for an apply under way: the
 *       metadata service's {@code +/unit/...} values (the instances run {@code reload}), firewall rules with unit
 *       sources, and DNS records;</li>
 *   <li>counts {@link #remotePeers} in those views exactly as its own instances in the same {@link InstanceState}
 *       (listed while it holds its addresses and is not stopped, unhealthy or failed; healthy when READY).</li>
 * </ul>
 * The runtime's own address pools still decide instance addresses: a cluster gives its nodes a shared private pool
 * (one address per instance name across the cluster, kept when the instance moves). With a membership the runtime
 * never releases a private address, neither when it removes an instance nor on destroy: the cluster does, once no
 * host runs the instance. A restarted runtime adopts its recorded instances as one without a membership does, then
 * removes those no longer hosted here.
 *
 * <p>Thread-safe: called from any runtime thread; {@link #hosts} and {@link #remotePeers} answer from memory (no
 * I/O, no blocking). The runtime stops listening when it closes; the membership is not closed by the runtime.
 *
 * @since 0.2
 */
public interface PodMembership {

  /** Whether this runtime runs instance {@code instance} ({@code UNIT-INDEX}) of pod {@code pod}. */
  boolean hosts(String pod, String instance);

  /** The instances of {@code pod} that other hosts run (never one {@link #hosts} says runs here), in any order. */
  List<RemotePeer> remotePeers(String pod);

  /**
   * Tells {@code listener} the name of a pod whenever {@link #hosts} or {@link #remotePeers} may answer differently
   * for it. The listener must not block; it may be called from any thread, for a pod this runtime has not
   * deployed (it then ignores it).
   *
   * @return closing it stops the calls
   */
  AutoCloseable listen(Consumer<String> listener);

  /**
   * One instance that another host runs, as the views of this runtime's instances show it. Immutable.
   *
   * @param unit its unit's name
   * @param index its index in the unit
   * @param privateAddress its private address (in the pod's VPC)
   * @param publicAddress its public address, or {@code null} when it has none
   * @param state its state now, as its host last reported it (a failing check shows as
   *     {@link InstanceState#UNHEALTHY})
   */
  record RemotePeer(String unit, int index, Inet4Address privateAddress, @Nullable Inet4Address publicAddress,
      InstanceState state) {

    /** Validates. */
    public RemotePeer {
      Objects.requireNonNull(unit, "unit");
      Objects.requireNonNull(privateAddress, "privateAddress");
      Objects.requireNonNull(state, "state");
      if (index < 0) {
        throw new IllegalArgumentException("remote peer " + unit + "-" + index + ": index must be >= 0");
      }
    }

    /** Its name in the pod, {@code UNIT-INDEX}. */
    public String name() {
      return unit + "-" + index;
    }
  }
}
