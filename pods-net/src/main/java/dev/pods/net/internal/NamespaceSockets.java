package dev.pods.net.internal;

import dev.pods.NetworkException;
import dev.pods.spi.NetworkTask;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sockets and tasks inside namespaces: a socket is bound or connected, or a task run, on a short-lived thread that
 * joined the namespace (a socket belongs to the namespace it was made in, wherever it is used afterwards). Sockets
 * bound for an instance are remembered, so that the instance's teardown and the driver's close end them.
 *
 * <p>Thread-safe; every call blocks for the thread it runs on. Callers resolve instance ids to namespaces.
 */
public final class NamespaceSockets {
  private static final Logger LOG = LoggerFactory.getLogger(NamespaceSockets.class);

  private final Map<String, List<ServerSocket>> bound = new ConcurrentHashMap<>();

  /** No sockets yet. */
  public NamespaceSockets() {}

  /**
   * Runs {@code task} in the instance's namespace {@code ns}.
   *
   * @throws NetworkException wrapping the task's failure
   */
  public <T> T call(String instanceId, Path ns, NetworkTask<T> task) {
    try {
      return Netns.call(ns, task::call);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException("task in namespace of instance '" + instanceId + "' interrupted", e);
    } catch (Exception e) {
      throw new NetworkException("task in namespace of instance '" + instanceId + "' failed: " + e, e);
    }
  }

  /**
   * Binds a listening socket to {@code address} in the instance's namespace {@code ns}, remembered for
   * {@link #closeAll}.
   *
   * @throws NetworkException when the bind fails
   */
  public ServerSocket bind(String instanceId, Path ns, InetSocketAddress address) {
    ServerSocket s;
    try {
      s = Netns.call(ns, () -> listen(address));
    } catch (Exception e) {
      throw new NetworkException("bind " + address + " in namespace of instance '" + instanceId + "' failed: "
          + e.getMessage(), e);
    }
    bound.computeIfAbsent(instanceId, k -> new CopyOnWriteArrayList<>()).add(s);
    return s;
  }

  /**
   * Binds a listening socket to {@code address} in the named namespace {@code hostNamespace}; the caller owns it.
   *
   * @throws NetworkException when the namespace does not exist or the bind fails
   */
  public ServerSocket bindInHost(String hostNamespace, InetSocketAddress address) {
    if (!Netns.exists(hostNamespace)) {
      throw new NetworkException("bind " + address + " in host namespace '" + hostNamespace
          + "' failed: no such namespace");
    }
    try {
      return Netns.call(Netns.path(hostNamespace), () -> listen(address));
    } catch (Exception e) {
      throw new NetworkException("bind " + address + " in host namespace '" + hostNamespace + "' failed: "
          + e.getMessage(), e);
    }
  }

  /**
   * Opens a TCP connection from the instance's namespace {@code ns} to {@code address}; the caller owns it.
   *
   * @throws NetworkException when it fails within {@code timeout}
   */
  public Socket connect(String instanceId, Path ns, InetSocketAddress address, Duration timeout) {
    try {
      return Netns.call(ns, () -> {
        Socket s = new Socket();
        try {
          s.connect(address, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
          return s;
        } catch (IOException e) {
          s.close();
          throw e;
        }
      });
    } catch (Exception e) {
      throw new NetworkException("connect to " + address + " from namespace of instance '" + instanceId
          + "' failed: " + e.getMessage(), e);
    }
  }

  /** Closes the sockets bound for the instance. */
  public void closeAll(String instanceId) {
    List<ServerSocket> mine = bound.remove(instanceId);
    if (mine != null) {
      for (ServerSocket s : mine) {
        try {
          s.close();
        } catch (IOException e) {
          LOG.debug("closing a socket of instance '{}' failed", instanceId, e);
        }
      }
    }
  }

  /** Closes every socket bound through this object. */
  public void closeEverything() {
    for (String id : List.copyOf(bound.keySet())) {
      closeAll(id);
    }
  }

  /** A listening socket bound to {@code address} in the calling thread's namespace (closed again on failure). */
  public static ServerSocket listen(InetSocketAddress address) throws IOException {
    ServerSocket ss = new ServerSocket();
    try {
      ss.setReuseAddress(true);
      ss.bind(address);
      return ss;
    } catch (IOException e) {
      ss.close();
      throw e;
    }
  }
}
