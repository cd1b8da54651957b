package dev.pods.cli;

import dev.pods.etcd.EtcdKeyspace;
import io.etcd.jetcd.Client;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The etcd options of every command that talks to a cluster, a picocli mixin: {@code --etcd URL[,URL...]}, the
 * cluster's client URLs, and {@code --etcd-prefix P}, its key prefix (default {@value #DEFAULT_PREFIX}), checked
 * here once and turned into a {@link Target}. Two flavours declare {@code --etcd}: {@link Required} for
 * {@code pods nodes} and {@code pods node}, which only talk to a cluster, and {@link Optional} for {@code up},
 * {@code ps}, {@code logs}, {@code exec}, {@code plan}, {@code apply} and {@code down}, which act on the cluster
 * instead of this host when it is given. ({@code --prefix}, on {@code up} and {@code node}, is the name prefix of
 * what this host creates, never the key prefix.) One object per parse; not thread-safe.
 */
abstract sealed class EtcdOptions permits EtcdOptions.Required, EtcdOptions.Optional {
  /** The cluster's key prefix unless {@code --etcd-prefix} says otherwise. */
  static final String DEFAULT_PREFIX = "/pods";
  /** How long one etcd request may take before the command gives up, unless the command says otherwise. */
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  @Option(names = "--etcd-prefix", paramLabel = "P", description = "the cluster's key prefix in etcd (default "
      + DEFAULT_PREFIX + ")")
  @Nullable String prefix;

  /** The URLs of {@code --etcd}, as given (empty when not given). */
  abstract List<String> urls();

  /**
   * Whether {@code --etcd} was given.
   *
   * @throws Up.UsageException naming {@code command} when {@code --etcd-prefix} was given without it
   */
  final boolean given(String command) throws Up.UsageException {
    if (urls().isEmpty() && prefix != null) {
      throw new Up.UsageException(command + ": --etcd-prefix is the key prefix of a cluster: it needs --etcd");
    }
    return !urls().isEmpty();
  }

  /**
   * The checked endpoints and prefix.
   *
   * @throws Up.UsageException naming {@code command} and what is wrong: a URL that is not http(s)://HOST:PORT, a
   *     prefix not of the form /name[/name...], {@code --etcd-prefix} without {@code --etcd}
   */
  final Target target(String command) throws Up.UsageException {
    if (!given(command)) {
      throw new Up.UsageException(command + ": no cluster: --etcd is missing");
    }
    for (String url : urls()) {
      URI u = null;
      try {
        u = new URI(url);
      } catch (URISyntaxException e) {
        // named below
      }
      if (u == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
          || u.getPort() < 1) {
        throw new Up.UsageException(command + ": --etcd: '" + url + "' is not http(s)://HOST:PORT");
      }
    }
    String p = prefix == null ? DEFAULT_PREFIX : prefix;
    try {
      EtcdKeyspace.requirePrefix(p);
    } catch (IllegalArgumentException e) {
      throw new Up.UsageException(command + ": --etcd-prefix: " + e.getMessage());
    }
    return new Target(List.copyOf(urls()), p);
  }

  /** {@code --etcd} required: the command only talks to a cluster. */
  static final class Required extends EtcdOptions {
    @Option(names = "--etcd", required = true, split = ",", paramLabel = "URL", description = "the cluster's etcd"
        + " client URLs, e.g. http://10.250.0.1:2379 (comma-separated or repeated)")
    List<String> etcd = new ArrayList<>();

    @Override
    List<String> urls() {
      return etcd;
    }
  }

  /** {@code --etcd} optional: with it the command acts on the cluster, without it on this host. */
  static final class Optional extends EtcdOptions {
    @Option(names = "--etcd", split = ",", paramLabel = "URL", description = "act on the cluster in etcd at these"
        + " client URLs, e.g. http://10.250.0.1:2379 (comma-separated or repeated), not on this host")
    List<String> etcd = new ArrayList<>();

    @Override
    List<String> urls() {
      return etcd;
    }
  }

  /** Where a cluster is: its etcd client URLs and key prefix. Immutable. */
  record Target(List<String> urls, String prefix) {
    /** A client of the endpoints; the caller closes it. Does not block. */
    Client client() {
      return Client.builder().endpoints(urls.toArray(String[]::new)).build();
    }

    /** The keyspace on {@code client}, each request giving up after {@link #TIMEOUT}. */
    EtcdKeyspace keyspace(Client client) {
      return keyspace(client, TIMEOUT);
    }

    /** The keyspace on {@code client}, each request giving up after {@code timeout}. */
    EtcdKeyspace keyspace(Client client, Duration timeout) {
      return EtcdKeyspace.of(client, prefix, timeout);
    }
  }
}
