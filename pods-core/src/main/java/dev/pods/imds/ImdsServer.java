package dev.pods.imds;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>Thread-safe. {@link #update(InstanceView)} and {@link #exec(ExecRequest)} never block; they may be called
 * from any thread, also from the listener.
 */
public final class ImdsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ImdsServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ThreadLocal<Boolean> REJECT = new ThreadLocal<>();
  private static final ThreadLocal<Boolean> DISCARD = new ThreadLocal<>();
  /** A refused body up to this size is read and dropped before the answer; a larger one is not read. */
  private static final long DISCARD_LIMIT = 4L * ImdsProtocol.MAX_BODY_BYTES;

  /** How many events wait for a slow listener before they are dropped. */
  public static final int EVENT_QUEUE_CAPACITY = 10_000;

  /** The timeout of blocks that do not set one. */
  public static final Duration DEFAULT_BLOCK_TIMEOUT = Duration.ofMinutes(10);

  /** How long after its own timeout an exec request that got no result fails. */
  public static final Duration EXEC_GRACE = Duration.ofSeconds(30);

  private record Snapshot(InstanceView view, String hash, CompletableFuture<Void> changed) {}

  private record PendingExec(String id, ExecRequest request, CompletableFuture<ExecResult> future) {}

  private final HttpServer http;
  private final ThreadPoolExecutor workers;
  private final EventDispatcher events;
  private final byte[] token;
  private final Clock clock;
  private final Duration defaultBlockTimeout;
  private final String describe;
  private final Object updateLock = new Object();
  private volatile Snapshot current;
  private final AtomicBoolean initialized;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final LinkedBlockingQueue<PendingExec> execQueue = new LinkedBlockingQueue<>();
  private final ConcurrentHashMap<String, PendingExec> execInFlight = new ConcurrentHashMap<>();
  private final RunTracker tracker;
  private final RateLimitedLog warnings;
  private final AtomicInteger pending = new AtomicInteger();
  private final Semaphore bodyBudget = new Semaphore(ImdsProtocol.MAX_BODY_BYTES_IN_FLIGHT);
  private final ReentrantLock pollLock = new ReentrantLock();
  private final Condition pollSignal = pollLock.newCondition();
  private final AtomicLong execSeq = new AtomicLong();
  private volatile @Nullable Instant lastContact;
  private volatile @Nullable AgentStatus lastStatus;

  private ImdsServer(Builder b, InstanceView view) throws IOException {
    this.token = Objects.requireNonNull(b.token, "token").getBytes(StandardCharsets.UTF_8);
    this.clock = b.clock;
    this.defaultBlockTimeout = b.defaultBlockTimeout;
    this.current = new Snapshot(view, StateHash.of(view), new CompletableFuture<>());
    this.initialized = new AtomicBoolean(view.initialized());
    this.events = new EventDispatcher(b.listener, view.instanceId(), clock, EVENT_QUEUE_CAPACITY);
    this.warnings = new RateLimitedLog(LOG, view.instanceId());
    this.tracker = new RunTracker(view.instanceId(), events::publish, warnings);
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
    // Every exchange (its headers, its body, its long poll) runs on a worker. Beyond MAX_PENDING_REQUESTS
    // exchanges queued or running, the next one is answered 503 at once on the dispatcher thread.
    http.setExecutor(
        task -> {
          if (pending.incrementAndGet() > ImdsProtocol.MAX_PENDING_REQUESTS) {
            pending.decrementAndGet();
            REJECT.set(Boolean.TRUE);
            try {
              task.run();
            } finally {
              REJECT.remove();
            }
            return;
          }
          try {
            workers.execute(
                () -> {
                  try {
                    task.run();
                  } finally {
                    pending.decrementAndGet();
                  }
                });
          } catch (RejectedExecutionException e) {
            pending.decrementAndGet();
          }
        });
    http.createContext("/", this::handle);
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
    return current.view();
  }

  /** The {@link StateHash} of the view being served. */
  public String stateHash() {
    return current.hash();
  }

  /** Whether the instance completed its initial phase (from the view, or reported by the agent since). */
  public boolean initialized() {
    return initialized.get();
  }

  /**
   * When the agent last made an authenticated request of any kind, if ever: a heartbeat. An idle agent of this
   * version contacts its IMDS at least every {@code poll_wait} seconds (its long poll, see {@link ImdsProtocol}).
   * Cheap (one volatile read); never blocks.
   */
  public Optional<Instant> lastContact() {
    return Optional.ofNullable(lastContact);
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
    return Optional.ofNullable(lastStatus);
  }

  /**
   * Serves a new view. When its {@link StateHash} differs from the current one, long-polling agents get the new
   * hash at once and run their {@code reload} blocks. Never blocks.
   *
   * @return whether the hash changed
   */
  public boolean update(InstanceView view) {
    Objects.requireNonNull(view, "view");
    String hash = StateHash.of(view);
    Snapshot old;
    synchronized (updateLock) {
      old = current;
      if (view.initialized()) {
        initialized.set(true);
      }
      if (old.hash().equals(hash)) {
        current = new Snapshot(view, hash, old.changed());
        return false;
      }
      current = new Snapshot(view, hash, new CompletableFuture<>());
    }
    old.changed().complete(null);
    wakePollers();
    LOG.debug("IMDS {}: state hash {} -> {}", view.instanceId(), old.hash(), hash);
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
    String id = "x" + execSeq.incrementAndGet();
    PendingExec p = new PendingExec(id, request, new CompletableFuture<>());
    p.future()
        .orTimeout(request.timeout().plus(EXEC_GRACE).toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (r, e) -> {
              execQueue.remove(p);
              execInFlight.remove(id);
            });
    execQueue.add(p);
    wakePollers();
    return p.future();
  }

  /** Stops serving, fails pending exec requests and stops delivering events. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    current.changed().complete(null);
    wakePollers();
    http.stop(0);
    workers.shutdownNow();
    PodsException gone = new PodsException("the IMDS of " + current.view().instanceId() + " closed");
    execQueue.forEach(p -> p.future().completeExceptionally(gone));
    execInFlight.values().forEach(p -> p.future().completeExceptionally(gone));
    events.close();
  }

  @Override
  public String toString() {
    return "ImdsServer[" + current.view().instanceId() + " at " + describe + "]";
  }

  // ------------------------------------------------------------------------------------------ handling

  /** A failure that becomes an error response. */
  private static final class HttpError extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;
    final @Nullable String allow;

    HttpError(int status, String message) {
      this(status, message, null);
    }

    HttpError(int status, String message, @Nullable String allow) {
      super(message, null, false, false);
      this.status = status;
      this.allow = allow;
    }
  }

  private void handle(HttpExchange ex) {
    try (ex) {
      try {
        if (REJECT.get() != null) {
          throw refuse(503, "pending", "more than " + ImdsProtocol.MAX_PENDING_REQUESTS + " requests at once; refused");
        }
        route(ex);
      } catch (HttpError e) {
        if (e.allow != null) {
          ex.getResponseHeaders().set("Allow", e.allow);
        }
        error(ex, e.status, e.getMessage());
        if (DISCARD.get() != null) {
          DISCARD.remove();
          try (InputStream in = ex.getRequestBody()) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        error(ex, 503, "the metadata service is shutting down");
      } catch (RuntimeException e) {
        LOG.warn("IMDS {}: {} {} failed", current.view().instanceId(), ex.getRequestMethod(), ex.getRequestURI(), e);
        error(ex, 500, "internal error");
      }
    } catch (IOException e) {
      LOG.debug("IMDS {}: client went away", current.view().instanceId(), e);
    }
  }

  private void route(HttpExchange ex) throws HttpError, IOException, InterruptedException {
    if (ex.getRequestHeaders().containsKey("Origin") || ex.getRequestHeaders().containsKey("Referer")) {
      throw new HttpError(403, "requests with Origin or Referer headers are refused");
    }
    String given = ex.getRequestHeaders().getFirst(ImdsProtocol.TOKEN_HEADER);
    if (given == null || !MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
      throw new HttpError(401, given == null ? "missing " + ImdsProtocol.TOKEN_HEADER : "wrong token");
    }
    Instant now = clock.instant();
    lastContact = now;
    String path = ex.getRequestURI().getRawPath();
    if (!path.startsWith(ImdsProtocol.PREFIX + "/")) {
      throw new HttpError(404, "unknown path " + path + " (this is protocol " + ImdsProtocol.PREFIX + ")");
    }
    List<String> seg = Arrays.asList(path.substring(ImdsProtocol.PREFIX.length() + 1).split("/", -1));
    Map<String, String> q = query(ex.getRequestURI().getRawQuery());
    String m = ex.getRequestMethod();
    String s0 = seg.get(0);
    switch (s0) {
      case "spec" -> {
        only(m, "GET", seg, 1);
        text(ex, 200, specText());
      }
      case "state" -> {
        only(m, "GET", seg, 1);
        events.publish(new AgentEvent.Heartbeat(id(), now));
        text(ex, 200, "hash " + awaitChange(q.get("hash"), waitSeconds(q)) + "\n");
      }
      case "status" -> {
        only(m, "POST", seg, 1);
        drain(ex);
        AgentStatus st = AgentStatus.fromId(required(q, "status"));
        if (st == null) {
          throw new HttpError(400, "unknown status '" + q.get("status") + "'");
        }
        lastStatus = st;
        events.publish(new AgentEvent.StatusReported(id(), now, st));
        noContent(ex);
      }
      case "meta-data" -> {
        only(m, "GET", seg, 1);
        json(ex, 200, metaData());
      }
      case "query" -> {
        if (seg.size() == 3 && seg.get(1).equals("secret")) {
          only(m, "GET", seg, 3);
          secret(ex, seg.get(2));
        } else {
          only(m, "GET", seg, 4);
          query(ex, seg);
        }
      }
      case "runs" -> runs(ex, m, seg, q, now);
      case "journal" -> {
        only(m, "POST", seg, 2);
        journal(ex, seg.get(1), q, now);
      }
      case "report" -> report(ex, m, seg, now);
      case "exec" -> exec(ex, m, seg, q, now);
      default -> throw new HttpError(404, "unknown path " + path);
    }
  }

  private String id() {
    return current.view().instanceId();
  }

  private static void only(String method, String allowed, List<String> seg, int segments) throws HttpError {
    if (seg.size() != segments) {
      throw new HttpError(404, "unknown path /" + String.join("/", seg));
    }
    if (!method.equals(allowed)) {
      throw new HttpError(405, method + " not allowed here", allowed);
    }
  }

  private String specText() {
    Snapshot s = current;
    StringBuilder b = new StringBuilder("pods-spec 1\n");
    b.append("instance ").append(s.view().instanceId()).append('\n');
    b.append("version ").append(s.view().specVersion()).append('\n');
    b.append("hash ").append(s.hash()).append('\n');
    b.append("initialized ").append(initialized.get() ? 1 : 0).append('\n');
    List<Script> scripts = s.view().spec().scripts();
    Base64.Encoder enc = Base64.getEncoder();
    for (int i = 0; i < scripts.size(); i++) {
      Script sc = scripts.get(i);
      Duration t = sc.timeout() != null ? sc.timeout() : defaultBlockTimeout;
      long secs = Math.max(1, (t.toMillis() + 999) / 1000);
      String src = sc.source().endsWith("\n") ? sc.source() : sc.source() + "\n";
      b.append("block ").append(i).append(' ').append(sc.language().id()).append(' ').append(sc.phase().id())
          .append(' ').append(secs).append(' ')
          .append(enc.encodeToString(src.getBytes(StandardCharsets.UTF_8))).append('\n');
    }
    List<Mount> mounts = s.view().spec().mounts();
    for (int i = 0; i < mounts.size(); i++) {
      Mount mt = mounts.get(i);
      String where = enc.encodeToString(mt.path().getBytes(StandardCharsets.UTF_8));
      if (mt.type() == Mount.Type.DISK) {
        b.append("mount disk ").append(diskSerial(i)).append(' ').append(where).append('\n');
      } else {
        b.append("mount host ").append(folderTag(i)).append(' ').append(where)
            .append(mt.readOnly() ? " ro" : " rw").append('\n');
      }
    }
    for (dev.pods.spec.Journal j : s.view().spec().journals()) {
      for (dev.pods.spec.JournalInput in : j.inputs()) {
        String source = in.type() == dev.pods.spec.JournalInput.Type.SYSTEMD ? in.unit() : in.path();
        b.append("journal ").append(in.key()).append(' ').append(in.type().id()).append(' ')
            .append(enc.encodeToString(java.util.Objects.requireNonNull(source).getBytes(StandardCharsets.UTF_8)))
            .append('\n');
      }
    }
    return b.append("end\n").toString();
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

  private String awaitChange(@Nullable String known, int waitSeconds) throws InterruptedException {
    Snapshot s = current;
    if (known == null || !known.equals(s.hash()) || waitSeconds == 0) {
      return s.hash();
    }
    try {
      s.changed().get(waitSeconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      // no change within the wait: answer with the unchanged hash
    } catch (ExecutionException e) {
      throw new IllegalStateException("the change signal cannot fail", e);
    }
    return current.hash();
  }

  private static int waitSeconds(Map<String, String> q) throws HttpError {
    String w = q.get("wait");
    if (w == null) {
      return 0;
    }
    try {
      return Math.max(0, Math.min(ImdsProtocol.MAX_WAIT_SECONDS, Integer.parseInt(w)));
    } catch (NumberFormatException e) {
      throw new HttpError(400, "wait must be a number of seconds, not '" + w + "'");
    }
  }

  private void query(HttpExchange ex, List<String> seg) throws HttpError, IOException {
    String text = "+/" + seg.get(1) + "/" + seg.get(2) + "/" + seg.get(3);
    Reference ref;
    try {
      ref = Reference.parse(text);
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, e.getMessage());
    }
    if (ref.kind().equals("secret")) {
      declared(ref.name());
    }
    Optional<String> v = QueryResolver.resolve(current.view(), ref);
    if (v.isEmpty()) {
      throw new HttpError(404, "nothing at " + ref + " for " + id());
    }
    text(ex, 200, v.get() + "\n");
  }

  /** {@code POST journal/KEY?dropped=N}: lines of a journal input the unit declares, one per body line. */
  private void journal(HttpExchange ex, String key, Map<String, String> q, Instant now)
      throws HttpError, IOException {
    boolean declared = current.view().spec().journals().stream()
        .anyMatch(j -> j.inputs().stream().anyMatch(in -> in.key().equals(key)));
    if (!declared) {
      drain(ex);
      throw new HttpError(404, "unit " + current.view().unit() + " has no journal input '" + key + "'");
    }
    long dropped;
    try {
      dropped = Long.parseLong(q.getOrDefault("dropped", "0"));
    } catch (NumberFormatException e) {
      throw new HttpError(400, "dropped must be a number, not '" + q.get("dropped") + "'");
    }
    String text = new String(body(ex, ImdsProtocol.MAX_OUTPUT_CHUNK_BYTES), StandardCharsets.UTF_8);
    List<String> lines = text.isEmpty() ? List.of() : Arrays.asList(text.split("\n", -1));
    if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines = lines.subList(0, lines.size() - 1);
    }
    events.publish(new AgentEvent.JournalLines(id(), now, key, lines, Math.max(0, dropped)));
    noContent(ex);
  }

  /** 403 unless the instance's unit declares secret {@code name}. */
  private Map<String, String> declared(String name) throws HttpError {
    InstanceView v = current.view();
    Map<String, String> fields = v.secrets().get(name);
    if (fields == null) {
      throw new HttpError(403, "unit " + v.unit() + " does not declare +/secret/" + name
          + " (add it to the unit's secrets to read it)");
    }
    return fields;
  }

  /** {@code query/secret/NAME}: every field of a declared secret, as a JSON object. */
  private void secret(HttpExchange ex, String name) throws HttpError, IOException {
    Map<String, String> fields = declared(name);
    ObjectNode o = JSON.createObjectNode();
    fields.forEach(o::put);
    json(ex, 200, o);
  }

  private ObjectNode metaData() {
    InstanceView v = current.view();
    ObjectNode o = JSON.createObjectNode();
    o.put("protocol", ImdsProtocol.VERSION);
    o.put("instanceId", v.instanceId());
    o.put("hostname", v.hostname());
    o.put("pod", v.pod());
    o.put("unit", v.unit());
    o.put("index", v.index());
    o.put("specVersion", v.specVersion());
    o.put("stateHash", current.hash());
    o.put("initialized", initialized.get());
    v.privateIps().forEach(o.putArray("privateIps")::add);
    v.publicIps().forEach(o.putArray("publicIps")::add);
    ObjectNode units = o.putObject("units");
    v.units().forEach(
        (name, peers) -> {
          ArrayNode a = units.putArray(name);
          for (PeerInstance p : peers) {
            ObjectNode po = a.addObject();
            po.put("name", p.name());
            po.put("index", p.index());
            p.privateIps().forEach(po.putArray("privateIps")::add);
            p.publicIps().forEach(po.putArray("publicIps")::add);
            po.put("healthy", p.healthy());
          }
        });
    v.secrets().keySet().forEach(o.putArray("secrets")::add);
    return o;
  }

  private void runs(HttpExchange ex, String m, List<String> seg, Map<String, String> q, Instant now)
      throws HttpError, IOException {
    // runs/RUN/start | runs/RUN/end | runs/RUN/blocks/I/start|output|end
    if (seg.size() < 3 || seg.get(1).isEmpty()) {
      throw new HttpError(404, "unknown path /" + String.join("/", seg));
    }
    if (!m.equals("POST")) {
      throw new HttpError(405, m + " not allowed here", "POST");
    }
    String run = seg.get(1);
    if (run.length() > ImdsProtocol.MAX_RUN_ID_LENGTH || !run.matches("[A-Za-z0-9._-]+")) {
      throw refuse(400, "run-id", "a run id is 1-" + ImdsProtocol.MAX_RUN_ID_LENGTH + " of A-Z a-z 0-9 . _ -");
    }
    if (seg.size() == 3 && seg.get(2).equals("start")) {
      drain(ex);
      Trigger t = trigger(required(q, "trigger"));
      List<Integer> blocks = new ArrayList<>();
      String csv = q.getOrDefault("blocks", "");
      for (String s : csv.isEmpty() ? new String[0] : csv.split(",")) {
        blocks.add(number(s, "blocks"));
      }
      apply(new ReportBatch.RunStart(run, t, q.getOrDefault("version", ""), q.getOrDefault("hash", ""), blocks), now);
      noContent(ex);
      return;
    }
    if (seg.size() == 3 && seg.get(2).equals("end")) {
      drain(ex);
      boolean ok = bool(required(q, "ok"), "ok");
      int failed = ok ? -1 : number(q.getOrDefault("failedBlock", "-1"), "failedBlock");
      int exit = ok ? 0 : number(q.getOrDefault("exit", "1"), "exit");
      if (apply(new ReportBatch.RunEnd(run, ok, failed, exit), now) == RunTracker.Outcome.UNKNOWN_RUN) {
        throw new HttpError(404, "unknown run '" + run + "'");
      }
      noContent(ex);
      return;
    }
    if (seg.size() != 5 || !seg.get(2).equals("blocks")) {
      throw new HttpError(404, "unknown path /" + String.join("/", seg));
    }
    int block = number(seg.get(3), "block");
    ReportBatch.Record r;
    switch (seg.get(4)) {
      case "start" -> {
        drain(ex);
        r = new ReportBatch.BlockStart(run, block);
      }
      case "output" -> {
        String stream = required(q, "stream");
        OutputStream os =
            switch (stream) {
              case "stdout" -> OutputStream.STDOUT;
              case "stderr" -> OutputStream.STDERR;
              default -> throw new HttpError(400, "stream is stdout or stderr, not '" + ReportBatch.clip(stream) + "'");
            };
        long offset = number(required(q, "offset"), "offset");
        if (offset < 0) {
          throw new HttpError(400, "offset must not be negative");
        }
        r = new ReportBatch.Output(run, block, os, offset, body(ex, ImdsProtocol.MAX_OUTPUT_CHUNK_BYTES));
      }
      case "end" -> {
        drain(ex);
        r = new ReportBatch.BlockEnd(
            run, block, number(required(q, "exit"), "exit"), bool(q.getOrDefault("timedOut", "false"), "timedOut"));
      }
      default -> throw new HttpError(404, "unknown path /" + String.join("/", seg));
    }
    if (apply(r, now) == RunTracker.Outcome.UNKNOWN_RUN) {
      throw new HttpError(404, "unknown run '" + run + "'");
    }
    noContent(ex);
  }

  private void report(HttpExchange ex, String m, List<String> seg, Instant now) throws HttpError, IOException {
    only(m, "POST", seg, 1);
    List<ReportBatch.Record> records;
    try {
      records = ReportBatch.parse(body(ex, ImdsProtocol.MAX_BODY_BYTES));
    } catch (ReportBatch.MalformedException e) {
      throw refuse(400, "report", "malformed report: " + e.getMessage());
    }
    for (ReportBatch.Record r : records) {
      RunTracker.Outcome o = apply(r, now);
      if (o == RunTracker.Outcome.UNKNOWN_RUN) {
        LOG.debug("IMDS {}: report {} names an unknown run; skipped", id(), r);
      }
    }
    noContent(ex);
  }

  /** Applies one report, from a batch or from a single-purpose request. */
  private RunTracker.Outcome apply(ReportBatch.Record r, Instant now) throws HttpError {
    int scripts = current.view().spec().scripts().size();
    if (r instanceof ReportBatch.Status s) {
      lastStatus = s.status();
      events.publish(new AgentEvent.StatusReported(id(), now, s.status()));
      return RunTracker.Outcome.APPLIED;
    } else if (r instanceof ReportBatch.RunStart s) {
      if (s.blocks().size() > scripts || s.blocks().stream().anyMatch(b -> b < 0 || b >= scripts)
          || s.blocks().stream().distinct().count() != s.blocks().size()) {
        throw refuse(400, "blocks", "run " + s.run() + ": blocks must be distinct indexes below " + scripts);
      }
      return tracker.start(s.run(), s.trigger(), s.version(), s.hash(), s.blocks(), now);
    } else if (r instanceof ReportBatch.BlockStart s) {
      checkDeclared(s.run(), s.block());
      return tracker.blockStart(s.run(), s.block(), now);
    } else if (r instanceof ReportBatch.Output s) {
      checkDeclared(s.run(), s.block());
      return tracker.output(s.run(), s.block(), s.stream(), s.offset(), s.bytes(), now);
    } else if (r instanceof ReportBatch.BlockEnd s) {
      checkDeclared(s.run(), s.block());
      return tracker.blockEnd(s.run(), s.block(), s.exit(), s.timedOut(), now);
    } else if (r instanceof ReportBatch.RunEnd s) {
      return tracker.end(s.run(), s.ok(), s.failedBlock(), s.exit(), now, t -> {
        if (s.ok() && t == Trigger.FIRST_BOOT) {
          initialized.set(true);
        }
      });
    }
    throw new IllegalStateException("unknown record " + r);
  }

  private void checkDeclared(String run, int block) throws HttpError {
    if (tracker.isOpen(run) && !tracker.declared(run, block)) {
      throw refuse(400, "blocks", "block " + block + " is not one that run " + run + " declared");
    }
  }

  private void exec(HttpExchange ex, String m, List<String> seg, Map<String, String> q, Instant now)
      throws HttpError, IOException, InterruptedException {
    if (seg.size() == 2 && seg.get(1).equals("next")) {
      if (!m.equals("GET")) {
        throw new HttpError(405, m + " not allowed here", "GET");
      }
      String known = q.get("hash");
      if (known != null) {
        events.publish(new AgentEvent.Heartbeat(id(), now));
      }
      PendingExec p = awaitExecOrChange(known, waitSeconds(q));
      if (p != null) {
        text(ex, 200, execText(p));
      } else if (known != null && !known.equals(current.hash())) {
        text(ex, 200, "hash " + current.hash() + "\n");
      } else {
        noContent(ex);
      }
      return;
    }
    if (seg.size() == 3 && seg.get(2).equals("result")) {
      if (!m.equals("POST")) {
        throw new HttpError(405, m + " not allowed here", "POST");
      }
      String execId = seg.get(1);
      byte[] body;
      try {
        body = body(ex, ImdsProtocol.MAX_BODY_BYTES);
      } catch (HttpError e) {
        if (e.status == 413) {
          failExec(execId, "its result is larger than " + ImdsProtocol.MAX_BODY_BYTES + " bytes");
        }
        throw e;
      }
      if (!execInFlight.containsKey(execId)) {
        throw new HttpError(404, "unknown or expired exec '" + ReportBatch.clip(execId) + "'");
      }
      String over = q.get("overLimit");
      if (over != null) {
        long n = number(over, "overLimit");
        failExec(execId, "its output passed the limit of " + ImdsProtocol.MAX_EXEC_OUTPUT_BYTES + " bytes (" + n
            + " bytes or more); the command was ended");
        noContent(ex);
        return;
      }
      int exit = number(required(q, "exit"), "exit");
      boolean timedOut = bool(q.getOrDefault("timedOut", "false"), "timedOut");
      int outBytes = number(required(q, "stdoutBytes"), "stdoutBytes");
      if (outBytes < 0 || outBytes > body.length) {
        throw new HttpError(400, "stdoutBytes " + outBytes + " outside the body of " + body.length + " bytes");
      }
      PendingExec p = execInFlight.remove(execId);
      if (p == null) {
        throw new HttpError(404, "exec '" + execId + "' was answered already");
      }
      ExecResult r =
          new ExecResult(
              exit, Arrays.copyOfRange(body, 0, outBytes), Arrays.copyOfRange(body, outBytes, body.length), timedOut);
      events.publish(new AgentEvent.ExecFinished(id(), now, p.id(), p.request(), r));
      p.future().complete(r);
      noContent(ex);
      return;
    }
    throw new HttpError(404, "unknown path /" + String.join("/", seg));
  }

  private void failExec(String execId, String why) {
    PendingExec p = execInFlight.remove(execId);
    if (p != null) {
      warnings.warn("exec-output", "exec " + p.request().argv() + ": " + why);
      p.future().completeExceptionally(new PodsException("exec " + p.request().argv() + " in " + id() + " failed: " + why));
    }
  }

  /**
   * Waits up to {@code waitSeconds} for an exec request (returned, and marked in flight) or, when {@code known}
   * is given, for the state hash to differ from it (returns null at once then). Null on timeout too.
   */
  private @Nullable PendingExec awaitExecOrChange(@Nullable String known, int waitSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
    pollLock.lock();
    try {
      while (true) {
        PendingExec p;
        while ((p = execQueue.poll()) != null) {
          if (!p.future().isDone()) {
            execInFlight.put(p.id(), p);
            return p;
          }
        }
        if (closed.get() || (known != null && !known.equals(current.hash()))) {
          return null;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        pollSignal.awaitNanos(left);
      }
    } finally {
      pollLock.unlock();
    }
  }

  private void wakePollers() {
    pollLock.lock();
    try {
      pollSignal.signalAll();
    } finally {
      pollLock.unlock();
    }
  }

  private static String execText(PendingExec p) {
    Base64.Encoder enc = Base64.getEncoder();
    StringBuilder b = new StringBuilder();
    b.append("id ").append(p.id()).append('\n');
    b.append("timeout ").append(Math.max(1, (p.request().timeout().toMillis() + 999) / 1000)).append('\n');
    for (String a : p.request().argv()) {
      b.append("arg ").append(enc.encodeToString(a.getBytes(StandardCharsets.UTF_8))).append('\n');
    }
    byte[] in = p.request().stdin();
    if (in != null) {
      b.append("stdin ").append(enc.encodeToString(in)).append('\n');
    }
    b.append("limit ").append(ImdsProtocol.MAX_EXEC_OUTPUT_BYTES).append('\n');
    return b.toString();
  }

  // ------------------------------------------------------------------------------------------ helpers

  private static Trigger trigger(String s) throws HttpError {
    try {
      return Trigger.valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, "trigger is first_boot, reboot or cluster_change, not '" + s + "'");
    }
  }

  private static String required(Map<String, String> q, String name) throws HttpError {
    String v = q.get(name);
    if (v == null) {
      throw new HttpError(400, "missing parameter '" + name + "'");
    }
    return v;
  }

  private static int number(String s, String what) throws HttpError {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw new HttpError(400, what + " must be a number, not '" + s + "'");
    }
  }

  private static boolean bool(String s, String what) throws HttpError {
    return switch (s) {
      case "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw new HttpError(400, what + " must be true or false, not '" + s + "'");
    };
  }

  private static Map<String, String> query(@Nullable String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      String k = eq < 0 ? kv : kv.substring(0, eq);
      String v = eq < 0 ? "" : kv.substring(eq + 1);
      out.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  /**
   * Reads a request body of at most {@code limit} bytes. The length must be declared ({@code Content-Length}):
   * a larger one is refused (413) before a byte is read, and the bodies being read at once by one instance's
   * server hold at most {@link ImdsProtocol#MAX_BODY_BYTES_IN_FLIGHT} bytes (503 beyond).
   */
  private byte[] body(HttpExchange ex, int limit) throws IOException, HttpError {
    String cl = ex.getRequestHeaders().getFirst("Content-Length");
    String te = ex.getRequestHeaders().getFirst("Transfer-Encoding");
    long declared;
    if (cl == null) {
      if (te != null) {
        throw refuse(411, "body", "a request body needs a Content-Length");
      }
      declared = 0;
    } else {
      try {
        declared = Long.parseLong(cl.trim());
      } catch (NumberFormatException e) {
        throw refuse(400, "body", "Content-Length is not a number");
      }
    }
    if (declared < 0 || declared > limit) {
      if (declared > 0 && declared <= DISCARD_LIMIT) {
        // answered first, then read and dropped (no memory held): a client still sending its body then reads
        // the answer instead of a reset, and one that never sends it holds up nobody but its own server
        DISCARD.set(Boolean.TRUE);
      }
      throw refuse(413, "body", "body of " + declared + " bytes refused: at most " + limit + " bytes here");
    }
    int n = (int) declared;
    if (!bodyBudget.tryAcquire(n)) {
      throw refuse(503, "body-budget", "request bodies in flight would pass "
          + ImdsProtocol.MAX_BODY_BYTES_IN_FLIGHT + " bytes; refused");
    }
    try (InputStream in = ex.getRequestBody()) {
      byte[] b = in.readNBytes(n);
      if (b.length != n) {
        throw new HttpError(400, "body ended after " + b.length + " of " + n + " bytes");
      }
      return b;
    } finally {
      bodyBudget.release(n);
    }
  }

  private void drain(HttpExchange ex) throws IOException, HttpError {
    body(ex, 64 * 1024);
  }

  /** An error answer that is also logged (rate-limited per kind): what a well-behaved agent never causes. */
  private HttpError refuse(int status, String kind, String message) {
    warnings.warn(kind, "refused with " + status + ": " + message);
    return new HttpError(status, message);
  }

  private static void text(HttpExchange ex, int status, String body) throws IOException {
    send(ex, status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
  }

  private static void json(HttpExchange ex, int status, ObjectNode body) throws IOException {
    send(ex, status, "application/json", JSON.writeValueAsBytes(body));
  }

  private static void noContent(HttpExchange ex) throws IOException {
    ex.sendResponseHeaders(204, -1);
  }

  private static void error(HttpExchange ex, int status, @Nullable String message) {
    ObjectNode o = JSON.createObjectNode();
    o.put("status", status);
    o.put("error", message == null ? "error" : message);
    try {
      json(ex, status, o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    // flushed at once: closing the exchange first drains what is left of the request body, which a client that
    // declared a body it never sends would hold up until it gives up (it gives up once it has read the answer)
    if (body.length > 0) {
      ex.getResponseBody().write(body);
      ex.getResponseBody().flush();
    }
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
