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
 * The cluster options of {@code pods ps}, {@code logs}, {@code exec}, {@code plan}, {@code apply} and {@code down}, a
 * picocli mixin: {@code --etcd URL[,URL...]} makes the command act on the pods of a cluster coordinated through etcd
 * ({@link ClusterCli}) instead of the {@code pods up} processes of this host; {@code --prefix P} is the cluster's key
 * prefix. One object per parse; not thread-safe.
 */
final class ClusterOptions {
  /** The cluster's key prefix unless {@code --prefix} says otherwise. */
  static final String DEFAULT_PREFIX = "/pods";
  /** How long one etcd request may take before the command gives up. */
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  @Option(names = "--etcd", split = ",", paramLabel = "URL",
      description = "act on the pods of the cluster in etcd at these client URLs, e.g. http://10.250.0.1:2379"
          + " (comma-separated or repeated), not on this host's")
  List<String> etcd = new ArrayList<>();

  @Option(names = "--prefix", paramLabel = "P", description = "with --etcd: the cluster's key prefix in etcd"
      + " (default " + DEFAULT_PREFIX + ")")
  @Nullable String prefix;

  /**
   * Whether {@code --etcd} was given.
   *
   * @throws Up.UsageException naming {@code command} when {@code --prefix} was given without it
   */
  boolean given(String command) throws Up.UsageException {
    if (etcd.isEmpty() && prefix != null) {
      throw new Up.UsageException(command + ": --prefix is the key prefix of a cluster: it needs --etcd");
    }
    return !etcd.isEmpty();
  }

  /**
   * The checked endpoints and prefix.
   *
   * @throws Up.UsageException naming {@code command} and what is wrong
   */
  Target target(String command) throws Up.UsageException {
    return target(command, etcd, prefix == null ? DEFAULT_PREFIX : prefix);
  }

  /**
   * {@code urls} and {@code prefix}, checked.
   *
   * @throws Up.UsageException naming {@code command} and what is wrong: a URL that is not http(s)://HOST:PORT, a
   *     prefix not of the form /name[/name...]
   */
  static Target target(String command, List<String> urls, String prefix) throws Up.UsageException {
    for (String url : urls) {
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
    try {
      EtcdKeyspace.requirePrefix(prefix);
    } catch (IllegalArgumentException e) {
      throw new Up.UsageException(command + ": --prefix: " + e.getMessage());
    }
    return new Target(List.copyOf(urls), prefix);
  }

  /** Where a cluster is: its etcd client URLs and key prefix. */
  record Target(List<String> urls, String prefix) {
    /** A client of the endpoints; the caller closes it. */
    Client client() {
      return Client.builder().endpoints(urls.toArray(String[]::new)).build();
    }

    /** The keyspace on {@code client}. */
    EtcdKeyspace keyspace(Client client) {
      return EtcdKeyspace.of(client, prefix, TIMEOUT);
    }
  }
}
