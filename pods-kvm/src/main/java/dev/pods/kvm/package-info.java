/**
 * The {@link dev.pods.spi.Hypervisor} on libvirt (KVM when it works, QEMU TCG otherwise), with the disk and
 * seed helpers a runtime needs around it: a content-addressed base-image cache with qcow2 overlays and
 * persistent data disks ({@link dev.pods.kvm.DiskImages}), NoCloud seed ISOs ({@link dev.pods.kvm.SeedIso}) and
 * guest images built from Debian packages ({@link dev.pods.kvm.GuestImages}).
 *
 * <pre>{@code
 * try (LibvirtHypervisor hv = LibvirtHypervisor.builder().uri("qemu:///system").build()) {
 *   DiskImages disks = DiskImages.at(Path.of("/var/lib/pods"));
 *   Path base = disks.base(ImageSource.file(Path.of("/images/debian12.qcow2")), p -> {});
 *   Path root = disks.overlay(base, "podst-web-0", 8L << 30);
 *   hv.define(spec);  hv.start(spec.name());
 * }
 * }</pre>
 */
@NullMarked
package dev.pods.kvm;

import org.jspecify.annotations.NullMarked;
