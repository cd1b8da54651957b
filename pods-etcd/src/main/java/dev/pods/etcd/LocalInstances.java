package dev.pods.etcd;

import java.util.Set;

/**
 * What a node runs on its host, as its {@link ClusterNode} drives it: the node starts the instances the leader
 * assigns to it and stops those it must give up. {@link ClusterHost} implements it on a local runtime; a host
 * application with other means of running instances (or a test) may implement it itself.
 *
 * <p>Called from one thread of the node at a time ({@code pods-node-NAME}); calls may block (a start may take as
 * long as it needs) but hold up the node's other work meanwhile.
 *
 * @since 0.1
 */
public interface LocalInstances {

  /**
   * The instances ({@code POD/UNIT-INDEX}) this host runs now, including those a previous run of the node left
   * (domains outlive the JVM): a node that joins gives up every one not assigned to it before it starts anything.
   */
  Set<String> running();

  /** Starts {@code assignment}'s instance here; {@link Assignment#why()} says why it is here. */
  void start(Assignment assignment);

  /** Stops and removes {@code instance} here (assigned elsewhere now, no longer desired, or the node is fenced). */
  void stop(String instance);
}
