package dev.pods.etcd;

import dev.pods.PodsException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A part of an etcd keyspace that pods owns (every key under one prefix, such as {@code /pods/shop/}), with the
 * blocking, bounded way the stores here call etcd: each request waits at most the keyspace's timeout, and is sent
 * again meanwhile when etcd cannot serve it for now (a member or the leader lost: the client moves to the other
 * members), so losing a minority of members costs a pause, not an error; failures become {@link PodsException}s
 * naming what was being done; every request sent is counted ({@link #requests()}), so a caller can tell what an
 * operation costs.
 *
 * <p>The keys pods keeps under the prefix:
 * <ul>
 *   <li>{@code state/KEY}: the runtime's records ({@link EtcdStateStore});</li>
 *   <li>{@code pools/NAME/spec}, {@code cursor}, {@code holder/H}, {@code block/N}: an address pool
 *       ({@link EtcdIpAddressPool});</li>
 *   <li>{@code cluster/nodes/NAME}: a live node's record (JSON: name, address, CPUs, memory, free memory, the
 *       instances it runs), attached to the node's lease, so etcd deletes it when the lease expires
 *       ({@link ClusterNode});</li>
 *   <li>{@code cluster/members/NAME}: what every node that ever joined offers (no lease), so a lost node is still
 *       listed ({@link Nodes});</li>
 *   <li>{@code cluster/leader/LEASE}: etcd's election keys, one per campaigning node under its lease; the oldest is
 *       the leader's, its value the node's name;</li>
 *   <li>{@code cluster/desired/POD/UNIT-INDEX}: the instances the cluster should run ({@link ClusterPods});</li>
 *   <li>{@code cluster/pods/POD}: the pod they belong to, as a document ({@link dev.pods.spi.PodDocuments}), written
 *       with them;</li>
 *   <li>{@code cluster/status/POD/UNIT-INDEX}: what the node running an instance says about it now (state,
 *       addresses, spec version), under that node's lease;</li>
 *   <li>{@code cluster/events/POD/NODE-SEQ}: the pod's events as the nodes saw them, under ten-minute leases;</li>
 *   <li>{@code cluster/exec/NODE/ID} and {@code cluster/exec-result/ID}: an exec asked of a node and its answer,
 *       under a lease of the exec's timeout;</li>
 *   <li>{@code cluster/addresses/POD/UNIT-INDEX}: the pool and holder of an instance's private address in the shared
 *       pool (JSON), written by the first node that runs it; the leader releases the address and removes the key once
 *       the instance is no longer desired and no live node lists it;</li>
 *   <li>{@code cluster/assign/POD/UNIT-INDEX}: where the leader put each instance and why (JSON: instance, node,
 *       state, why: the explanation is the assignment's event), written only by the leader, in transactions that
 *       compare its election key's create revision.</li>
 * </ul>
 *
 * <p>Thread-safe. It does not own the jetcd {@link Client}: the caller closes it (after the stores that use it).
 *
 * @since 0.1
 */
public final class EtcdKeyspace {
  /** How long one attempt of a request waits before it is sent again (etcd itself gives up after 7 s). */
  static final Duration ATTEMPT = Duration.ofSeconds(3);

  private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._-]+)+");

  private final Client client;
  private final KV kv;
  private final String prefix;
  private final Duration timeout;
  private final AtomicLong requests = new AtomicLong();
  private final Sender sender;

  private EtcdKeyspace(Client client, String prefix, Duration timeout, Sender sender) {
    this.client = client;
    this.kv = client.getKVClient();
    this.prefix = prefix;
    this.timeout = timeout;
    this.sender = sender;
  }

  /**
   * How one attempt of a request is sent: {@link #DIRECT} sends it; a test may hold an attempt back and send it
   * later, as a network that delivers a request late would, to show what a late commit does.
   */
  interface Sender {
    /** Sends attempt {@code attempt} (0 first) of the request named {@code what}. */
    <T> CompletableFuture<T> send(String what, int attempt, Supplier<CompletableFuture<T>> request);
  }

  /** Sends every attempt at once. */
  static final Sender DIRECT = new Sender() {
    @Override
    public <T> CompletableFuture<T> send(String what, int attempt, Supplier<CompletableFuture<T>> request) {
      return request.get();
    }
  };

  /** Counts a request sent outside {@link #call} (an election campaign, which waits as long as it takes). */
  void sent() {
    requests.incrementAndGet();
  }

  /** The same keys with a request count of their own (a node's leader counts apart from the node). */
  EtcdKeyspace counted() {
    return new EtcdKeyspace(client, prefix, timeout, sender);
  }

  /** This keyspace with attempts sent through {@code s} (tests). */
  EtcdKeyspace withSender(Sender s) {
    return new EtcdKeyspace(client, prefix, timeout, s);
  }

  /**
   * The keys under {@code prefix} on {@code client}'s cluster; each request waits at most 15 seconds, which covers
   * the election of a new leader after one is lost.
   *
   * @param prefix slash-separated names of letters, digits, '.', '_' and '-', starting with '/' and not ending
   *     with one: {@code /pods/shop}
   * @throws IllegalArgumentException naming the prefix when it is not of that form
   */
  public static EtcdKeyspace of(Client client, String prefix) {
    return of(client, prefix, Duration.ofSeconds(15));
  }

  /** As {@link #of(Client, String)}, each request waiting at most {@code timeout}. */
  public static EtcdKeyspace of(Client client, String prefix, Duration timeout) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(prefix, "prefix");
    requirePrefix(prefix);
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("etcd request timeout must be positive, not " + timeout);
    }
    return new EtcdKeyspace(client, prefix, timeout, DIRECT);
  }

  /**
   * Checks a key prefix as {@link #of(Client, String)} does, without a client (for command lines).
   *
   * @return {@code prefix}
   * @throws IllegalArgumentException naming the prefix when it is not of the form {@code /name[/name...]}
   * @since 0.2
   */
  public static String requirePrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException("etcd prefix '" + prefix + "' is not of the form /name[/name...] (letters,"
          + " digits, '.', '_', '-')");
    }
    return prefix;
  }

  /** The prefix, without a trailing slash. */
  public String prefix() {
    return prefix;
  }

  /** How many requests the stores on this keyspace have sent to etcd so far (a transaction counts once). */
  public long requests() {
    return requests.get();
  }

  KV kv() {
    return kv;
  }

  /** The client (leases, watches, elections); its owner closes it. */
  Client client() {
    return client;
  }

  /** The request timeout. */
  Duration timeout() {
    return timeout;
  }

  /** The key {@code prefix/relative} as bytes. */
  ByteSequence key(String relative) {
    return ByteSequence.from(prefix + "/" + relative, StandardCharsets.UTF_8);
  }

  /**
   * Sends one request and waits for its answer; {@code what} names it in the exception. A request that etcd could
   * not serve for now (no leader, a member gone, its answer lost: gRPC {@code UNAVAILABLE}), or that got no answer
   * within {@link #ATTEMPT}, is sent again until the keyspace's timeout has passed. Only requests whose repetition
   * is the same change may come here: a put of the same value, or a transaction whose compares make a repeat of an
   * applied one fail.
   */
  <T> T call(String what, Supplier<CompletableFuture<T>> request) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Throwable last = null;
    for (int attempt = 0; ; attempt++) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        String why = last == null ? "" : " (last: " + (last instanceof TimeoutException
            ? "no answer to the last attempt" : last.getMessage()) + ")";
        throw new PodsException(what + " in etcd got no answer within " + timeout.toMillis() + " ms" + why, last);
      }
      requests.incrementAndGet();
      CompletableFuture<T> f = sender.send(what, attempt, request);
      try {
        return f.get(Math.min(left, ATTEMPT.toNanos()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        f.cancel(true);
        Thread.currentThread().interrupt();
        throw new PodsException(what + " in etcd was interrupted", e);
      } catch (TimeoutException e) {
        f.cancel(true);
        last = e;
      } catch (ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        if (!unavailable(cause)) {
          throw new PodsException(what + " in etcd failed: " + cause.getMessage(), cause);
        }
        last = cause;
      }
    }
  }

  /** Whether etcd could not serve the request for now (no leader yet, a member down, the answer lost). */
  private static boolean unavailable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNAVAILABLE) {
        return true;
      }
      if (c instanceof EtcdException e && e.getErrorCode() == ErrorCode.UNAVAILABLE) {
        return true;
      }
    }
    return false;
  }
}
