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

  /** The template word, e.g. {@code tcp}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether rules of this protocol name ports. */
  public boolean hasPorts() {
    return this == TCP || this == UDP;
  }

  /** The protocol for a template word, or {@code null}. */
  public static @Nullable Protocol fromId(String id) {
    for (Protocol p : values()) {
      if (p.id().equals(id)) {
        return p;
      }
    }
    return null;
  }
}
