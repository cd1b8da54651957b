package dev.pods.spi;

import java.util.Objects;

/**
 * The VPC an instance belongs to. Instances of one VPC reach each other by their private addresses (routed: every
 * instance has its own small subnet inside {@code cidr}); instances of different VPCs do not. Immutable value.
 *
 * @param id the VPC's identity; instances with equal ids share the VPC (lower-case letters, digits, '-', 1..40)
 * @param cidr the VPC's range; every member's subnet lies inside it
 * @since 0.1
 */
public record NetworkVpc(String id, Cidr cidr) {

  /** Validates the id. */
  public NetworkVpc {
    Objects.requireNonNull(cidr, "cidr");
    NetworkSpec.checkId(id, "vpc id");
  }
}
