package dev.pods.spec;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** A firewall rule's protocol, as written in templates. */
public enum Protocol {
  /** Every protocol. */
  ALL,
  /** ICMP (ping). */
  ICMP,
  /** TCP, with ports. */
  TCP,
  /** UDP, with ports. */
  UDP,
  /** Multicast traffic. */
  MULTICAST,
  /** Broadcast traffic. */
  BROADCAST;

  private static final java.util.Map<String, Protocol> BY_ID = new java.util.HashMap<>();

  static {
    for (Protocol v : values()) {
      BY_ID.put(v.id, v);
    }
  }

  private final String id = name().toLowerCase(Locale.ROOT);

  /** The template word, e.g. {@code tcp}. */
  public String id() {
    return id;
  }

  /** Whether rules of this protocol name ports. */
  public boolean hasPorts() {
    return this == TCP || this == UDP;
  }

  /** The protocol for a template word, or {@code null}. */
  public static @Nullable Protocol fromId(String id) {
    return BY_ID.get(id);
  }
}
