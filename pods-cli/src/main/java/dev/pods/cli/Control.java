package dev.pods.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The control channel of a {@code pods up} process: a Unix domain socket {@code <dir>/<pod>.sock} (mode 0600 in a
 * 0700 folder, so only its user reaches it) speaking line-JSON. A client sends one request object on one line
 * ({@code {"op":"ps"}}, {@code {"op":"exec","instance":"web-0","argv":[...]}}, {@code {"op":"down"}},
 * {@code {"op":"wait"}}) and reads one reply object on one line ({@code "ok":true} plus the op's fields, or
 * {@code "ok":false,"error":"..."}); then the connection closes. An op that takes long (apply, scale, restart) may
 * send progress objects first, one per line, each without an {@code "ok"} field ({@code {"line":"..."}}: a line of
 * output for people); the reply is the first line that has one.
 *
 * <p>The server ({@link #serve}) accepts on one daemon thread and answers each connection on its own daemon
 * thread, so a slow {@code exec} does not hold up {@code ps}; the handler must be thread-safe. {@link Server#close()}
 * stops accepting and deletes the socket file. The client methods block until the reply (or an I/O error).
 */
final class Control {
  static final ObjectMapper JSON = new ObjectMapper();

  private Control() {}

  /** The socket of {@code pod}'s up process. */
  static Path socket(Path dir, String pod) {
    return dir.resolve(pod + ".sock");
  }

  /** The pods with a control socket in {@code dir} (their up process may be gone: see {@link #call}). */
  static List<String> pods(Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sock"))
          .map(n -> n.substring(0, n.length() - ".sock".length())).sorted().forEach(out::add);
    }
    return out;
  }

  /**
   * Waits until {@code pod}'s socket exists in {@code dir} (made, mode 0700, when missing), told by the file system's
   * events; checks {@code giveUp} at least every 250 ms.
   *
   * @return whether the socket appeared before {@code deadline} (a {@link System#nanoTime()}) and before
   *     {@code giveUp} said so
   */
  static boolean awaitSocket(Path dir, String pod, long deadline, java.util.function.BooleanSupplier giveUp)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Path sock = socket(dir, pod);
    try (java.nio.file.WatchService ws = dir.getFileSystem().newWatchService()) {
      dir.register(ws, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE);
      while (true) {
        if (Files.exists(sock)) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || giveUp.getAsBoolean()) {
          return false;
        }
        java.nio.file.WatchKey k = ws.poll(Math.min(left, 250_000_000L), java.util.concurrent.TimeUnit.NANOSECONDS);
        if (k != null) {
          k.pollEvents();
          k.reset();
        }
      }
    }
  }

  /** No up process answers for the pod. */
  static final class NotUp extends IOException {
    private static final long serialVersionUID = 1L;

    NotUp(String message) {
      super(message);
    }
  }

  /**
   * Sends {@code request} to {@code pod}'s up process and returns its reply.
   *
   * @throws NotUp when there is no socket, or nobody listens on it any more (the stale socket is removed then)
   * @throws IOException when the connection breaks
   */
  static ObjectNode call(Path dir, String pod, ObjectNode request) throws IOException {
    return call(dir, pod, request, p -> {});
  }

  /**
   * Sends {@code request} to {@code pod}'s up process, hands every progress object it sends to {@code progress}
   * (on this thread, in order) and returns its reply.
   *
   * @throws NotUp when there is no socket, or nobody listens on it any more (the stale socket is removed then)
   * @throws IOException when the connection breaks
   */
  static ObjectNode call(Path dir, String pod, ObjectNode request, Consumer<ObjectNode> progress) throws IOException {
    Path sock = socket(dir, pod);
    if (!Files.exists(sock)) {
      throw new NotUp("pod '" + pod + "' is not up: no pods up process runs it (no " + sock + ")");
    }
    SocketChannel ch;
    try {
      ch = SocketChannel.open(UnixDomainSocketAddress.of(sock));
    } catch (IOException e) {
      Files.deleteIfExists(sock);
      throw new NotUp("pod '" + pod + "' is not up: its pods up process is gone (removed the stale " + sock + ")");
    }
    try (ch) {
      OutputStream os = Channels.newOutputStream(ch);
      os.write((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
      os.flush();
      BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
      while (true) {
        String line = r.readLine();
        if (line == null) {
          throw new IOException("pod '" + pod + "': the pods up process closed the connection without a reply");
        }
        if (!(JSON.readTree(line) instanceof ObjectNode o)) {
          throw new IOException("pod '" + pod + "': the pods up process answered something else than an object");
        }
        if (o.has("ok")) {
          return o;
        }
        progress.accept(o);
      }
    }
  }

  /** Answers one request; may send progress objects (without {@code "ok"}) before it returns the reply. */
  interface Handler {
    /**
     * The reply to {@code request}; {@code progress} sends a progress object to the client at once (thread-safe;
     * after the reply is returned, it drops what it is given).
     */
    ObjectNode handle(ObjectNode request, Consumer<ObjectNode> progress);
  }

  /** A reply saying {@code ok}. */
  static ObjectNode ok() {
    return JSON.createObjectNode().put("ok", true);
  }

  /** A reply carrying an error. */
  static ObjectNode error(String message) {
    return JSON.createObjectNode().put("ok", false).put("error", message);
  }

  /**
   * A running control server; closing it stops accepting and removes the socket, {@link #awaitReplies} waits for
   * the requests under way to be answered.
   */
  static final class Server implements AutoCloseable {
    private final ServerSocketChannel channel;
    private final Path socket;
    private final Object lock = new Object();
    private int answering;

    private Server(ServerSocketChannel channel, Path socket) {
      this.channel = channel;
      this.socket = socket;
    }

    private void started() {
      synchronized (lock) {
        answering++;
      }
    }

    private void finished() {
      synchronized (lock) {
        answering--;
        lock.notifyAll();
      }
    }

    /**
     * Waits until every request accepted so far was answered (or its client went away), at most {@code timeout}:
     * what an up process does before it exits, so that no client is left without a reply. Must not be called from
     * a handler (it would wait for itself).
     *
     * @return whether none is left unanswered
     */
    boolean awaitReplies(java.time.Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (lock) {
        while (answering > 0) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(lock, left);
        }
        return true;
      }
    }

    Path socket() {
      return socket;
    }

    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        // closing a listening socket has nothing to flush
      }
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        // a leftover socket is detected as stale by the next client
      }
    }
  }

  /**
   * Listens on {@code pod}'s socket in {@code dir} and answers each request with {@code handler}'s reply
   * (a handler's exception becomes an error reply); {@code afterReply} is told of each request once its reply
   * is written.
   *
   * @throws IOException when another live up process holds the socket, or it cannot be bound
   */
  static Server serve(Path dir, String pod, Function<ObjectNode, ObjectNode> handler,
      Consumer<ObjectNode> afterReply) throws IOException {
    return serve(dir, pod, (Handler) (req, progress) -> handler.apply(req), afterReply);
  }

  /**
   * Listens on {@code pod}'s socket in {@code dir} and answers each request with {@code handler}'s progress and
   * reply (a handler's exception becomes an error reply); {@code afterReply} is told of each request once its reply
   * is written.
   *
   * @throws IOException when another live up process holds the socket, or it cannot be bound
   */
  static Server serve(Path dir, String pod, Handler handler, Consumer<ObjectNode> afterReply) throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Path sock = socket(dir, pod);
    if (Files.exists(sock)) {
      boolean live;
      try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
        live = probe.isConnected();
      } catch (IOException e) {
        live = false;
      }
      if (live) {
        throw new IOException("pod '" + pod + "' is already up in another pods up process (" + sock + ")");
      }
      Files.deleteIfExists(sock); // a stale socket of a dead up process
    }
    // bound and listening under a temporary name, made 0600, then renamed into place: a client never finds a socket
    // that is not listening yet (it would take it for a dead up process's and remove it) or not yet private
    Path bound = dir.resolve("." + pod + ".sock." + ProcessHandle.current().pid());
    Files.deleteIfExists(bound);
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.bind(UnixDomainSocketAddress.of(bound));
      Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
      Files.move(bound, sock, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      ch.close();
      Files.deleteIfExists(bound);
      throw e;
    }
    Server server = new Server(ch, sock);
    AtomicInteger n = new AtomicInteger();
    Thread acceptor = new Thread(() -> {
      while (ch.isOpen()) {
        SocketChannel c;
        try {
          c = ch.accept();
        } catch (ClosedChannelException e) {
          return;
        } catch (IOException e) {
          continue;
        }
        server.started();
        Thread t = new Thread(() -> {
          try {
            answer(c, handler, afterReply);
          } finally {
            server.finished();
          }
        }, "pods-control-" + n.incrementAndGet());
        t.setDaemon(true);
        t.start();
      }
    }, "pods-control");
    acceptor.setDaemon(true);
    acceptor.start();
    return server;
  }

  private static void answer(SocketChannel c, Handler handler, Consumer<ObjectNode> afterReply) {
    try (c) {
      OutputStream os = Channels.newOutputStream(c);
      Object writing = new Object();
      java.util.concurrent.atomic.AtomicBoolean replied = new java.util.concurrent.atomic.AtomicBoolean();
      Consumer<ObjectNode> progress = p -> {
        synchronized (writing) {
          if (replied.get()) {
            return;
          }
          try {
            os.write((JSON.writeValueAsString(p) + "\n").getBytes(StandardCharsets.UTF_8));
            os.flush();
          } catch (IOException e) {
            // the client went away: the op goes on, its progress is not shown
          }
        }
      };
      BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
      String line = r.readLine();
      if (line == null) {
        return;
      }
      ObjectNode reply;
      @Nullable ObjectNode request = null;
      try {
        if (!(JSON.readTree(line) instanceof ObjectNode req) || !req.hasNonNull("op")) {
          reply = error("a request is one JSON object with an \"op\"");
        } else {
          request = req;
          reply = handler.handle(req, progress);
        }
      } catch (IOException e) {
        reply = error("not JSON: " + e.getMessage());
      } catch (RuntimeException e) {
        reply = error(e.getMessage() == null ? e.toString() : e.getMessage());
      }
      synchronized (writing) {
        replied.set(true);
        os.write((JSON.writeValueAsString(reply) + "\n").getBytes(StandardCharsets.UTF_8));
        os.flush();
      }
      if (request != null) {
        afterReply.accept(request);
      }
    } catch (IOException e) {
      // the client went away; nothing to answer
    }
  }
}
