package dev.pods.spec;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One DNS record: {@code name} under a domain, pointing at the unit's instances' addresses of a type.
 *
 * @param name the record's name (host part), e.g. {@code api}
 * @param domain the domain, a {@code +/domain/NAME} reference
 * @param type which address is published
 * @param select {@code primary} to publish only the unit's primary instance, or {@code null} for all
 */
public record DomainRecord(String name, Reference domain, RecordType type, @Nullable String select) {
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
}
