package dev.pods.runtime;

import dev.pods.spi.RuntimeSettings;
import dev.pods.Pod;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.spec.NodePort;
import dev.pods.spec.Protocol;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node ports of one deployment: for each {@code nodePorts} entry of its units, a listener on the runtime's node
 * address in the host namespace that forwards each TCP connection to {@code internalPort} of one ready instance of
 * the unit ({@link PeerStates#healthy}), taken in turn; a client that arrives while none is ready is reset. The
 * instances are looked up per connection, so the ports follow scale, recreation and self-heal by themselves; a
 * template change goes through {@link #reconcile}. The connection to the instance starts in its own namespace, as
 * {@link dev.pods.Instance#endpoint} does. Thread-safe; {@link #close()} closes every listener and connection.
 */
final class NodePorts implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodePorts.class);
  private static final Duration CONNECT = Duration.ofSeconds(10);

  private final DefaultDeployment d;
  private final RuntimeSettings s;
  /** Open listeners by external port. */
  private final Map<Integer, Listener> open = new LinkedHashMap<>();

  private record Target(String unit, int internalPort) {}

  private record Listener(Target target, PortForwarder forwarder) {}

  NodePorts(DefaultDeployment d, RuntimeSettings s) {
    this.d = d;
    this.s = s;
  }

  /**
   * What makes {@code pod}'s node ports impossible on this runtime, one sentence each (empty when nothing): a UDP
   * node port (only TCP is forwarded), node ports without a node address, one external port claimed twice in the
   * pod (naming both units), or one that another deployment holds ({@code claimed}: external port to a description
   * of its holder).
   */
  static List<String> problems(Pod pod, @Nullable Inet4Address nodeAddress, Map<Integer, String> claimed) {
    List<String> out = new ArrayList<>();
    Map<Integer, String> mine = new LinkedHashMap<>();
    for (Unit u : pod.units()) {
      for (NodePort p : u.nodePorts()) {
        String what = "unit " + u.name() + " of pod " + pod.name();
        if (p.protocol() != Protocol.TCP) {
          out.add(what + ": node port " + p.protocol().id() + "/" + p.externalPort()
              + ": only tcp node ports are forwarded on a pods host");
        }
        String before = mine.putIfAbsent(p.externalPort(), what);
        if (before != null) {
          out.add("node port " + p.externalPort() + " is claimed by " + before + " and by " + what);
        }
        String other = claimed.get(p.externalPort());
        if (other != null) {
          out.add("node port " + p.externalPort() + " of " + what + " is held by " + other);
        }
      }
    }
    if (!mine.isEmpty() && nodeAddress == null) {
      out.add("pod " + pod.name() + " has node ports, but the runtime has no node address"
          + " (PodRuntime.Builder.nodeAddress)");
    }
    return out;
  }

  /** Throws a {@link PodsException} listing {@link #problems}, if any. */
  static void check(Pod pod, @Nullable Inet4Address nodeAddress, Map<Integer, String> claimed) {
    List<String> p = problems(pod, nodeAddress, claimed);
    if (!p.isEmpty()) {
      throw new PodsException("pod " + pod.name() + " cannot get its node ports: " + String.join("; ", p));
    }
  }

  /** The external ports {@code pod} claims, each with a description of its unit. */
  static Map<Integer, String> claims(Pod pod) {
    Map<Integer, String> out = new LinkedHashMap<>();
    for (Unit u : pod.units()) {
      for (NodePort p : u.nodePorts()) {
        out.putIfAbsent(p.externalPort(), "unit " + u.name() + " of pod " + pod.name());
      }
    }
    return out;
  }

  /**
   * Opens the listeners {@code pod} wants and closes the others (a changed internal port or unit reopens it).
   * Blocks while binding.
   *
   * @throws dev.pods.NetworkException when a listener cannot be bound (those bound before stay open)
   */
  synchronized void reconcile(Pod pod) {
    Map<Integer, Target> wanted = new LinkedHashMap<>();
    for (Unit u : pod.units()) {
      for (NodePort p : u.nodePorts()) {
        wanted.putIfAbsent(p.externalPort(), new Target(u.name(), p.internalPort()));
      }
    }
    for (var it = open.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().target().equals(wanted.get(e.getKey()))) {
        e.getValue().forwarder().close();
        it.remove();
        LOG.info("pod {}: node port {} closed", pod.name(), e.getKey());
      }
    }
    for (var e : wanted.entrySet()) {
      if (open.containsKey(e.getKey())) {
        continue;
      }
      Inet4Address node = Objects.requireNonNull(s.nodeAddress(), "nodeAddress");
      int external = e.getKey();
      String unit = e.getValue().unit();
      int internal = e.getValue().internalPort();
      ServerSocket server = s.networkDriver().bindInHostNamespace(s.hostNamespace(),
          new InetSocketAddress(node, external));
      AtomicInteger next = new AtomicInteger();
      PortForwarder f = PortForwarder.serve("node:" + external, server, () -> connect(unit, internal, next));
      open.put(external, new Listener(e.getValue(), f));
      LOG.info("pod {}: node port {}:{} forwards to port {} of unit {}", pod.name(), node.getHostAddress(), external,
          internal, unit);
    }
  }

  private Socket connect(String unit, int port, AtomicInteger next) throws IOException {
    List<DefaultInstance> ready = d.instanceList().stream()
        .filter(i -> i.unit().equals(unit) && PeerStates.healthy(i.state())).toList();
    if (ready.isEmpty()) {
      throw new IOException("no ready instance of unit " + unit);
    }
    DefaultInstance i = ready.get(Math.floorMod(next.getAndIncrement(), ready.size()));
    return s.networkDriver().connectInNamespace(i.id(), new InetSocketAddress(i.privateAddress(), port), CONNECT);
  }

  @Override
  public synchronized void close() {
    open.values().forEach(l -> l.forwarder().close());
    open.clear();
  }
}
