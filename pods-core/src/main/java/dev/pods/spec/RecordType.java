package dev.pods.spec;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Which address of an instance a DNS record publishes. */
public enum RecordType {
  /** The public IPv4 address. */
  PUBLIC,
  /** The public IPv6 address. */
  PUBLIC6,
  /** The private (VPC) IPv4 address. */
  PRIVATE,
  /** The private IPv6 address. */
  PRIVATE6,
  /** The host's address. */
  HOST,
  /** Pritunl Cloud's cloud public address. */
  CLOUD_PUBLIC,
  /** Pritunl Cloud's cloud public IPv6 address. */
  CLOUD_PUBLIC6,
  /** Pritunl Cloud's cloud private address. */
  CLOUD_PRIVATE;

  private static final java.util.Map<String, RecordType> BY_ID = new java.util.HashMap<>();

  static {
    for (RecordType v : values()) {
      BY_ID.put(v.id, v);
    }
  }

  private final String id = name().toLowerCase(Locale.ROOT);

  /** The template word, e.g. {@code cloud_public}. */
  public String id() {
    return id;
  }

  /** The type for a template word, or {@code null}. */
  public static @Nullable RecordType fromId(String id) {
    return BY_ID.get(id);
  }
}
