package dev.pods.diff;

/** What applying a change to running instances takes. Ordered from least to most disruptive. */
public enum Impact {
  /** Nothing: documentation, or an option that has no effect on a pods host. */
  NONE,
  /** Applied to running instances: a reload (scripts, firewall, DNS, count, addresses). */
  LIVE,
  /** Instances must be recreated: a new domain and disk (image, disk size, processors, memory, VPC, subnet). */
  RECREATE;

  /** The more disruptive of two impacts. */
  public Impact max(Impact other) {
    return compareTo(other) >= 0 ? this : other;
  }
}
