package dev.pods.spi;

/**
 * How a domain's CPU is virtualised.
 *
 * <p>{@link #AUTO} lets the hypervisor decide: hardware acceleration (KVM) when a probe shows that it really runs
 * a guest on this host, software emulation (QEMU TCG) otherwise. An explicit {@link #KVM} or {@link #TCG} always
 * wins over the probe. A defined domain always reports the acceleration it actually uses, never {@code AUTO}.
 */
public enum Acceleration {
  /** Decided by the hypervisor: KVM when it works here, TCG otherwise (with a warning). */
  AUTO,
  /** Hardware virtualisation through {@code /dev/kvm}. */
  KVM,
  /** Software emulation (QEMU's tiny code generator): slow, but works everywhere. */
  TCG
}
