package dev.pods;

import dev.pods.internal.Names;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A pod: a named group of {@link Unit units} deployed together, whose instances find each other through the
 * metadata service and admit each other through firewall rules that name units.
 *
 * <p>An immutable, thread-safe value with no I/O: building a pod starts nothing.
 *
 * <pre>{@code
 * Pod shop = Pod.builder()
 *     .name("shop")
 *     .unit(web)                                  // e.g. from Templates.parse(Path.of("web.md"))
 *     .unit(Unit.builder().name("lb").image("debian12")
 *         .script(Phase.RELOAD, Script.shell("nginx -s reload")).build())
 *     .build();
 * Pod bigger = shop.withUnit(web.toBuilder().count(3).build());
 * }</pre>
 */
public final class Pod {
  private final String name;
  private final List<Unit> units;

  private Pod(String name, List<Unit> units) {
    this.name = name;
    this.units = List.copyOf(units);
  }

  /** A new, empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this pod's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.name = name;
    b.units.addAll(units);
    return b;
  }

  /** The pod's name, a DNS label. */
  public String name() {
    return name;
  }

  /** The units, in the order they were added. */
  public List<Unit> units() {
    return units;
  }

  /** The unit of that name, if the pod has one. */
  public Optional<Unit> unit(String unitName) {
    return units.stream().filter(u -> u.name().equals(unitName)).findFirst();
  }

  /**
   * A copy of this pod with the unit replaced (same name) or added (new name).
   *
   * @throws PodSpecException when the result is invalid
   */
  public Pod withUnit(Unit unit) {
    Objects.requireNonNull(unit, "unit");
    List<Unit> next = new ArrayList<>(units);
    int i = indexOf(unit.name());
    if (i >= 0) {
      next.set(i, unit);
    } else {
      next.add(unit);
    }
    return toBuilder().units(next).build();
  }

  /**
   * A copy of this pod without the named unit.
   *
   * @throws PodSpecException when the result is invalid (for example no unit is left)
   */
  public Pod withoutUnit(String unitName) {
    List<Unit> next = new ArrayList<>(units);
    next.removeIf(u -> u.name().equals(unitName));
    return toBuilder().units(next).build();
  }

  private int indexOf(String unitName) {
    for (int i = 0; i < units.size(); i++) {
      if (units.get(i).name().equals(unitName)) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return this == o || (o instanceof Pod p && name.equals(p.name) && units.equals(p.units));
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, units);
  }

  @Override
  public String toString() {
    return "Pod[name=" + name + ", units=" + units.stream().map(Unit::name).toList() + "]";
  }

  /**
   * Builds a {@link Pod}. Setters only record values; {@link #build()} validates and reports every problem
   * at once. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable String name;
    private final List<Unit> units = new ArrayList<>();

    private Builder() {}

    /** The pod's name (required). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Adds a unit. */
    public Builder unit(Unit unit) {
      units.add(Objects.requireNonNull(unit, "unit"));
      return this;
    }

    /** Replaces the units. */
    public Builder units(List<Unit> units) {
      this.units.clear();
      units.forEach(this::unit);
      return this;
    }

    /**
     * Validates and builds: a valid name, at least one unit, unique unit names, and firewall sources that
     * name units of this pod.
     *
     * @throws PodSpecException listing every problem found
     */
    public Pod build() {
      List<Problem> problems = new ArrayList<>();
      if (name == null) {
        problems.add(Problem.error("name", "is required"));
      } else if (!Names.isValid(name)) {
        problems.add(Problem.error("name", "'" + name + "' is invalid: " + Names.rule()));
      }
      if (units.isEmpty()) {
        problems.add(Problem.error("units", "a pod has at least one unit"));
      }
      Set<String> names = new HashSet<>();
      for (Unit u : units) {
        if (!names.add(u.name())) {
          problems.add(Problem.error("units", "unit name '" + u.name() + "' is used twice"));
        }
      }
      for (Unit u : units) {
        for (Firewall f : u.firewalls()) {
          for (int r = 0; r < f.ingress().size(); r++) {
            IngressRule rule = f.ingress().get(r);
            for (IngressSource s : rule.sources()) {
              if (s instanceof IngressSource.Unit us && !names.contains(us.unitName())) {
                problems.add(
                    Problem.error(
                        "units[" + u.name() + "].firewall[" + f.name() + "].ingress[" + r + "]",
                        "source " + us.text() + " names no unit of this pod (units: " + names + ")"));
              }
            }
          }
        }
      }
      if (!problems.isEmpty()) {
        throw new PodSpecException(name == null ? "pod" : "pod '" + name + "'", problems);
      }
      return new Pod(Objects.requireNonNull(name), units);
    }
  }
}
