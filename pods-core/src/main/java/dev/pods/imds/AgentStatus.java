package dev.pods.imds;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** What the guest agent says about itself ({@code POST /v1/status?status=...}). */
public enum AgentStatus {
  /** The boot phase (first boot or later boot) is running. */
  INITIALIZING,
  /** The boot phase succeeded and no reload is running or failed since. */
  RUNNING,
  /** A reload is running. */
  RELOADING,
  /** The last reload failed; the agent retries at the next change. */
  RELOAD_FAULT,
  /** The boot phase failed; it runs again at the next boot. */
  FAULT;

  /** The wire word: {@code initializing}, {@code running}, ... */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The status for a wire word, or {@code null} when unknown. */
  public static @Nullable AgentStatus fromId(String id) {
    for (AgentStatus s : values()) {
      if (s.id().equals(id)) {
        return s;
      }
    }
    return null;
  }
}
