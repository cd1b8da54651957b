package dev.pods.runtime;

import dev.pods.spi.RuntimeSettings;
import dev.pods.Pod;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a pod needs from the host before anything of it is built (checked by a deploy and by a migration plan): a
 * value for every secret its units declare, a disk store when a unit mounts disks, one disk per instance of each
 * disk mount, and no disk that another instance uses. Stateless.
 */
final class DeployChecks {
  private DeployChecks() {}

  /**
   * Checks {@code pod} against the runtime's settings.
   *
   * @param usedElsewhere disk name to the instance ({@code POD/INSTANCE}) of another deployment using it
   * @throws PodsException listing every problem (names only, never a secret's value)
   */
  static void check(Pod pod, RuntimeSettings s, Map<String, String> usedElsewhere) {
    List<String> problems = new ArrayList<>();
    Map<String, String> mine = new HashMap<>();
    for (Unit u : pod.units()) {
      for (Reference r : u.secrets()) {
        if (s.secrets().get(r.name()).isEmpty()) {
          problems.add("unit " + u.name() + " declares secret " + r
              + ", but the runtime's secret store has no value for '" + r.name() + "'");
        }
      }
      for (int k = 0; k < u.mounts().size(); k++) {
        Mount m = u.mounts().get(k);
        String where = (m.location() == null ? "" : m.location() + ": ") + "unit " + u.name() + " mounts[" + k
            + "] (" + m.path() + ")";
        if (m.type() == Mount.Type.HOST_PATH) {
          String why = HostFolders.refusal(m, s.hostFolders());
          if (why != null) {
            problems.add(where + ": " + why);
          }
          continue;
        }
        if (s.disks() == null) {
          problems.add(where + " mounts disks, but the runtime has no disk store");
          continue;
        }
        if (m.disks().size() < u.count()) {
          problems.add(where + " lists " + m.disks().size() + " disk(s) for count " + u.count()
              + ": each instance needs its own disk (instance i gets the i-th)");
        }
        for (int i = 0; i < u.count() && i < m.disks().size(); i++) {
          String name = m.disks().get(i).name();
          String user = u.name() + "-" + i;
          String before = mine.putIfAbsent(name, user);
          if (before != null) {
            problems.add(where + ": disk " + name + " is attached to one instance at a time, but both " + before
                + " and " + user + " would use it");
          } else if (usedElsewhere.containsKey(name)) {
            problems.add(where + ": disk " + name + " is in use by " + usedElsewhere.get(name));
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new PodsException("pod " + pod.name() + " cannot be deployed here: " + String.join("; ", problems));
    }
  }
}
