package dev.pods.etcd;

import dev.pods.InstanceState;
import dev.pods.MigrationPlan.Action;
import dev.pods.MigrationPlan.Step;
import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.diff.Change;
import dev.pods.diff.Impact;
import dev.pods.diff.UnitDiff;
import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.PodDocuments;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The steps of a cluster's migration plan, per instance, from the desired pod, the next one and what the nodes
 * report (each instance's state and spec version): an instance of a unit whose changes need a new VM is recreated,
 * one whose changes a running guest takes is updated live, a failed one is recreated, and an instance still running
 * an older spec than the desired one (a migration under way) names it. Pure: no I/O, stateless.
 */
final class ClusterPlanner {
  private ClusterPlanner() {}

  /** Steps ordered as {@link dev.pods.MigrationPlan#steps()}. */
  static List<Step> steps(Pod next, Pod desired, Map<String, StatusRecord> reports) {
    List<Step> out = new ArrayList<>();
    for (Unit u : next.units()) {
      Unit before = desired.unit(u.name()).orElse(null);
      int had = before == null ? 0 : before.count();
      String count = "count " + had + " -> " + u.count();
      for (int i = 0; i < Math.max(had, u.count()); i++) {
        String name = u.name() + "-" + i;
        if (i >= had) {
          out.add(new Step(name, u.name(), i, Action.CREATE, List.of(before == null ? "new unit" : count)));
        } else if (i >= u.count()) {
          out.add(new Step(name, u.name(), i, Action.REMOVE, List.of(count)));
        } else {
          out.add(change(name, Objects.requireNonNull(before), u, i, reports.get(name)));
        }
      }
    }
    for (Unit u : desired.units()) {
      if (next.unit(u.name()).isEmpty()) {
        for (int i = 0; i < u.count(); i++) {
          out.add(new Step(u.name() + "-" + i, u.name(), i, Action.REMOVE, List.of("unit removed")));
        }
      }
    }
    return out;
  }

  private static Step change(String name, Unit before, Unit next, int index, StatusRecord report) {
    if (report != null && report.state().equals(InstanceState.FAILED.name())) {
      return new Step(name, next.name(), index, Action.RECREATE, List.of("failed on " + report.node()));
    }
    List<String> recreate = new ArrayList<>();
    List<String> live = new ArrayList<>();
    for (Change c : UnitDiff.between(before, next).changes()) {
      (c.impact() == Impact.RECREATE || c.path().equals("publicAddress") ? recreate : live).add(reason(c));
    }
    if (report != null && !report.specVersion().equals(PodDocuments.unitVersion(before))
        && !report.specVersion().equals(PodDocuments.unitVersion(next))) {
      live.add("runs spec " + report.specVersion() + " on " + report.node() + ", not yet the desired one");
    }
    if (!recreate.isEmpty()) {
      return new Step(name, next.name(), index, Action.RECREATE, recreate);
    }
    return new Step(name, next.name(), index, live.isEmpty() ? Action.KEEP : Action.LIVE, live);
  }

  private static String reason(Change c) {
    if (c.isAddition()) {
      return c.path() + " added";
    }
    if (c.isRemoval()) {
      return c.path() + " removed";
    }
    String b = Objects.requireNonNull(c.before());
    String a = Objects.requireNonNull(c.after());
    return !c.lines().isEmpty() || b.length() + a.length() > 40 ? c.path() + " changed"
        : c.path() + " " + b + " -> " + a + (c.path().equals("memory") ? " MiB" : "");
  }

  /** The plan as text: the diff, then one aligned line per instance. */
  static String text(String pod, String diff, List<Step> steps) {
    StringBuilder b = new StringBuilder("pod ").append(pod).append(":\n");
    diff.lines().forEach(l -> b.append("  ").append(l).append('\n'));
    b.append("instances:\n");
    int w = steps.stream().mapToInt(s -> s.instance().length()).max().orElse(0);
    for (Step s : steps) {
      String action = s.action().name().toLowerCase(Locale.ROOT);
      b.append("  ").append(s.instance()).append(" ".repeat(w - s.instance().length())).append("  ");
      if (s.reasons().isEmpty()) {
        b.append(action);
      } else {
        b.append(action).append(" ".repeat(Math.max(0, 8 - action.length()))).append("  (")
            .append(String.join(", ", s.reasons())).append(')');
      }
      b.append('\n');
    }
    if (steps.isEmpty()) {
      b.append("  (none)\n");
    }
    return b.toString();
  }
}
