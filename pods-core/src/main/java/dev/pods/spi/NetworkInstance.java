package dev.pods.spi;

import java.util.Objects;

/**
 * An instance network as built by a {@link NetworkDriver}: its spec and the names the hypervisor needs to attach
 * the VM. Immutable value; it does not own anything (delete through {@link NetworkDriver#delete(String)}).
 *
 * @param spec the spec it was built (or last updated) from
 * @param namespace the name of the instance's network namespace (a path under {@code /run/netns} on Linux)
 * @param vmBridge the L2 bridge, without addresses, to which the VM's NIC is attached (in the namespace the
 *     hypervisor sees)
 * @param tap the persistent tap device on {@code vmBridge} that the hypervisor opens for the VM's NIC
 * @since 0.1
 */
public record NetworkInstance(NetworkSpec spec, String namespace, String vmBridge, String tap) {

  /** Checks that no component is null. */
  public NetworkInstance {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(vmBridge, "vmBridge");
    Objects.requireNonNull(tap, "tap");
  }

  /** The instance id of the spec. */
  public String instanceId() {
    return spec.instanceId();
  }
}
