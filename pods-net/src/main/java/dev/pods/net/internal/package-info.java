/**
 * Implementation details of pods-net, one job per class: the parts {@code LinuxNetworkDriver} orchestrates
 * (instance records {@link dev.pods.net.internal.RecordStore}, host-wide link indexes
 * {@link dev.pods.net.internal.LinkIndexes}, the host side and VPC bridges {@link dev.pods.net.internal.VpcBridges},
 * dnsmasq supervision {@link dev.pods.net.internal.DnsmasqSupervisor}, the resolver's names
 * {@link dev.pods.net.internal.ResolverHosts}, owner marks and reaping {@link dev.pods.net.internal.OwnerMarks} and
 * {@link dev.pods.net.internal.Reaper}, sockets and tasks in namespaces {@link dev.pods.net.internal.NamespaceSockets},
 * the cheap probe {@link dev.pods.net.internal.IntegrityProbe}), and what they use: command programs, parsers,
 * namespaces through JNA, state files.
 */
@NullMarked
package dev.pods.net.internal;

import org.jspecify.annotations.NullMarked;
