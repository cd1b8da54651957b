package dev.pods.imds;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * What one instance's server knows of its instance: the view it serves with its {@link StateHash}, whether the
 * instance is initialized, the agent's last contact and status. A changed hash completes the old snapshot's signal,
 * which wakes the long polls waiting on it, and runs the change hook (the exec broker's wake-up). Thread-safe:
 * reads are volatile reads; {@link #update} holds a lock briefly and never blocks; {@link #awaitChange} blocks up to
 * its wait.
 */
final class ServedState {
  /** One view with its hash, and the signal completed when a view with another hash replaces it. */
  record Snapshot(InstanceView view, String hash, CompletableFuture<Void> changed) {}

  private final Object updateLock = new Object();
  private final AtomicBoolean initialized;
  private final Runnable onChange;
  private volatile Snapshot current;
  private volatile @Nullable Instant lastContact;
  private volatile @Nullable AgentStatus lastStatus;

  ServedState(InstanceView view, Runnable onChange) {
    this.current = new Snapshot(view, StateHash.of(view), new CompletableFuture<>());
    this.initialized = new AtomicBoolean(view.initialized());
    this.onChange = onChange;
  }

  Snapshot current() {
    return current;
  }

  InstanceView view() {
    return current.view();
  }

  String hash() {
    return current.hash();
  }

  /** The instance's id. */
  String id() {
    return current.view().instanceId();
  }

  boolean initialized() {
    return initialized.get();
  }

  void markInitialized() {
    initialized.set(true);
  }

  Optional<Instant> lastContact() {
    return Optional.ofNullable(lastContact);
  }

  void contact(Instant at) {
    lastContact = at;
  }

  Optional<AgentStatus> lastStatus() {
    return Optional.ofNullable(lastStatus);
  }

  void status(AgentStatus status) {
    lastStatus = status;
  }

  /**
   * Serves {@code view}. When its hash differs from the current one, wakes the long polls and runs the change hook.
   *
   * @return the old hash when it changed, else null
   */
  @Nullable String update(InstanceView view) {
    String hash = StateHash.of(view);
    Snapshot old;
    synchronized (updateLock) {
      old = current;
      if (view.initialized()) {
        initialized.set(true);
      }
      if (old.hash().equals(hash)) {
        current = new Snapshot(view, hash, old.changed());
        return null;
      }
      current = new Snapshot(view, hash, new CompletableFuture<>());
    }
    old.changed().complete(null);
    onChange.run();
    return old.hash();
  }

  /** Wakes every long poll for good (the server closes). */
  void release() {
    current.changed().complete(null);
    onChange.run();
  }

  /**
   * The current hash: at once when {@code known} is absent or differs from it (or {@code waitSeconds} is 0), else
   * as soon as it changes, at the latest after {@code waitSeconds}.
   */
  String awaitChange(@Nullable String known, int waitSeconds) throws InterruptedException {
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
}
