package dev.pods.spec;

import dev.pods.internal.Cidrs;
import java.util.Objects;
import java.util.Set;

/**
 * Where admitted traffic may come from: a CIDR block, or a unit of the pod whose live addresses (picked by a
 * selector) are expanded by the runtime and kept up to date as the unit scales or moves.
 */
public sealed interface IngressSource permits IngressSource.Cidr, IngressSource.Unit {

  /** The text form used in templates: a CIDR, or {@code +/unit/NAME[/selector]}. */
  String text();

  /**
   * Parses a template source: {@code +/unit/...} becomes a {@link Unit}, anything else must be a CIDR or an
   * address.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static IngressSource parse(String text) {
    if (Reference.isReference(text)) {
      return new Unit(Reference.parse(text));
    }
    return new Cidr(text);
  }

  /**
   * A CIDR block; a bare address becomes {@code /32} or {@code /128}.
   *
   * @param cidr the block, normalized to {@code address/prefix}
   */
  record Cidr(String cidr) implements IngressSource {
    /** Validates and normalizes. */
    public Cidr {
      cidr = Cidrs.normalize(Objects.requireNonNull(cidr, "cidr"));
    }

    @Override
    public String text() {
      return cidr;
    }
  }

  /**
   * The addresses of a unit, chosen by the reference's selector ({@code private_ips} when absent).
   *
   * @param ref a {@code +/unit/NAME[/selector]} reference
   */
  record Unit(Reference ref) implements IngressSource {
    /** The selectors a firewall source may use. */
    public static final Set<String> SELECTORS =
        Set.of(
            "private_ips", "private_ips6", "public_ips", "public_ips6", "cloud_private_ips", "cloud_public_ips",
            "cloud_public_ips6", "host_ips");

    /** Validates the kind and selector. */
    public Unit {
      Objects.requireNonNull(ref, "ref");
      if (!ref.kind().equals("unit")) {
        throw new IllegalArgumentException(
            "a firewall source refers to a unit (+/unit/NAME[/selector]), not '" + ref + "'");
      }
      if (ref.tag() != null) {
        throw new IllegalArgumentException("a firewall source has no tag: '" + ref + "'");
      }
      if (ref.selector() != null && !SELECTORS.contains(ref.selector())) {
        throw new IllegalArgumentException(
            "unknown selector '"
                + ref.selector()
                + "' in '"
                + ref
                + "': expected one of "
                + String.join(", ", new java.util.TreeSet<>(SELECTORS)));
      }
    }

    /** The unit's name. */
    public String unitName() {
      return ref.name();
    }

    /** The selector, {@code private_ips} when the reference has none. */
    public String selector() {
      return ref.selector() == null ? "private_ips" : ref.selector();
    }

    @Override
    public String text() {
      return ref.toString();
    }
  }
}
