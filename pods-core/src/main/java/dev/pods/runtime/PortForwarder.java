package dev.pods.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP forwarder: listens on {@code 127.0.0.1} (ephemeral port, the JVM's own namespace) and, for each accepted
 * client, opens a connection with its {@code connector} (for an instance: from inside its network namespace to
 * its VM) and copies bytes both ways. The end of stream one way is passed on as a half-close
 * ({@link Socket#shutdownOutput()}); the pair is closed when both ways ended, or at once (both reset) when one side
 * fails. A client whose target cannot be reached is reset.
 *
 * <p>Threads: one acceptor ({@code pods-fwd-<name>}), and two per open connection; at most
 * {@value #MAX_CONNECTIONS} connections are served at once, further clients wait in the listen backlog until one
 * ends. Thread-safe. {@link #close()} (idempotent, never blocks on I/O) closes the listener and every open
 * connection; the threads end right after.
 */
final class PortForwarder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PortForwarder.class);
  /** Connections served at once, per forwarder. */
  static final int MAX_CONNECTIONS = 32;
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final String name;
  private final Callable<Socket> connector;
  private final ServerSocket server;
  private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger active = new AtomicInteger();
  private final Thread acceptor;
  private volatile boolean closed;

  private PortForwarder(String name, Callable<Socket> connector, ServerSocket server) {
    this.name = name;
    this.connector = connector;
    this.server = server;
    this.acceptor = new Thread(this::acceptLoop, "pods-fwd-" + name);
    acceptor.setDaemon(true);
  }

  /**
   * Binds {@code 127.0.0.1:0} and starts accepting.
   *
   * @param name for thread names and logs, e.g. {@code web-0:80}
   * @param connector opens the connection to the target for one client; the forwarder owns what it returns
   * @throws IOException when the listener cannot be bound
   */
  static PortForwarder start(String name, Callable<Socket> connector) throws IOException {
    Objects.requireNonNull(connector, "connector");
    ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    PortForwarder f = new PortForwarder(name, connector, s);
    f.acceptor.start();
    return f;
  }

  /**
   * Accepts on {@code server}, a listener the caller bound (a node port in the host namespace, an instance's
   * console on its public address inside its namespace); the forwarder owns it from here on (it closes it).
   *
   * @param name for thread names and logs, e.g. {@code node:30080} or {@code web-0:vnc}
   * @param connector opens the connection to the target for one client; the forwarder owns what it returns
   */
  static PortForwarder serve(String name, ServerSocket server, Callable<Socket> connector) {
    Objects.requireNonNull(connector, "connector");
    PortForwarder f = new PortForwarder(name, connector, Objects.requireNonNull(server, "server"));
    f.acceptor.start();
    return f;
  }

  /** The local address clients connect to. */
  InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  /** Whether {@link #close()} was called and the listener is closed. */
  boolean isClosed() {
    return closed && server.isClosed();
  }

  /** How many client connections are open now. */
  int openConnections() {
    return active.get();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        slots.acquire();
      } catch (InterruptedException e) {
        return;
      }
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        slots.release();
        if (!closed) {
          LOG.warn("forwarder {}: accept failed, stopping", name, e);
        }
        return;
      }
      try {
        Thread t = new Thread(() -> serve(client), "pods-fwd-" + name + "-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        t.start();
      } catch (RuntimeException | Error e) {
        reset(client);
        slots.release();
        LOG.warn("forwarder {}: cannot start a connection thread", name, e);
      }
    }
  }

  private void serve(Socket client) {
    Socket target = null;
    active.incrementAndGet();
    try {
      open.add(client);
      if (closed) {
        return;
      }
      try {
        target = connector.call();
      } catch (Exception e) {
        LOG.debug("forwarder {}: target unreachable, resetting the client: {}", name, e.toString());
        return;
      }
      open.add(target);
      if (closed) {
        return;
      }
      client.setTcpNoDelay(true);
      target.setTcpNoDelay(true);
      Socket to = target;
      AtomicInteger ended = new AtomicInteger();
      Thread back = new Thread(() -> pump(to, client, to, ended), Thread.currentThread().getName() + "-back");
      back.setDaemon(true);
      back.start();
      pump(client, to, to, ended);
      back.join();
      target = null; // both pumps ended: the pair is closed
    } catch (IOException | RuntimeException e) {
      LOG.debug("forwarder {}: connection failed: {}", name, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      reset(client);
      if (target != null) {
        reset(target);
      }
      open.remove(client);
      if (target != null) {
        open.remove(target);
      }
      active.decrementAndGet();
      slots.release();
    }
  }

  /**
   * Copies {@code from} to {@code to} until the end of stream, then half-closes {@code to}. On a failure, resets
   * both. The second pump to end closes both sockets.
   */
  private void pump(Socket from, Socket to, Socket target, AtomicInteger ended) {
    byte[] buf = new byte[16 * 1024];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
      to.shutdownOutput();
    } catch (IOException e) {
      // one side failed (or the forwarder was closed): drop both
      reset(from);
      reset(to);
    }
    if (ended.incrementAndGet() == 2) {
      close(from);
      close(to);
      open.remove(target);
    }
  }

  private static void reset(Socket s) {
    if (s.isClosed()) {
      return;
    }
    try {
      s.setSoLinger(true, 0);
    } catch (SocketException e) {
      // closing anyway
    }
    close(s);
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      LOG.debug("forwarder {}: closing the listener failed", name, e);
    }
    acceptor.interrupt();
    for (Socket s : open) {
      reset(s);
    }
  }

  @Override
  public String toString() {
    return "PortForwarder[" + name + " at " + address() + (closed ? ", closed" : "") + "]";
  }
}
