/**
 * Implementation details of the libvirt backend: the domain XML writer and reader, the libvirt event loop, the
 * KVM probe and external command helpers. Not API: may change in any release.
 */
@NullMarked
package dev.pods.kvm.internal;

import org.jspecify.annotations.NullMarked;
