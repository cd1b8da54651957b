package dev.pods.runtime;

import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which instance of a pod uses which named disk: instance {@code i} of a unit gets, for each disk mount, the
 * {@code i}-th disk of the mount's list (a unit with too few disks is refused by {@link DeployChecks}). Stateless.
 */
final class DiskUse {
  private DiskUse() {}

  /** The disk name of mount {@code m} for instance {@code index}, or {@code null} when the list is too short. */
  static @org.jspecify.annotations.Nullable String disk(Mount m, int index) {
    return index < m.disks().size() ? m.disks().get(index).name() : null;
  }

  /** Disk name to {@code POD/UNIT-INDEX} for every instance {@code pod} declares; the first user wins a clash. */
  static Map<String, String> of(Pod pod) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Unit u : pod.units()) {
      for (Mount m : u.mounts()) {
        if (m.type() != Mount.Type.DISK) {
          continue;
        }
        for (int i = 0; i < u.count() && i < m.disks().size(); i++) {
          Reference r = m.disks().get(i);
          out.putIfAbsent(r.name(), pod.name() + "/" + u.name() + "-" + i);
        }
      }
    }
    return out;
  }
}
