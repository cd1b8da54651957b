package dev.pods.runtime;

import dev.pods.MigrationPlan.Action;
import dev.pods.MigrationPlan.Step;
import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.diff.Change;
import dev.pods.diff.Impact;
import dev.pods.diff.UnitDiff;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The per-instance part of a migration plan, computed from what each instance runs (not only from the deployment's
 * pod, so that a plan after an apply that stopped midway lists what is left). Pure: no I/O, stateless, thread-safe.
 */
final class Planner {
  /** Longer values are summarized as "changed" in reasons. */
  private static final int MAX_VALUE_TEXT = 40;

  private Planner() {}

  /**
   * One instance as the planner sees it.
   *
   * @param unit its unit's name
   * @param index its index
   * @param spec the unit it runs
   * @param failed whether it is {@link dev.pods.InstanceState#FAILED}
   */
  record Running(String unit, int index, Unit spec, boolean failed) {
    Running {
      Objects.requireNonNull(unit, "unit");
      Objects.requireNonNull(spec, "spec");
    }
  }

  /**
   * Which instances this runtime runs (its {@link dev.pods.spi.PodMembership}, or every one without a membership).
   * Answers from memory; thread-safe.
   */
  @FunctionalInterface
  interface Hosting {
    /** Every instance: a runtime without a membership. */
    Hosting ALL = (unit, index) -> true;

    /** Whether instance {@code index} of unit {@code unit} runs here. */
    boolean hosts(String unit, int index);
  }

  /**
   * The steps that turn {@code running} into the instances of {@code next}, ordered as
   * {@link dev.pods.MigrationPlan#steps()}; a runtime running every instance ({@link Hosting#ALL}).
   */
  static List<Step> steps(Pod next, List<Running> running) {
    return steps(next, running, Hosting.ALL);
  }

  /**
   * The steps that turn {@code running} into the instances of {@code next} that {@code hosting} says run here,
   * ordered as {@link dev.pods.MigrationPlan#steps()}: an instance of {@code next} is created only when hosted here,
   * and one that runs here but is no longer hosted is removed ({@code hosted elsewhere}).
   */
  static List<Step> steps(Pod next, List<Running> running, Hosting hosting) {
    if (hosting == Hosting.ALL) {
      return allHere(next, running);
    }
    Map<String, TreeMap<Integer, Running>> byUnit = byUnit(running);
    List<Step> out = new ArrayList<>();
    for (Unit u : next.units()) {
      TreeMap<Integer, Running> have = byUnit.getOrDefault(u.name(), new TreeMap<>());
      // the count the instances here run with: they all run the unit as last applied
      int before = have.isEmpty() ? -1 : have.lastEntry().getValue().spec().count();
      String count = "count " + before + " -> " + u.count();
      int top = Math.max(u.count(), have.isEmpty() ? 0 : have.lastKey() + 1);
      for (int i = 0; i < top; i++) {
        Running r = have.get(i);
        String name = u.name() + "-" + i;
        boolean here = i < u.count() && hosting.hosts(u.name(), i);
        if (r == null) {
          if (here) {
            String why = before >= 0 && i >= before && before != u.count() ? count : "hosted here";
            out.add(new Step(name, u.name(), i, Action.CREATE, List.of(why)));
          }
        } else if (i >= u.count()) {
          out.add(new Step(name, u.name(), i, Action.REMOVE,
              List.of(before != u.count() ? count : "beyond count " + u.count())));
        } else if (!here) {
          out.add(new Step(name, u.name(), i, Action.REMOVE, List.of("hosted elsewhere")));
        } else {
          out.add(change(name, u, i, r));
        }
      }
    }
    removedUnits(out, next, byUnit);
    return peersNote(out, next, byUnit.keySet());
  }

  private static Map<String, TreeMap<Integer, Running>> byUnit(List<Running> running) {
    Map<String, TreeMap<Integer, Running>> byUnit = new LinkedHashMap<>();
    for (Running r : running) {
      byUnit.computeIfAbsent(r.unit(), k -> new TreeMap<>()).put(r.index(), r);
    }
    return byUnit;
  }

  private static void removedUnits(List<Step> out, Pod next, Map<String, TreeMap<Integer, Running>> byUnit) {
    for (Map.Entry<String, TreeMap<Integer, Running>> e : byUnit.entrySet()) {
      if (next.unit(e.getKey()).isEmpty()) {
        for (Running r : e.getValue().values()) {
          out.add(new Step(r.unit() + "-" + r.index(), r.unit(), r.index(), Action.REMOVE, List.of("unit removed")));
        }
      }
    }
  }

