package dev.pods.imds;

import com.sun.net.httpserver.HttpServer;
import dev.pods.PodsException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metadata service of one instance: an HTTP server (the JDK's {@code com.sun.net.httpserver}) that speaks
 * {@link ImdsProtocol} version 1 to that instance's guest agent, and nothing else.
 *
 * <p>Lifecycle: {@link Builder#start()} binds through the {@link ImdsBinding} and starts serving; {@link #close()}
 * stops it (idempotent), fails pending exec requests and stops delivering events. The caller owns the server and
 * must close it. Threads: a small pool of daemon threads {@code pods-imds-N} serves requests (long polls park
 * one of them each); {@link AgentEvent}s reach the {@link ImdsListener} one at a time and in order, on delivery
 * threads shared by every instance (an idle instance holds none).
 *
 * <p>One job per class behind this one: {@link ImdsRouter} (HTTP: admission, checks, routing),
 * {@link MetadataViews} (what the agent reads), {@link RunReports} and {@link RunTracker} (run tracking),
 * {@link ExecBroker} (exec requests), {@link ServedState} (the view, its hash and the long polls on it),
 * {@link RequestBodies} (bounded bodies) and {@link EventDispatcher} (events to the listener). This class owns
 * their lifecycle.
 *
 * <p>Thread-safe. {@link #update(InstanceView)} and {@link #exec(ExecRequest)} never block; they may be called
 * from any thread, also from the listener.
 */
public final class ImdsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ImdsServer.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final SecureRandom RANDOM = new SecureRandom();

  /** How many events wait for a slow listener before they are dropped. */
  public static final int EVENT_QUEUE_CAPACITY = 10_000;

  /** The timeout of blocks that do not set one. */
  public static final Duration DEFAULT_BLOCK_TIMEOUT = Duration.ofMinutes(10);

  /** How long after its own timeout an exec request that got no result fails. */
  public static final Duration EXEC_GRACE = Duration.ofSeconds(30);

  private final HttpServer http;
  private final ThreadPoolExecutor workers;
  private final EventDispatcher events;
  private final String describe;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ServedState state;
  private final ExecBroker execs;
  private final RunTracker tracker;

  private ImdsServer(Builder b, InstanceView view) throws IOException {
    byte[] token = Objects.requireNonNull(b.token, "token").getBytes(StandardCharsets.UTF_8);
    RateLimitedLog warnings = new RateLimitedLog(LOG, view.instanceId());
    this.execs = new ExecBroker(view.instanceId(), warnings);
    this.state = new ServedState(view, execs::wake);
    this.events = new EventDispatcher(b.listener, view.instanceId(), b.clock, EVENT_QUEUE_CAPACITY);
    this.tracker = new RunTracker(view.instanceId(), events::publish, warnings);
    RequestBodies bodies = new RequestBodies(warnings);
    ImdsRouter router = new ImdsRouter(token, b.clock, state, new MetadataViews(state, b.defaultBlockTimeout),
        new RunReports(state, tracker, bodies, warnings, events::publish), execs, bodies, events, warnings,
        closed::get);
    int n = THREADS.incrementAndGet();
    this.workers =
        new ThreadPoolExecutor(
            b.workers, b.workers, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "pods-imds-" + n + "-" + view.instanceId());
              t.setDaemon(true);
              return t;
            });
    workers.allowCoreThreadTimeOut(true);
    HttpServer h;
    try {
      h = b.binding.open(64);
    } catch (IOException | RuntimeException e) {
      events.close();
      workers.shutdownNow();
      throw e;
    }
    this.http = h;
    this.describe = b.binding.describe();
    http.setExecutor(router.admission(workers));
    http.createContext("/", router::handle);
    http.start();
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** A fresh random token (256 bits, URL-safe base64) for one instance. */
  public static String newToken() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** The address the server listens on (port resolved when the binding asked for an ephemeral one). */
  public InetSocketAddress address() {
    return http.getAddress();
  }

  /** {@code http://HOST:PORT}, the base URL the agent is configured with. */
  public URI baseUri() {
    InetSocketAddress a = address();
    return URI.create("http://" + a.getAddress().getHostAddress() + ":" + a.getPort());
  }

  /** The view being served. */
  public InstanceView view() {
    return state.view();
  }

  /** The {@link StateHash} of the view being served. */
  public String stateHash() {
    return state.hash();
  }

  /** Whether the instance completed its initial phase (from the view, or reported by the agent since). */
  public boolean initialized() {
    return state.initialized();
  }

  /**
   * When the agent last made an authenticated request of any kind, if ever: a heartbeat. An idle agent of this
   * version contacts its IMDS at least every {@code poll_wait} seconds (its long poll, see {@link ImdsProtocol}).
   * Cheap (one volatile read); never blocks.
   */
  public Optional<Instant> lastContact() {
    return state.lastContact();
  }

  /** How many runs the server keeps open (for tests of its bounds). */
  int openRuns() {
    return tracker.openRuns();
  }

  /** The estimated memory held by queued events (for tests of its bounds). */
  long queuedEventBytes() {
    return events.queuedBytes();
  }

  /** The status the agent last reported, if any. */
  public Optional<AgentStatus> lastStatus() {
    return state.lastStatus();
  }

  /**
   * Serves a new view. When its {@link StateHash} differs from the current one, long-polling agents get the new
   * hash at once and run their {@code reload} blocks. Never blocks.
   *
   * @return whether the hash changed
   */
  public boolean update(InstanceView view) {
    Objects.requireNonNull(view, "view");
    String old = state.update(view);
    if (old == null) {
      return false;
    }
    LOG.debug("IMDS {}: state hash {} -> {}", view.instanceId(), old, state.hash());
    return true;
  }

  /**
   * Asks the agent to run a command. The agent picks it up by long poll, so it starts at once when the agent is
   * up. Never blocks.
   *
   * @return completes with the result; exceptionally with {@link TimeoutException} when no result arrived within
   *     the request's timeout plus {@link #EXEC_GRACE}, or with {@link PodsException} when the server closes.
   *     Cancelling it withdraws a request the agent has not picked up yet.
   */
  public CompletableFuture<ExecResult> exec(ExecRequest request) {
    Objects.requireNonNull(request, "request");
    if (closed.get()) {
      return CompletableFuture.failedFuture(new PodsException("exec " + request.argv() + ": the IMDS is closed"));
    }
    return execs.submit(request);
  }

  /** Stops serving, fails pending exec requests and stops delivering events. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    state.release();
    http.stop(0);
    workers.shutdownNow();
    execs.failAll(new PodsException("the IMDS of " + state.id() + " closed"));
    events.close();
  }

  @Override
  public String toString() {
    return "ImdsServer[" + state.id() + " at " + describe + "]";
  }

  /**
   * The serial number of the disk that mount {@code index} of a unit attaches ({@code pods-m<index>}): the agent
   * finds the disk by it ({@code /sys/block/vdX/serial}), whatever its device name.
   */
  public static String diskSerial(int index) {
    return "pods-m" + index;
  }

  /** The virtiofs tag of the host folder that mount {@code index} of a unit shares ({@code podsfs<index>}). */
  public static String folderTag(int index) {
    return "podsfs" + index;
  }

  /**
   * Configures and starts an {@link ImdsServer}. Not thread-safe. Required: {@link #binding}, {@link #view},
   * {@link #token}.
   */
  public static final class Builder {
    private @Nullable ImdsBinding binding;
    private @Nullable InstanceView view;
    private @Nullable String token;
    private ImdsListener listener = ImdsListener.none();
    private Duration defaultBlockTimeout = DEFAULT_BLOCK_TIMEOUT;
    private Clock clock = Clock.systemUTC();
    private int workers = 8;

    private Builder() {}

    /** Where to listen. */
    public Builder binding(ImdsBinding binding) {
      this.binding = Objects.requireNonNull(binding, "binding");
      return this;
    }

    /** The first view to serve. */
    public Builder view(InstanceView view) {
      this.view = Objects.requireNonNull(view, "view");
      return this;
    }

    /** The instance's token (see {@link #newToken()}). */
    public Builder token(String token) {
      Objects.requireNonNull(token, "token");
      if (token.length() < 16 || !token.chars().allMatch(c -> c > 32 && c < 127)) {
        throw new IllegalArgumentException("a token is at least 16 printable ASCII characters without spaces");
      }
      this.token = token;
      return this;
    }

    /** Who receives the agent's events; default: nobody. */
    public Builder listener(ImdsListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** The timeout of blocks that set none; default {@link ImdsServer#DEFAULT_BLOCK_TIMEOUT}. */
    public Builder defaultBlockTimeout(Duration timeout) {
      this.defaultBlockTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** The clock for event times; default UTC system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** How many threads serve requests (each long poll holds one); default 8. */
    public Builder workers(int workers) {
      if (workers < 2) {
        throw new IllegalArgumentException("at least 2 workers (one per long poll), not " + workers);
      }
      this.workers = workers;
      return this;
    }

    /**
     * Binds and starts the server.
     *
     * @throws IllegalStateException when binding, view or token is missing
     * @throws PodsException when the address cannot be bound
     */
    public ImdsServer start() {
      if (binding == null || view == null || token == null) {
        throw new IllegalStateException("binding, view and token are required");
      }
      try {
        ImdsServer s = new ImdsServer(this, view);
        LOG.debug("IMDS {} listening on {}", view.instanceId(), binding.describe());
        return s;
      } catch (IOException e) {
        throw new PodsException("start IMDS of " + view.instanceId() + " on " + binding.describe() + " failed", e);
      }
    }
  }
}
