package dev.pods.spi;

import java.util.Objects;

/**
 * A snapshot of one defined domain: its state and the spec it was defined from, read back from the hypervisor
 * (for libvirt: parsed from the domain XML, so a restarted runtime recovers the full spec and metadata).
 *
 * <p>Immutable. {@code spec().acceleration()} is the acceleration in effect, never {@link Acceleration#AUTO}.
 *
 * @param name the domain name
 * @param state the state when the snapshot was taken
 * @param spec the spec as the hypervisor stores it
 */
public record DomainInfo(String name, DomainState state, DomainSpec spec) {
  /** Validates: no nulls. */
  public DomainInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(spec, "spec");
  }

  /** Shortcut for {@code spec().metadata()}. */
  public DomainMetadata metadata() {
    return spec.metadata();
  }
}
