package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.InstanceState;
import dev.pods.spi.PodMembership.RemotePeer;
import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour of a {@link PodMembership}, as a runtime relies on it: answers from memory that follow what the
 * cluster says (hosted here, run elsewhere in some state, gone), never an instance both hosted here and a remote peer,
 * pods independent of each other, every change told to every listener with the pod's name, and no call after a
 * listener's handle is closed. A subclass supplies a {@link Cluster}: the membership under test and the means to
 * change what its cluster says (a fake's setters; for a membership fed by a store, writes to that store). Changes may
 * reach the membership asynchronously: the suite waits for the listener's calls, never for a fixed time.
 *
 * <p>Published in pods-testing's test-jar; {@code InMemoryMembershipTest} runs it on the fake.
 */
public abstract class PodMembershipContract {

  /**
   * A membership and the cluster it follows, for one test. Its methods may block (a store's writes); what they
   * change reaches {@link #membership()} at once or soon after, followed by a listener call for the pod.
   */
  public interface Cluster {
    /** The membership under test; the same object for the whole test. */
    PodMembership membership();

    /** The cluster assigns instance {@code instance} ({@code UNIT-INDEX}) of {@code pod} to this membership's host. */
    void host(String pod, String instance) throws Exception;

    /** The cluster no longer assigns instance {@code instance} of {@code pod} to this host (nor to another). */
    void unhost(String pod, String instance) throws Exception;

    /** Another host runs {@code peer} of {@code pod}, in its state; added or replacing the peer of its name. */
    void runElsewhere(String pod, RemotePeer peer) throws Exception;

    /** No other host runs instance {@code instance} of {@code pod} any more. */
    void goneElsewhere(String pod, String instance) throws Exception;

    /** Releases what the cluster holds; called once, at the end of the test. */
    void close() throws Exception;
  }

  /** A new cluster with nothing hosted and no remote peer, for one test; closed by the suite. */
  protected abstract Cluster createCluster() throws Exception;

  /** How long a change may take to reach the membership. */
  protected Duration changeTimeout() {
    return Duration.ofSeconds(10);
  }

  private static final Inet4Address A = Cidr.parseAddress("10.99.0.6");
  private static final Inet4Address B = Cidr.parseAddress("10.99.0.10");
  private static final Inet4Address PUBLIC = Cidr.parseAddress("198.51.100.9");

  private Cluster cluster;
  private PodMembership m;
  private final BlockingQueue<String> told = new LinkedBlockingQueue<>();
  /** Every call of the suite's listener, kept (the queue above is consumed by the waits). */
  private final List<String> allTold = new CopyOnWriteArrayList<>();
  private final List<AutoCloseable> handles = new ArrayList<>();

  @BeforeEach
  void openCluster() throws Exception {
    cluster = createCluster();
    m = cluster.membership();
    handles.add(m.listen(pod -> {
      allTold.add(pod);
      told.add(pod);
    }));
  }

  @AfterEach
  void closeCluster() throws Exception {
    for (AutoCloseable h : handles) {
      h.close();
    }
    cluster.close();
  }

  /**
   * Waits until {@code condition} holds, looking again after every call of the listener for {@code pod} (calls for
   * other pods are ignored); fails naming {@code what} when it does not hold within {@link #changeTimeout()}.
   */
  private void awaitTold(String pod, String what, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + changeTimeout().toNanos();
    while (!condition.getAsBoolean()) {
      long left = end - System.nanoTime();
      String p = left > 0 ? told.poll(left, TimeUnit.NANOSECONDS) : null;
      if (p == null) {
        assertThat(condition.getAsBoolean()).as("%s within %s (listener calls for %s)", what, changeTimeout(), pod)
            .isTrue();
        return;
      }
    }
  }

  private static RemotePeer peer(String unit, int index, Inet4Address a, InstanceState st) {
    return new RemotePeer(unit, index, a, null, st);
  }

  @Test
  void anEmptyClusterHostsNothingAndKnowsNoPeer() {
    assertThat(m.hosts("shop", "web-0")).isFalse();
    assertThat(m.remotePeers("shop")).isEmpty();
  }

  @Test
  void hostingFollowsTheClusterAndEachChangeIsTold() throws Exception {
    cluster.host("shop", "web-0");
    awaitTold("shop", "web-0 hosted", () -> m.hosts("shop", "web-0"));
    assertThat(m.hosts("shop", "web-1")).isFalse();
    assertThat(m.hosts("other", "web-0")).as("pods are independent").isFalse();
    told.clear();
    cluster.unhost("shop", "web-0");
    awaitTold("shop", "web-0 no longer hosted", () -> !m.hosts("shop", "web-0"));
  }

  @Test
  void remotePeersFollowTheClusterWithTheirAddressesAndStates() throws Exception {
    cluster.runElsewhere("shop", new RemotePeer("web", 1, A, PUBLIC, InstanceState.BOOTING));
    awaitTold("shop", "web-1 a remote peer", () -> m.remotePeers("shop").size() == 1);
    assertThat(m.remotePeers("shop")).containsExactly(new RemotePeer("web", 1, A, PUBLIC, InstanceState.BOOTING));
    assertThat(m.remotePeers("other")).isEmpty();

    cluster.runElsewhere("shop", peer("web", 1, A, InstanceState.READY));
    awaitTold("shop", "web-1 READY", () -> m.remotePeers("shop").equals(List.of(peer("web", 1, A,
        InstanceState.READY))));
    cluster.runElsewhere("shop", peer("db", 0, B, InstanceState.UNHEALTHY));
    awaitTold("shop", "db-0 a remote peer too", () -> m.remotePeers("shop").size() == 2);
    assertThat(m.remotePeers("shop")).containsExactlyInAnyOrder(peer("web", 1, A, InstanceState.READY),
        peer("db", 0, B, InstanceState.UNHEALTHY));

    cluster.goneElsewhere("shop", "web-1");
    awaitTold("shop", "web-1 gone", () -> m.remotePeers("shop").size() == 1);
    assertThat(m.remotePeers("shop")).containsExactly(peer("db", 0, B, InstanceState.UNHEALTHY));
  }

  @Test
  void anInstanceThatMovesHereIsNoLongerARemotePeer() throws Exception {
    cluster.runElsewhere("shop", peer("web", 1, A, InstanceState.READY));
    awaitTold("shop", "web-1 a remote peer", () -> !m.remotePeers("shop").isEmpty());
    cluster.goneElsewhere("shop", "web-1");
    cluster.host("shop", "web-1");
    awaitTold("shop", "web-1 hosted here", () -> m.hosts("shop", "web-1"));
    assertThat(m.remotePeers("shop")).as("never hosted here and a remote peer at once")
        .noneMatch(p -> p.name().equals("web-1"));
  }

  @Test
  void neverBothHostedAndARemotePeerWhileAnInstanceMoves() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    handles.add(m.listen(pod -> {
      if (m.hosts("shop", "web-2") && m.remotePeers("shop").stream().anyMatch(p -> p.name().equals("web-2"))) {
        seen.add("both");
      }
    }));
    cluster.host("shop", "web-2");
    awaitTold("shop", "web-2 hosted", () -> m.hosts("shop", "web-2"));
    cluster.unhost("shop", "web-2");
    cluster.runElsewhere("shop", peer("web", 2, A, InstanceState.READY));
    awaitTold("shop", "web-2 elsewhere", () -> !m.hosts("shop", "web-2") && !m.remotePeers("shop").isEmpty());
    assertThat(seen).isEmpty();
  }

  @Test
  void everyListenerIsToldAndAClosedOneNoMore() throws Exception {
    BlockingQueue<String> second = new LinkedBlockingQueue<>();
    AutoCloseable handle = m.listen(second::add);
    cluster.host("shop", "web-0");
    awaitTold("shop", "web-0 hosted", () -> m.hosts("shop", "web-0"));
    assertThat(second.poll(changeTimeout().toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("shop");
    handle.close();
    handle.close(); // idempotent
    second.clear();
    int before = allTold.size();
    cluster.host("shop", "web-1");
    awaitTold("shop", "web-1 hosted", () -> m.hosts("shop", "web-1"));
    assertThat(allTold.subList(before, allTold.size())).as("the open listener was told").contains("shop");
    assertThat(second).as("the closed one was not").isEmpty();
  }
}
