package dev.pods.net;

import dev.pods.PodsException;
import dev.pods.spi.DnsProvider;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * A {@link DnsProvider} that publishes through RFC 2136 dynamic updates, signed with a TSIG key (RFC 8945), to the
 * primary server of the zones (BIND 9's {@code update-policy} or {@code allow-update}, Knot, PowerDNS...). Each
 * {@link #replace} is one UPDATE message that deletes the name's A record set and adds the new records, which the
 * server applies atomically; {@link #addresses} asks the same server (signed too). DNS messages are built and
 * checked by dnsjava.
 *
 * <pre>{@code
 * DnsProvider bind = Rfc2136DnsProvider.builder()
 *     .server(new InetSocketAddress("192.0.2.53", 53))
 *     .tsig("hmac-sha256", "pods-key", base64Secret)
 *     .build();
 * PodRuntime rt = PodRuntime.localBuilder().domain("example", "example.com", bind).build();
 * }</pre>
 *
 * <p>Thread-safe (each call uses its own resolver) and blocking (a call waits for the server's answer, at most
 * the timeout per try, over TCP). Holds no sockets between calls, so {@link #close()} has nothing to release.
 *
 * @since 0.1
 */
public final class Rfc2136DnsProvider implements DnsProvider {
  private final InetSocketAddress server;
  private final @Nullable TSIG tsig;
  private final long ttl;
  private final Duration timeout;

  private Rfc2136DnsProvider(Builder b) {
    this.server = Objects.requireNonNull(b.server, "server");
    this.tsig = b.tsig;
    this.ttl = b.ttl.toSeconds();
    this.timeout = b.timeout;
  }

  /** A builder; {@link Builder#server} is required. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void replace(String zone, String name, List<Inet4Address> addresses) {
    Objects.requireNonNull(addresses, "addresses");
    Name z = zone(zone);
    Name host = host(name, z, zone);
    Update u = new Update(z);
    u.delete(host, Type.A);
    for (Inet4Address a : List.copyOf(new java.util.LinkedHashSet<>(addresses))) {
      u.add(new ARecord(host, DClass.IN, ttl, a));
    }
    Message r = send(u, "update of " + name + " in zone " + zone);
    if (r.getRcode() != Rcode.NOERROR) {
      throw new PodsException("update of " + name + " in zone " + zone + " refused by " + where() + ": "
          + Rcode.string(r.getRcode()));
    }
  }

  @Override
  public List<Inet4Address> addresses(String zone, String name) {
    Name z = zone(zone);
    Name host = host(name, z, zone);
    Message r = send(Message.newQuery(Record.newRecord(host, Type.A, DClass.IN)),
        "query of " + name + " in zone " + zone);
    if (r.getRcode() == Rcode.NXDOMAIN) {
      return List.of();
    }
    if (r.getRcode() != Rcode.NOERROR) {
      throw new PodsException("query of " + name + " in zone " + zone + " failed at " + where() + ": "
          + Rcode.string(r.getRcode()));
    }
    List<Inet4Address> out = new ArrayList<>();
    for (Record rec : r.getSection(Section.ANSWER)) {
      if (rec instanceof ARecord a && a.getName().equals(host)) {
        out.add((Inet4Address) a.getAddress());
      }
    }
    return out;
  }

  private Message send(Message m, String what) {
    SimpleResolver res = new SimpleResolver(server);
    res.setTCP(true);
    res.setTimeout(timeout);
    if (tsig != null) {
      res.setTSIGKey(tsig);
    }
    Message r;
    try {
      r = res.send(m);
    } catch (IOException e) {
      throw new PodsException(what + " failed: " + where() + " did not answer (" + e.getMessage() + ")", e);
    }
    if (tsig != null && !r.isVerified() && r.getRcode() == Rcode.NOERROR) {
      throw new PodsException(what + ": the answer of " + where() + " is not signed with the TSIG key");
    }
    return r;
  }

  private String where() {
    return (server.getAddress() != null ? server.getAddress().getHostAddress() : server.getHostString()) + ":"
        + server.getPort();
  }

  private static Name zone(String zone) {
    Objects.requireNonNull(zone, "zone");
    try {
      return Name.fromString(zone.endsWith(".") ? zone : zone + ".");
    } catch (TextParseException e) {
      throw new IllegalArgumentException("bad zone '" + zone + "': " + e.getMessage(), e);
    }
  }

  private static Name host(String name, Name zone, String zoneText) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.endsWith(".")) {
      throw new IllegalArgumentException("bad name '" + name + "' in zone " + zoneText
          + ": expected a name relative to the zone");
    }
    try {
      return Name.fromString(name, zone);
    } catch (TextParseException e) {
      throw new IllegalArgumentException("bad name '" + name + "' in zone " + zoneText + ": " + e.getMessage(), e);
    }
  }

  /** Nothing to release: every call opens and closes its own connection. */
  @Override
  public void close() {}

  /** Builds an {@link Rfc2136DnsProvider}. Not thread-safe. Defaults: no TSIG, TTL 60 s, timeout 5 s. */
  public static final class Builder {
    private @Nullable InetSocketAddress server;
    private @Nullable TSIG tsig;
    private Duration ttl = Duration.ofSeconds(60);
    private Duration timeout = Duration.ofSeconds(5);

    private Builder() {}

    /** The zones' primary server (address and port). */
    public Builder server(InetSocketAddress address) {
      this.server = Objects.requireNonNull(address, "server");
      return this;
    }

    /**
     * Signs every message with this TSIG key (the server's {@code key} statement).
     *
     * @param algorithm e.g. {@code hmac-sha256}
     * @param keyName the key's name
     * @param secretBase64 the shared secret, base64
     * @throws IllegalArgumentException when the algorithm is unknown or the secret is not base64
     */
    public Builder tsig(String algorithm, String keyName, String secretBase64) {
      Name alg;
      try {
        alg = TSIG.algorithmToName(Objects.requireNonNull(algorithm, "algorithm"));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown TSIG algorithm '" + algorithm + "'", e);
      }
      try {
        java.util.Base64.getDecoder().decode(Objects.requireNonNull(secretBase64, "secretBase64"));
        this.tsig = new TSIG(alg, Name.fromString(keyName.endsWith(".") ? keyName : keyName + "."), secretBase64);
      } catch (TextParseException e) {
        throw new IllegalArgumentException("bad TSIG key name '" + keyName + "'", e);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the TSIG secret of key '" + keyName + "' is not base64", e);
      }
      return this;
    }

    /** The TTL of the published records (1 s .. 1 day). */
    public Builder ttl(Duration value) {
      if (value.getSeconds() < 1 || value.getSeconds() > 86400) {
        throw new IllegalArgumentException("ttl must be 1 s .. 1 day, not " + value);
      }
      this.ttl = value;
      return this;
    }

    /** How long one try waits for the server. */
    public Builder timeout(Duration value) {
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, not " + value);
      }
      this.timeout = value;
      return this;
    }

    /**
     * Builds the provider (no I/O).
     *
     * @throws IllegalStateException when no server was set
     */
    public Rfc2136DnsProvider build() {
      if (server == null) {
        throw new IllegalStateException("server is required");
      }
      return new Rfc2136DnsProvider(this);
    }
  }
}
