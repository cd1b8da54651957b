package dev.pods.etcd;

import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.etcd.internal.AddressRecord;
import dev.pods.etcd.internal.EventRecord;
import dev.pods.etcd.internal.ExecRecord;
import dev.pods.etcd.internal.StatusRecord;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what a node says about its instances to etcd, on a daemon thread {@code pods-host-writer-NODE}: the latest
 * {@link StatusRecord} of each instance (under the node's lease) or its removal, where its private address is held
 * ({@link AddressRecord}, no lease), exec answers (under their request's lease), and the local deployments' events as {@link EventRecord}s (in batches, under leases of ten minutes). Nothing
 * is fire-and-forget: a write that fails is kept and tried again after {@link #RETRY} (a newer status of the same
 * instance replaces an older one still waiting). Output and journal lines beyond {@link #LINES_PER_SECOND} (after a
 * burst of {@link #LINE_BURST}) are dropped, and an {@link PodEvent.EventsDropped} says how many, per instance.
 *
 * <p>Thread-safe; the methods that queue never block on etcd. Statuses wait until the node's lease is known
 * ({@code nodeLease} answers non-zero); after {@link #stopStatuses()} (the node is lost, its lease gone) statuses are
 * dropped. {@link #close()} stops the thread (idempotent); what is still queued then is dropped.
 */
final class HostWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HostWriter.class);
  static final Duration RETRY = Duration.ofMillis(500);
  /** How long an event is kept in etcd. */
  static final Duration EVENT_LEASE = Duration.ofMinutes(10);
  /** How long one event lease is used for new events before another is granted. */
  static final Duration EVENT_LEASE_REUSE = Duration.ofMinutes(1);
  static final int LINES_PER_SECOND = 200;
  static final int LINE_BURST = 2000;
  /** Events waiting beyond this many are dropped (and counted). */
  static final int MAX_QUEUED_EVENTS = 20_000;
  /** Operations per transaction (etcd allows 128). */
  static final int BATCH = 100;

  private final EtcdKeyspace space;
  private final String node;
  private final LongSupplier nodeLease;
  private final Object lock = new Object();
  /** Status key (relative) to its JSON, or null for a removal; in the order asked. */
  private final Map<String, byte @Nullable []> statuses = new LinkedHashMap<>();
  private final Map<String, ExecAnswer> answers = new LinkedHashMap<>();
  /** Keys (relative) written without a lease: address records. */
  private final Map<String, byte[]> lasting = new LinkedHashMap<>();
  /** The status last written of each key, which a removal compares (only the writer thread touches it). */
  private final Map<String, byte[]> written = new java.util.HashMap<>();
  private final Deque<Event> events = new ArrayDeque<>();
  /** Lines dropped since the last {@code EventsDropped}, by pod and instance. */
  private final Map<List<String>, Long> dropped = new LinkedHashMap<>();
  private double tokens = LINE_BURST;
  private long refilled = System.nanoTime();
  private long sequence = System.currentTimeMillis() * 1000;
  private boolean statusesStopped;
  private boolean closed;
  private long eventLease;
  private long eventLeaseSince;
  private final Thread thread;

  private record Event(String pod, PodEvent event) {}

  private record ExecAnswer(byte[] json, long lease) {}

  HostWriter(EtcdKeyspace space, String node, LongSupplier nodeLease) {
    this.space = space;
    this.node = node;
    this.nodeLease = nodeLease;
    this.thread = new Thread(this::run, "pods-host-writer-" + node);
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues {@code record} as the status of {@code pod}'s instance {@code instance}, or its removal (null). */
  void status(String pod, String instance, @Nullable StatusRecord record) {
    synchronized (lock) {
      if (statusesStopped) {
        return;
      }
      statuses.remove(ClusterKeys.STATUS + pod + "/" + instance); // keeps the order of the latest
      statuses.put(ClusterKeys.STATUS + pod + "/" + instance, record == null ? null : ClusterKeys.json(record)
          .getBytes());
      lock.notifyAll();
    }
  }

  /** Queues {@code record} as where the private address of {@code pod}'s {@code instance} is held (no lease). */
  void address(String pod, String instance, AddressRecord record) {
    synchronized (lock) {
      lasting.put(ClusterKeys.ADDRESSES + pod + "/" + instance, ClusterKeys.json(record).getBytes());
      lock.notifyAll();
    }
  }

  /** Queues the answer of exec request {@code id}, under {@code lease} (the request's). */
  void execResult(String id, ExecRecord.Result result, long lease) {
    synchronized (lock) {
      answers.put(id, new ExecAnswer(ClusterKeys.json(result).getBytes(), lease));
      lock.notifyAll();
    }
  }

  /** Queues {@code e}, an event of pod {@code pod}, unless it is a line beyond the rate (then counted). */
  void event(String pod, PodEvent e) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      boolean line = e instanceof PodEvent.OutputLine || e instanceof PodEvent.JournalLine;
      if (line) {
        long now = System.nanoTime();
        tokens = Math.min(LINE_BURST, tokens + (now - refilled) / 1e9 * LINES_PER_SECOND);
        refilled = now;
      }
      if ((line && tokens < 1) || events.size() >= MAX_QUEUED_EVENTS) {
        dropped.merge(List.of(pod, e.instance()), 1L, Long::sum);
        return;
      }
      if (line) {
        tokens -= 1;
      }
      events.add(new Event(pod, e));
      lock.notifyAll();
    }
  }

  /** The node is lost: its lease is gone, statuses are dropped from now on. */
  void stopStatuses() {
    synchronized (lock) {
      statusesStopped = true;
      statuses.clear();
    }
  }

  /** Whether nothing is waiting to be written (tests). */
  boolean idle() {
    synchronized (lock) {
      return statuses.isEmpty() && answers.isEmpty() && lasting.isEmpty() && events.isEmpty() && dropped.isEmpty();
    }
  }

  private void run() {
    while (true) {
      List<Op> ops = new ArrayList<>();
      Map<String, byte @Nullable []> statusBatch = new LinkedHashMap<>();
      Map<String, ExecAnswer> answerBatch = new LinkedHashMap<>();
      Map<String, byte[]> lastingBatch = new LinkedHashMap<>();
      List<Event> eventBatch = new ArrayList<>();
      long lease;
      synchronized (lock) {
        while (!closed && nothingToDo()) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        if (closed) {
          return;
        }
        lease = nodeLease.getAsLong();
        if (lease != 0) {
          for (Map.Entry<String, byte @Nullable []> s : statuses.entrySet()) {
            if (statusBatch.size() >= BATCH) {
              break;
            }
            statusBatch.put(s.getKey(), s.getValue());
          }
        }
        answerBatch.putAll(answers);
        for (Map.Entry<String, byte[]> l : lasting.entrySet()) {
          if (statusBatch.size() + lastingBatch.size() >= BATCH) {
            break;
          }
          lastingBatch.put(l.getKey(), l.getValue());
        }
        if (!dropped.isEmpty()) {
          Instant now = Instant.now();
          dropped.forEach((k, n) -> events.add(new Event(k.get(0), new PodEvent.EventsDropped(k.get(1), now, n))));
          dropped.clear();
        }
        for (Event e : events) {
          if (statusBatch.size() + lastingBatch.size() + eventBatch.size() >= BATCH) {
            break;
          }
          eventBatch.add(e);
        }
      }
      boolean answersFailed = false;
      for (Map.Entry<String, ExecAnswer> a : answerBatch.entrySet()) {
        answersFailed |= !answer(a.getKey(), a.getValue());
      }
      try {
        for (Map.Entry<String, byte @Nullable []> s : statusBatch.entrySet()) {
          if (s.getValue() == null) {
            remove(s.getKey());
          } else {
            ops.add(Op.put(space.key(s.getKey()), ByteSequence.from(s.getValue()),
                PutOption.builder().withLeaseId(lease).build()));
          }
        }
        lastingBatch.forEach((k, v) -> ops.add(Op.put(space.key(k), ByteSequence.from(v), PutOption.DEFAULT)));
        if (!eventBatch.isEmpty()) {
          long events = eventLease();
          for (Event e : eventBatch) {
            String key = ClusterKeys.EVENTS + e.pod() + "/" + node + "-" + String.format("%019d", sequence++);
            ops.add(Op.put(space.key(key), ByteSequence.from(EventRecord.write(e.event())),
                PutOption.builder().withLeaseId(events).build()));
          }
        }
        if (!ops.isEmpty()) {
          // Each put writes a whole value, so a transaction sent again writes the same.
          space.call("node '" + node + "' writing " + ops.size() + " status, exec and event record(s)",
              () -> space.kv().txn().Then(ops.toArray(Op[]::new)).commit());
        }
        synchronized (lock) {
          statusBatch.forEach((k, v) -> {
            if (v != null) {
              written.put(k, v);
            }
            if (statuses.containsKey(k) && statuses.get(k) == v) {
              statuses.remove(k);
            }
          });
          for (int i = 0; i < eventBatch.size(); i++) {
            events.poll();
          }
          lastingBatch.forEach((k, v) -> lasting.remove(k, v));
        }
        if (answersFailed) {
          pause();
        }
      } catch (PodsException e) {
        if (isClosed()) {
          return;
        }
        LOG.warn("node {}: writing its records failed; trying again in {} ms", node, RETRY.toMillis(), e);
        eventLease = 0; // a lease that expired (a long etcd outage) is granted anew
        pause();
      }
    }
  }

  /**
   * Removes the status at {@code key} if it is still the one this node wrote last: the instance may run on another
   * node now, which wrote its own.
   */
  private void remove(String key) {
    byte[] mine = written.get(key);
    if (mine == null) {
      return;
    }
    ByteSequence k = space.key(key);
    space.call("node '" + node + "' removing status " + key, () -> space.kv().txn()
        .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.value(ByteSequence.from(mine))))
        .Then(Op.delete(k, DeleteOption.DEFAULT))
        .commit());
    written.remove(key);
  }

  /**
   * Writes one exec answer in a request of its own: one whose request's lease expired (the client gave up) cannot be
   * written and is dropped; any other failure keeps it for the next round.
   */
  private boolean answer(String id, ExecAnswer a) {
    try {
      space.call("node '" + node + "' answering exec " + id, () -> space.kv().put(
          space.key(ClusterKeys.EXEC_RESULT + id), ByteSequence.from(a.json()),
          PutOption.builder().withLeaseId(a.lease()).build()));
      synchronized (lock) {
        answers.remove(id);
      }
      return true;
    } catch (PodsException e) {
      if (String.valueOf(e.getMessage()).contains("lease not found")) {
        LOG.info("node {}: exec {} answered after its request expired; dropped", node, id);
        synchronized (lock) {
          answers.remove(id);
        }
        return true;
      }
      LOG.warn("node {}: answering exec {} failed; trying again", node, id, e);
      return false;
    }
  }

  private boolean nothingToDo() {
    boolean statusReady = !statuses.isEmpty() && nodeLease.getAsLong() != 0;
    return !statusReady && answers.isEmpty() && lasting.isEmpty() && events.isEmpty() && dropped.isEmpty();
  }

  private long eventLease() {
    long now = System.nanoTime();
    if (eventLease == 0 || now - eventLeaseSince > EVENT_LEASE_REUSE.toNanos()) {
      eventLease = space.call("node '" + node + "' granting a lease for events",
          () -> space.client().getLeaseClient().grant(EVENT_LEASE.toSeconds())).getID();
      eventLeaseSince = now;
    }
    return eventLease;
  }

  /** Wakes the writer: the node's lease became known. */
  void wake() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  private boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  private void pause() {
    synchronized (lock) {
      try {
        lock.wait(RETRY.toMillis()); // a backoff before the retry; close() ends it early
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      lock.notifyAll();
    }
    try {
      thread.join(space.timeout().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
