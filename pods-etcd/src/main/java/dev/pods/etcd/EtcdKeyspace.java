package dev.pods.etcd;

import dev.pods.PodsException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
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
 * blocking, bounded way the stores here call etcd: each request waits at most the keyspace's timeout, failures
 * become {@link PodsException}s naming what was being done, and every request is counted ({@link #requests()}), so
 * a caller can tell what an operation costs.
 *
 * <p>Thread-safe. It does not own the jetcd {@link Client}: the caller closes it (after the stores that use it).
 *
 * @since 0.1
 */
public final class EtcdKeyspace {
  private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._-]+)+");

  private final KV kv;
  private final String prefix;
  private final Duration timeout;
  private final AtomicLong requests = new AtomicLong();

  private EtcdKeyspace(KV kv, String prefix, Duration timeout) {
    this.kv = kv;
    this.prefix = prefix;
    this.timeout = timeout;
  }

  /**
   * The keys under {@code prefix} on {@code client}'s cluster; each request waits at most 10 seconds.
   *
   * @param prefix slash-separated names of letters, digits, '.', '_' and '-', starting with '/' and not ending
   *     with one: {@code /pods/shop}
   * @throws IllegalArgumentException naming the prefix when it is not of that form
   */
  public static EtcdKeyspace of(Client client, String prefix) {
    return of(client, prefix, Duration.ofSeconds(10));
  }

  /** As {@link #of(Client, String)}, each request waiting at most {@code timeout}. */
  public static EtcdKeyspace of(Client client, String prefix, Duration timeout) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(prefix, "prefix");
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException("etcd prefix '" + prefix + "' is not of the form /name[/name...] (letters,"
          + " digits, '.', '_', '-')");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("etcd request timeout must be positive, not " + timeout);
    }
    return new EtcdKeyspace(client.getKVClient(), prefix, timeout);
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

  /** The key {@code prefix/relative} as bytes. */
  ByteSequence key(String relative) {
    return ByteSequence.from(prefix + "/" + relative, StandardCharsets.UTF_8);
  }

  /** Sends one request and waits for its answer; {@code what} names it in the exception. */
  <T> T call(String what, Supplier<CompletableFuture<T>> request) {
    requests.incrementAndGet();
    CompletableFuture<T> f = request.get();
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new PodsException(what + " in etcd was interrupted", e);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new PodsException(what + " in etcd got no answer within " + timeout.toMillis() + " ms", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new PodsException(what + " in etcd failed: " + cause.getMessage(), cause);
    }
  }
}
