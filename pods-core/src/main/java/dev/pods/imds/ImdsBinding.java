package dev.pods.imds;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Where an {@link ImdsServer} listens: creates and binds the (not yet started) HTTP server. The server then
 * serves on its own threads; only the bind happens in the binding's context.
 *
 * <ul>
 *   <li>{@link #loopback()}: 127.0.0.1 on an ephemeral port, in the caller's namespace (tests, benchmarks).
 *   <li>{@link #at(InetSocketAddress)}: a fixed address in the caller's namespace.
 *   <li>{@link #inNamespace(NamespaceRunner, InetSocketAddress)}: bound inside an instance's network
 *       namespace, normally at {@link ImdsProtocol#METADATA_ADDRESS} (169.254.169.254:80), through the network
 *       driver's {@link NamespaceRunner}. The namespace is the instance's identity: only its VM reaches it.
 * </ul>
 *
 * <p>Implementations are immutable and thread-safe; {@link #open} blocks until the socket is bound and the
 * caller owns (and must stop) the returned server.
 */
public interface ImdsBinding {

  /**
   * Creates an HTTP server bound to this binding's address, not started.
   *
   * @param backlog the listen backlog
   * @throws IOException when the address cannot be bound
   */
  HttpServer open(int backlog) throws IOException;

  /** What this binding is, for logs: {@code 127.0.0.1:0}, {@code 169.254.169.254:80 in netns pods-ab12}. */
  String describe();

  /** 127.0.0.1 on an ephemeral port, in the caller's network namespace. */
  static ImdsBinding loopback() {
    return at(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  /** A fixed address in the caller's network namespace. */
  static ImdsBinding at(InetSocketAddress address) {
    Objects.requireNonNull(address, "address");
    return new ImdsBinding() {
      @Override
      public HttpServer open(int backlog) throws IOException {
        return HttpServer.create(address, backlog);
      }

      @Override
      public String describe() {
        return hostPort(address);
      }
    };
  }

  private static String hostPort(InetSocketAddress a) {
    return (a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString()) + ":" + a.getPort();
  }

  /** An address inside the namespace that {@code runner} enters (the bind runs on the runner's thread). */
  static ImdsBinding inNamespace(NamespaceRunner runner, InetSocketAddress address) {
    Objects.requireNonNull(runner, "runner");
    Objects.requireNonNull(address, "address");
    return new ImdsBinding() {
      @Override
      public HttpServer open(int backlog) throws IOException {
        try {
          return runner.call(() -> HttpServer.create(address, backlog));
        } catch (IOException | RuntimeException e) {
          throw e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while binding " + describe(), e);
        } catch (Exception e) {
          throw new IOException("cannot bind " + describe() + ": " + e, e);
        }
      }

      @Override
      public String describe() {
        return hostPort(address) + " in " + runner.describe();
      }
    };
  }
}
