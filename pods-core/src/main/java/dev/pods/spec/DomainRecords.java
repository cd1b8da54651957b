package dev.pods.spec;

import dev.pods.internal.Names;
import java.util.List;
import java.util.Objects;

/**
 * A {@code kind: domain} resource: DNS records kept pointing at the unit's instances. Live: applied without
 * recreating instances.
 *
 * @param name the resource's name, unique in its unit
 * @param records the records
 */
public record DomainRecords(String name, List<DomainRecord> records) {
  /** Validates and copies. */
  public DomainRecords {
    Names.require("domain resource name", Objects.requireNonNull(name, "name"));
    records = List.copyOf(Objects.requireNonNull(records, "records"));
  }
}
