package dev.pods.spec;

import dev.pods.SourceLocation;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One DNS record: {@code name} under a domain, pointing at the unit's instances' addresses of a type.
 *
 * <p>The host application registers each domain with the runtime
 * ({@link dev.pods.PodRuntime.Builder#domain(String, String, dev.pods.spi.DnsProvider)}): the record's name is then
 * {@code name.ZONE}. A record whose domain is not registered, or whose type is not {@link RecordType#PRIVATE} or
 * {@link RecordType#PUBLIC}, fails the deploy with this record's {@link #location()}.
 *
 * @param name the record's name (host part), e.g. {@code api}
 * @param domain the domain, a {@code +/domain/NAME} reference
 * @param type which address is published
 * @param select {@code primary} to publish only the unit's primary instance (its live instance of lowest index),
 *     or {@code null} for all its live instances
 * @param location where a template declared the record, or {@code null}; not part of the value (left out of
 *     {@link #equals}, {@link #hashCode} and {@link #toString}), so a template and its rendering stay equal
 */
public record DomainRecord(
    String name, Reference domain, RecordType type, @Nullable String select, @Nullable SourceLocation location) {
  private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9*_]([A-Za-z0-9_.-]{0,252})?");

  /** Validates. */
  public DomainRecord {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(type, "type");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid record name '" + name + "'");
    }
    if (!domain.kind().equals("domain")) {
      throw new IllegalArgumentException("a record's domain is a +/domain/NAME reference, not '" + domain + "'");
    }
    if (select != null && !select.equals("primary")) {
      throw new IllegalArgumentException("select is 'primary' or absent, not '" + select + "'");
    }
  }

  /** A record built in code (no source location). */
  public DomainRecord(String name, Reference domain, RecordType type, @Nullable String select) {
    this(name, domain, type, select, null);
  }

  /** Equal name, domain, type and select; the location does not count. */
  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof DomainRecord r && name.equals(r.name) && domain.equals(r.domain) && type == r.type
        && Objects.equals(select, r.select);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, domain, type, select);
  }

  @Override
  public String toString() {
    return "DomainRecord[name=" + name + ", domain=" + domain + ", type=" + type + ", select=" + select + "]";
  }
}
