/**
 * etcd implementations of the runtime's storage SPIs, the first step towards pods over several hosts: an
 * {@link dev.pods.spi.StateStore} whose documents are etcd keys, and an {@link dev.pods.spi.IpAddressPool} whose
 * claims are etcd transactions, so that clients on several hosts never hand out one address twice.
 *
 * <pre>{@code
 * try (Client etcd = Client.builder().endpoints("http://10.250.0.1:2379", "http://10.250.0.2:2379").build()) {
 *   EtcdKeyspace space = EtcdKeyspace.of(etcd, "/pods/shop");      // every key under /pods/shop/
 *   StateStore records = new EtcdStateStore(space);
 *   IpAddressPool publics = new EtcdIpAddressPool(space, IpPoolSpec.addresses("public", Cidr.parse("10.99.0.0/24")));
 *   PodRuntime runtime = PodRuntime.localBuilder().stateStore(records).build();
 * }
 * }</pre>
 *
 * <p>The caller builds and closes the jetcd {@code Client}; nothing here closes it.
 */
@NullMarked
package dev.pods.etcd;

import org.jspecify.annotations.NullMarked;