  private static List<Step> allHere(Pod next, List<Running> running) {
    Map<String, TreeMap<Integer, Running>> byUnit = byUnit(running);
    List<Step> out = new ArrayList<>();
    for (Unit u : next.units()) {
      TreeMap<Integer, Running> have = byUnit.getOrDefault(u.name(), new TreeMap<>());
      boolean resized = have.size() != u.count();
      String count = "count " + have.size() + " -> " + u.count();
      int top = Math.max(u.count(), have.isEmpty() ? 0 : have.lastKey() + 1);
      for (int i = 0; i < top; i++) {
        Running r = have.get(i);
        String name = u.name() + "-" + i;
        if (r == null) {
          if (i < u.count()) {
            String why = !byUnit.containsKey(u.name()) ? "new unit" : resized ? count : "missing";
            out.add(new Step(name, u.name(), i, Action.CREATE, List.of(why)));
          }
        } else if (i >= u.count()) {
          out.add(new Step(name, u.name(), i, Action.REMOVE,
              List.of(resized ? count : "beyond count " + u.count())));
        } else {
          out.add(change(name, u, i, r));
        }
      }
    }
    removedUnits(out, next, byUnit);
    return peersNote(out, next, byUnit.keySet());
  }

  private static Step change(String name, Unit next, int index, Running r) {
    if (r.failed()) {
      return new Step(name, next.name(), index, Action.RECREATE, List.of("failed"));
    }
    UnitDiff d = UnitDiff.between(r.spec(), next);
    List<String> recreate = new ArrayList<>();
    for (Change c : d.changes()) {
      // a public address needs a new network (uplink, NAT) and an allocation: a new instance network
      if (c.impact() == Impact.RECREATE || c.path().equals("publicAddress")) {
        recreate.add(reason(c));
      }
    }
    if (!recreate.isEmpty()) {
      return new Step(name, next.name(), index, Action.RECREATE, recreate);
    }
    if (!d.isEmpty()) {
      return new Step(name, next.name(), index, Action.LIVE, d.changes().stream().map(Planner::reason).toList());
    }
    return new Step(name, next.name(), index, Action.KEEP, List.of());
  }

  /** Instances that stay see peers come and go (and units appear or vanish): they reload. */
  private static List<Step> peersNote(List<Step> steps, Pod next, Set<String> unitsBefore) {
    Set<String> unitsAfter = next.units().stream().map(Unit::name).collect(Collectors.toSet());
    List<String> moving = steps.stream()
        .filter(s -> s.action() == Action.CREATE || s.action() == Action.REMOVE)
        .map(s -> s.instance() + (s.action() == Action.CREATE ? " created" : " removed"))
        .toList();
    if (moving.isEmpty() && unitsAfter.containsAll(unitsBefore)) {
      return steps;
    }
    String note = moving.isEmpty() ? "reloads: units change"
        : "reloads: " + String.join(", ", moving.subList(0, Math.min(3, moving.size())))
            + (moving.size() > 3 ? ", ..." : "");
    return steps.stream()
        .map(s -> s.action() == Action.KEEP
            ? new Step(s.instance(), s.unit(), s.index(), s.action(), List.of(note)) : s)
        .toList();
  }

  /** A change in a few words: {@code memory 512 -> 1024 MiB}, {@code scripts.reload[0] changed}. */
  static String reason(Change c) {
    String unit = switch (c.path()) {
      case "memory" -> " MiB";
      case "diskSize" -> " GiB";
      default -> "";
    };
    if (c.isAddition()) {
      return c.path() + " added";
    }
    if (c.isRemoval()) {
      return c.path() + " removed";
    }
    String before = Objects.requireNonNull(c.before());
    String after = Objects.requireNonNull(c.after());
    if (!c.lines().isEmpty() || before.length() + after.length() > MAX_VALUE_TEXT) {
      return c.path() + " changed";
    }
    return c.path() + " " + before + " -> " + after + unit;
  }

  /** The plan as text: the diff, then one aligned line per instance. */
  static String text(String podName, String diffText, List<Step> steps) {
    StringBuilder b = new StringBuilder("pod ").append(podName).append(":\n");
    diffText.lines().forEach(l -> b.append("  ").append(l).append('\n'));
    b.append("instances:\n");
    int w = steps.stream().mapToInt(s -> s.instance().length()).max().orElse(0);
    for (Step s : steps) {
      String action = s.action().name().toLowerCase(java.util.Locale.ROOT);
      b.append("  ").append(pad(s.instance(), w)).append("  ");
      if (s.reasons().isEmpty()) {
        b.append(action);
      } else {
        b.append(pad(action, 8)).append("  (").append(String.join(", ", s.reasons())).append(')');
      }
      b.append('\n');
    }
    if (steps.isEmpty()) {
      b.append("  (none)\n");
    }
    return b.toString();
  }

  private static String pad(String s, int width) {
    return s.length() >= width ? s : s + " ".repeat(width - s.length());
  }
}
