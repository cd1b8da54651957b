package dev.pods.net.internal;

import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;

/**
 * What the state folder knows of one instance network: its spec, its names, its link indexes, and whether it was
 * built to the end.
 *
 * @param spec the spec it was built (or is being built) from
 * @param names its names, derived from the indexes
 * @param index the instance's link index
 * @param vpcIndex its VPC's link index, or -1 without VPC
 * @param ready whether the build finished (the {@code ready} marker exists)
 */
public record InstanceRecord(NetworkSpec spec, Names names, long index, long vpcIndex, boolean ready) {

  /** The same record with another spec and marked ready (an update keeps names and indexes). */
  public InstanceRecord updated(NetworkSpec newSpec) {
    return new InstanceRecord(newSpec, names, index, vpcIndex, true);
  }

  /** The network as the SPI hands it out. */
  public NetworkInstance instance() {
    return new NetworkInstance(spec, names.namespace(), names.bridge(), names.tap());
  }

  /** The instance id. */
  public String id() {
    return spec.instanceId();
  }

  /** {@code ready} or {@code creating}, for messages. */
  public String state() {
    return ready ? "ready" : "creating";
  }
}
