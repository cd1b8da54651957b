package dev.pods.spi;

import java.util.Objects;

/**
 * What pods records inside every domain it defines, so that a restarted runtime finds and adopts its instances
 * and reaps the leftovers of a crashed one: which owner (runtime session) created it, for which pod, unit and
 * instance index, and the hash of the spec it was created from.
 *
 * <p>Immutable. Values are free text; backends must store and return them verbatim (any characters, including
 * markup such as {@code a'><x}).
 *
 * @param owner the owner label, e.g. a runtime session id; never blank
 * @param pod the pod name
 * @param unit the unit name
 * @param index the instance index within the unit, {@code >= 0}
 * @param specHash a hash of the instance spec, compared to decide whether the domain must be recreated
 */
public record DomainMetadata(String owner, String pod, String unit, int index, String specHash) {
  /** Validates: no nulls, non-blank owner, non-negative index. */
  public DomainMetadata {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(unit, "unit");
    Objects.requireNonNull(specHash, "specHash");
    if (owner.isBlank()) {
      throw new IllegalArgumentException("owner must not be blank");
    }
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, was " + index);
    }
  }
}
