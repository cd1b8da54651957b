package dev.pods.template.internal;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The template keys that pods parses and keeps (they render back and take part in diffs) but that the runtime does
 * not act on yet. The parser warns about each where it is written, so that nothing a template declares is accepted
 * silently: a template that relies on one of them learns it from {@code pods validate} instead of from a deployed
 * pod. Every resource kind takes effect; when the runtime starts acting on a key, its entry goes, with a system
 * test that shows the effect on a real guest.
 *
 * <p>Pritunl Cloud's fields that can never mean anything on a pods host are another list
 * ({@link dev.pods.spec.InstanceOptions#IGNORED_ON_POD_HOSTS}).
 */
final class NoEffectHere {
  private NoEffectHere() {}

  /** Instance keys (as written in templates) that the runtime ignores, each with what a user should know. */
  private static final Map<String, String> INSTANCE_KEYS =
      Map.of(
          "subnet", "the runtime gives each instance a /30 of its private range whatever the subnet says",
          "roles", "roles select nothing yet (no firewall or authority uses them)");

  /** The warning for an instance key with no effect, or {@code null} when the key takes effect. */
  static @Nullable String instanceKey(String key) {
    String why = INSTANCE_KEYS.get(key);
    return why == null ? null : "'" + key + "' has no effect on a pods host yet: " + why;
  }
}
