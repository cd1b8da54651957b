package dev.pods.imds;

import dev.pods.PodsException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The exec requests of one instance, between the runtime that asks and the agent that runs them: queued until the
 * agent's long poll takes one, then in flight until its result comes (or the request's timeout plus
 * {@link ImdsServer#EXEC_GRACE} passes, or it is cancelled, or the server closes). Each request's future completes
 * exactly once. Thread-safe; only {@link #awaitNext} blocks (up to its wait).
 */
final class ExecBroker {
  /** A request and its id, waiting or in flight. */
  record PendingExec(String id, ExecRequest request, CompletableFuture<ExecResult> future) {}

  private final LinkedBlockingQueue<PendingExec> queue = new LinkedBlockingQueue<>();
  private final ConcurrentHashMap<String, PendingExec> inFlight = new ConcurrentHashMap<>();
  private final ReentrantLock pollLock = new ReentrantLock();
  private final Condition pollSignal = pollLock.newCondition();
  private final AtomicLong seq = new AtomicLong();
  private final RateLimitedLog warnings;
  private final String instance;

  ExecBroker(String instance, RateLimitedLog warnings) {
    this.instance = instance;
    this.warnings = warnings;
  }

  /** Queues a request and wakes the long polls; never blocks. */
  CompletableFuture<ExecResult> submit(ExecRequest request) {
    String id = "x" + seq.incrementAndGet();
    PendingExec p = new PendingExec(id, request, new CompletableFuture<>());
    p.future()
        .orTimeout(request.timeout().plus(ImdsServer.EXEC_GRACE).toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (r, e) -> {
              queue.remove(p);
              inFlight.remove(id);
            });
    queue.add(p);
    wake();
    return p.future();
  }

  /**
   * Waits up to {@code waitSeconds} for a request (returned, and marked in flight), or until {@code stop} says so
   * (checked whenever woken: a changed state hash, a closing server); null then, and on timeout.
   */
  @Nullable PendingExec awaitNext(int waitSeconds, BooleanSupplier stop) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
    pollLock.lock();
    try {
      while (true) {
        PendingExec p;
        while ((p = queue.poll()) != null) {
          if (!p.future().isDone()) {
            inFlight.put(p.id(), p);
            return p;
          }
        }
        if (stop.getAsBoolean()) {
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

  /** Wakes every waiting {@link #awaitNext}, so that it checks its stop condition again. */
  void wake() {
    pollLock.lock();
    try {
      pollSignal.signalAll();
    } finally {
      pollLock.unlock();
    }
  }

  /** Whether {@code id} is in flight (taken by the agent, no result yet). */
  boolean inFlight(String id) {
    return inFlight.containsKey(id);
  }

  /** Takes {@code id} out of flight to complete it; null when it is not (or no longer) in flight. */
  @Nullable PendingExec take(String id) {
    return inFlight.remove(id);
  }

  /** Fails the request {@code id} in flight (logged, rate-limited); nothing when it is not in flight. */
  void fail(String id, String why) {
    PendingExec p = inFlight.remove(id);
    if (p != null) {
      warnings.warn("exec-output", "exec " + p.request().argv() + ": " + why);
      p.future().completeExceptionally(
          new PodsException("exec " + p.request().argv() + " in " + instance + " failed: " + why));
    }
  }

  /** Fails every request, waiting or in flight, with {@code why}. */
  void failAll(PodsException why) {
    queue.forEach(p -> p.future().completeExceptionally(why));
    inFlight.values().forEach(p -> p.future().completeExceptionally(why));
  }

  /** The answer to the agent's poll that hands it {@code p} (see {@link ImdsProtocol}). */
  static String text(PendingExec p) {
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
}
