package dev.pods.diff;

import dev.pods.Pod;
import dev.pods.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The difference between two versions of a pod: units added, units removed, and a {@link UnitDiff} for each
 * unit present in both that changed. Adding or removing a unit is {@link Impact#LIVE} for the pod (its peers
 * reload) even though the unit's own instances are created or destroyed.
 *
 * <p>Immutable and thread-safe.
 */
public final class PodDiff {
  private final List<Unit> added;
  private final List<Unit> removed;
  private final List<UnitDiff> changed;

  private PodDiff(List<Unit> added, List<Unit> removed, List<UnitDiff> changed) {
    this.added = List.copyOf(added);
    this.removed = List.copyOf(removed);
    this.changed = List.copyOf(changed);
  }

  /** The differences that turn {@code before} into {@code after}, units matched by name. */
  public static PodDiff between(Pod before, Pod after) {
    Objects.requireNonNull(before, "before");
    Objects.requireNonNull(after, "after");
    List<Unit> added = new ArrayList<>();
    List<Unit> removed = new ArrayList<>();
    List<UnitDiff> changed = new ArrayList<>();
    for (Unit u : before.units()) {
      Optional<Unit> next = after.unit(u.name());
      if (next.isEmpty()) {
        removed.add(u);
      } else {
        UnitDiff d = UnitDiff.between(u, next.get());
        if (!d.isEmpty()) {
          changed.add(d);
        }
      }
    }
    for (Unit u : after.units()) {
      if (before.unit(u.name()).isEmpty()) {
        added.add(u);
      }
    }
    return new PodDiff(added, removed, changed);
  }

  /** Units only in the new version. */
  public List<Unit> added() {
    return added;
  }

  /** Units only in the old version. */
  public List<Unit> removed() {
    return removed;
  }

  /** The diffs of units in both versions that changed. */
  public List<UnitDiff> changed() {
    return changed;
  }

  /** Whether the pods are equal. */
  public boolean isEmpty() {
    return added.isEmpty() && removed.isEmpty() && changed.isEmpty();
  }

  /** The most disruptive impact. */
  public Impact impact() {
    Impact i = added.isEmpty() && removed.isEmpty() ? Impact.NONE : Impact.LIVE;
    for (UnitDiff d : changed) {
      i = i.max(d.impact());
    }
    return i;
  }

  /** The diff as text: added and removed units, then each changed unit's {@link UnitDiff#toText()}. */
  public String toText() {
    if (isEmpty()) {
      return "no changes\n";
    }
    StringBuilder b = new StringBuilder();
    added.forEach(u -> b.append("+ unit ").append(u.name()).append(" (").append(u.count()).append(" instances)\n"));
    removed.forEach(u -> b.append("- unit ").append(u.name()).append('\n'));
    changed.forEach(d -> b.append(d.toText()));
    return b.toString();
  }

  @Override
  public String toString() {
    return toText();
  }
}
