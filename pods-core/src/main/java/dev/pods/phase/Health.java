package dev.pods.phase;

/** An instance's health as the runtime sees it; feeds the {@code healthy_*} and {@code unhealthy_*} selectors. */
public enum Health {
  /** The agent runs, its last boot phase and reload succeeded or a reload is running, its heartbeat is fresh. */
  HEALTHY,
  /** The agent reported a fault, or its heartbeat is stale. */
  UNHEALTHY,
  /** Nothing heard from the agent yet. */
  UNKNOWN
}
