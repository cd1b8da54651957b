package dev.pods.etcd;

import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.spec.Mount;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One instance a cluster should run, as placement sees it: which pod and unit it belongs to, what it needs, where
 * its unit is pinned and which named disks it uses. Immutable.
 *
 * @param pod the pod's name
 * @param unit the unit's name
 * @param index the instance's index in its unit (0 for the first)
 * @param cpus virtual CPUs it needs (the unit's {@code processors})
 * @param memoryMib memory it needs (the unit's {@code memory})
 * @param node the node its unit is pinned to (template key {@code node: +/node/NAME}), or {@code null}
 * @param disks the named persistent disks it uses (a disk lives on the node that first ran the instance, which
 *     binds the instance to that node)
 * @since 0.1
 */
public record DesiredInstance(String pod, String unit, int index, int cpus, int memoryMib, @Nullable String node,
    List<String> disks) {

  /** Validates and copies. */
  public DesiredInstance {
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(unit, "unit");
    disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
    if (index < 0 || cpus < 1 || memoryMib < 1) {
      throw new IllegalArgumentException("instance " + pod + "/" + unit + "-" + index + " needs index >= 0, cpus"
          + " >= 1 and memory >= 1 MiB, not index " + index + ", " + cpus + " CPUs, " + memoryMib + " MiB");
    }
    if (node != null) {
      NodeSpec.requireName(node);
    }
  }

  /** The instance's name in its pod, {@code UNIT-INDEX}: {@code web-2}. */
  public String name() {
    return unit + "-" + index;
  }

  /** The instance's name in the cluster, {@code POD/UNIT-INDEX}: {@code shop/web-2}. */
  public String id() {
    return pod + "/" + name();
  }

  /**
   * Every instance {@code pod} declares, in unit order then index: each unit's processors and memory, the node of
   * its {@code node} key, and for each disk mount the disk of the instance's index (see the README's persistent
   * disks: instance i gets the i-th disk).
   */
  public static List<DesiredInstance> of(Pod pod) {
    List<DesiredInstance> out = new ArrayList<>();
    for (Unit u : pod.units()) {
      String node = u.options().node() == null ? null : u.options().node().name();
      for (int i = 0; i < u.count(); i++) {
        List<String> disks = new ArrayList<>();
        for (Mount m : u.mounts()) {
          if (m.type() == Mount.Type.DISK && i < m.disks().size()) {
            disks.add(m.disks().get(i).name());
          }
        }
        out.add(new DesiredInstance(pod.name(), u.name(), i, u.processors(), u.memoryMib(), node, disks));
      }
    }
    return out;
  }
}
