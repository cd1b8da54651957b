package dev.pods.testing;

import dev.pods.spi.PodMembership;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PodMembership} a test sets by hand: which instances of which pods this runtime hosts ({@link #host},
 * {@link #unhost}) and the instances other hosts run ({@link #putPeer}, {@link #removePeer}), with the semantics
 * of a cluster's: one host runs an instance at a time, so hosting an instance here drops the remote peer of that
 * name, and a remote peer of an instance hosted here is refused. Every change that alters an answer tells the
 * listeners the pod's name, on the caller's thread, after the change is visible and outside the fake's lock (a
 * change that alters nothing tells no one).
 *
 * <pre>{@code
 * InMemoryMembership m = new InMemoryMembership();
 * m.host("shop", "web-0");
 * PodRuntime rt = PodRuntime.builder()...membership(m).build();
 * Deployment d = rt.deploy(shop);                            // builds web-0 only
 * m.putPeer("shop", new RemotePeer("web", 1, addr, null, InstanceState.READY));  // web-0 sees web-1
 * m.host("shop", "web-1");                                  // web-1 moves here: the runtime builds it
 * }</pre>
 *
 * <p>Thread-safe; nothing blocks but the listeners, which the contract says must not. Nothing to close.
 */
public final class InMemoryMembership implements PodMembership {
  private static final Logger LOG = LoggerFactory.getLogger(InMemoryMembership.class);
  private static final Pattern INSTANCE = Pattern.compile(".+-(0|[1-9][0-9]{0,8})");

  private final Map<String, Set<String>> hosted = new HashMap<>();
  private final Map<String, Map<String, RemotePeer>> peers = new HashMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  /** An empty membership: nothing hosted here, no remote peer. */
  public InMemoryMembership() {}

  /**
   * This runtime runs instance {@code instance} ({@code UNIT-INDEX}) of pod {@code pod} from now on; a remote peer of
   * that name is dropped (it runs here now).
   *
   * @throws IllegalArgumentException when {@code instance} is not {@code UNIT-INDEX}
   */
  public void host(String pod, String instance) {
    check(pod, instance);
    boolean changed;
    synchronized (this) {
      changed = hosted.computeIfAbsent(pod, k -> new LinkedHashSet<>()).add(instance);
      Map<String, RemotePeer> p = peers.get(pod);
      changed |= p != null && p.remove(instance) != null;
    }
    if (changed) {
      tell(pod);
    }
  }

  /**
   * This runtime no longer runs instance {@code instance} of pod {@code pod}.
   *
   * @throws IllegalArgumentException when {@code instance} is not {@code UNIT-INDEX}
   */
  public void unhost(String pod, String instance) {
    check(pod, instance);
    boolean changed;
    synchronized (this) {
      Set<String> h = hosted.get(pod);
      changed = h != null && h.remove(instance);
    }
    if (changed) {
      tell(pod);
    }
  }

  /**
   * Another host runs {@code peer} (of pod {@code pod}) in this state now: added, or replacing the peer of its name.
   *
   * @throws IllegalStateException when this runtime hosts that instance (one host runs an instance)
   */
  public void putPeer(String pod, RemotePeer peer) {
    Objects.requireNonNull(peer, "peer");
    check(pod, peer.name());
    boolean changed;
    synchronized (this) {
      if (hosted.getOrDefault(pod, Set.of()).contains(peer.name())) {
        throw new IllegalStateException("instance " + peer.name() + " of pod " + pod + " is hosted here: "
            + "unhost it before another host runs it");
      }
      changed = !peer.equals(peers.computeIfAbsent(pod, k -> new LinkedHashMap<>()).put(peer.name(), peer));
    }
    if (changed) {
      tell(pod);
    }
  }

  /** No other host runs instance {@code instance} of pod {@code pod} any more. */
  public void removePeer(String pod, String instance) {
    check(pod, instance);
    boolean changed;
    synchronized (this) {
      Map<String, RemotePeer> p = peers.get(pod);
      changed = p != null && p.remove(instance) != null;
    }
    if (changed) {
      tell(pod);
    }
  }

  /** How many listeners are registered (not yet closed). */
  public int listeners() {
    return listeners.size();
  }

  @Override
  public synchronized boolean hosts(String pod, String instance) {
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(instance, "instance");
    return hosted.getOrDefault(pod, Set.of()).contains(instance);
  }

  @Override
  public synchronized List<RemotePeer> remotePeers(String pod) {
    Objects.requireNonNull(pod, "pod");
    return List.copyOf(peers.getOrDefault(pod, Map.of()).values());
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: the listener is called on the thread that made the change. Closing the returned handle is idempotent.
   */
  @Override
  public AutoCloseable listen(Consumer<String> listener) {
    Objects.requireNonNull(listener, "listener");
    // a wrapper per registration: the same listener registered twice is two registrations, closed one by one
    Consumer<String> registration = listener::accept;
    listeners.add(registration);
    return () -> listeners.remove(registration);
  }

  private void tell(String pod) {
    for (Consumer<String> l : new ArrayList<>(listeners)) {
      try {
        l.accept(pod);
      } catch (RuntimeException e) {
        LOG.warn("a membership listener failed on a change of pod {}", pod, e);
      }
    }
  }

  private static void check(String pod, String instance) {
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(instance, "instance");
    if (pod.isBlank()) {
      throw new IllegalArgumentException("pod name must not be blank");
    }
    if (!INSTANCE.matcher(instance).matches()) {
      throw new IllegalArgumentException("instance '" + instance + "' of pod " + pod + " is not UNIT-INDEX");
    }
  }
}
