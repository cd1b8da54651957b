package dev.pods.runtime;

import dev.pods.Pod;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.spec.Reference;
import java.util.ArrayList;
import java.util.List;

/**
 * What a pod needs from the host before anything of it is built (checked by a deploy and by a migration plan):
 * a value for every secret its units declare. Stateless.
 */
final class DeployChecks {
  private DeployChecks() {}

  /**
   * Checks {@code pod} against the runtime's settings.
   *
   * @throws PodsException listing every problem (names only, never a secret's value)
   */
  static void check(Pod pod, RuntimeSettings s) {
    List<String> problems = new ArrayList<>();
    for (Unit u : pod.units()) {
      for (Reference r : u.secrets()) {
        if (s.secrets().get(r.name()).isEmpty()) {
          problems.add("unit " + u.name() + " declares secret " + r
              + ", but the runtime's secret store has no value for '" + r.name() + "'");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new PodsException("pod " + pod.name() + " cannot be deployed here: " + String.join("; ", problems));
    }
  }
}
