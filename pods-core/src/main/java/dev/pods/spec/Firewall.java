package dev.pods.spec;

import dev.pods.internal.Names;
import java.util.List;
import java.util.Objects;

/**
 * A {@code kind: firewall} resource: the ingress rules that apply to every instance of the unit. Rules are
 * live: a change is applied without recreating instances.
 *
 * @param name the resource's name, unique in its unit
 * @param ingress the rules
 */
public record Firewall(String name, List<IngressRule> ingress) {
  /** Validates and copies. */
  public Firewall {
    Names.require("firewall name", Objects.requireNonNull(name, "name"));
    ingress = List.copyOf(Objects.requireNonNull(ingress, "ingress"));
  }
}
