package dev.pods.etcd.internal;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the node running an instance says about it now, under that node's lease
 * ({@code PREFIX/cluster/status/POD/UNIT-INDEX}): etcd deletes it when the node is lost, so an instance without one
 * runs nowhere now. Written by the node at every state change of the instance; read by the cluster's client runtime
 * ({@code Instance.state()}, waits) and by the other nodes (their instances' peer views). Immutable.
 *
 * @param node the node that runs it
 * @param state its {@link dev.pods.InstanceState} name
 * @param reason why it is in that state (as {@link dev.pods.InstanceStatus#reason()})
 * @param sinceMillis when it entered that state, epoch milliseconds
 * @param privateAddress its dotted private address, or null when the node could not build it ({@code FAILED}, the
 *     reason saying why)
 * @param publicAddress its dotted public address on that node, or null
 * @param specVersion the version of its unit's spec it runs (a hash of the unit; the desired pod's unit gives the
 *     same hash when the instance runs it)
 * @param domain the name of its domain on that node (for messages)
 */
public record StatusRecord(String node, String state, String reason, long sinceMillis, @Nullable String privateAddress,
    @Nullable String publicAddress, String specVersion, String domain) {
  /**
   * The spec version an instance of {@code unit} runs: the same value the local runtime records for it (the first 16
   * hex digits of the SHA-256 of the unit's text form), so a client compares it with the desired pod's unit.
   */
  public static String specVersion(dev.pods.Unit unit) {
    return dev.pods.spi.PodDocuments.unitVersion(unit);
  }

  /** Validates. */
  public StatusRecord {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(specVersion, "specVersion");
    Objects.requireNonNull(domain, "domain");
  }
}
