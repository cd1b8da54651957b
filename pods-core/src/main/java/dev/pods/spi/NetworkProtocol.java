package dev.pods.spi;

/**
 * The IP protocol a {@link FirewallRuleSpec} admits.
 *
 * @since 0.1
 */
public enum NetworkProtocol {
  /** Every protocol; the rule's port range must be the full range. */
  ALL,
  /** TCP, by destination port range. */
  TCP,
  /** UDP, by destination port range. */
  UDP,
  /** ICMP; the rule's port range must be the full range. */
  ICMP
}
