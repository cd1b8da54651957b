/**
 * pods over several hosts coordinated by etcd. The runtime's storage SPIs on etcd: an
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
 * <p>Nodes of a cluster ({@link dev.pods.etcd.ClusterNode}) register under a lease, elect a leader that places
 * the desired instances ({@link dev.pods.etcd.ClusterPods}, {@link dev.pods.etcd.Placement}) and move a lost node's
 * instances to the others; {@link dev.pods.etcd.Nodes} lists them:
 *
 * <pre>{@code
 * try (Client etcd = Client.builder().endpoints("http://10.250.0.1:2379").build();
 *      ClusterNode node = ClusterNode.join(EtcdKeyspace.of(etcd, "/pods/dc1"),
 *          new NodeSpec("h1", "10.250.0.1", 8, 16384), myLocalInstances, Duration.ofSeconds(10))) {
 *   new ClusterPods(EtcdKeyspace.of(etcd, "/pods/dc1")).put(shop);      // the leader places its instances
 *   new Nodes(EtcdKeyspace.of(etcd, "/pods/dc1")).list();               // capacity, load, health, leader
 * }
 * }</pre>
 *
 * <p>{@link dev.pods.etcd.ClusterHost} runs a node's share of the cluster on a local runtime (what {@code pods node}
 * runs): the leader's assignments become the runtime's instances, their states, events and exec answers go to etcd.
 *
 * <p>{@link dev.pods.etcd.FabricPeers} keeps a node's VPC fabric peers equal to the underlay addresses the other live
 * nodes registered ({@link dev.pods.etcd.NodeSpec#withUnderlay}), so that instances of one VPC reach each other across
 * the nodes.
 *
 * <p>The caller builds and closes the jetcd {@code Client}; nothing here closes it.
 */
@NullMarked
package dev.pods.etcd;

import org.jspecify.annotations.NullMarked;
