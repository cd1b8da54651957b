package dev.pods.runtime;

import dev.pods.InstanceState;

/**
 * What an instance's state means to its peers, in one place: whether it is listed at all (in {@code +/unit/NAME}
 * views and in firewall rules that name its unit) and whether it counts as healthy. Pure; thread-safe.
 *
 * <p>Listed: every instance that holds its addresses, has not failed and is not down ({@link InstanceState#PENDING}
 * to {@link InstanceState#READY}; not {@link InstanceState#STOPPED} nor {@link InstanceState#UNHEALTHY}, which
 * come back when their guest does), as Pritunl Cloud lists every deployed instance of a unit in {@code private_ips}
 * while it runs. Healthy: {@link InstanceState#READY} (its initial or reboot phase finished). Declared readiness
 * checks act through the state: an instance whose check fails is {@link InstanceState#UNHEALTHY}, so not listed.
 */
final class PeerStates {
  private PeerStates() {}

  /** Whether an instance in state {@code st} appears in its peers' views and in unit-sourced firewall rules. */
  static boolean listed(InstanceState st) {
    return st != InstanceState.FAILED && st != InstanceState.DESTROYED && st != InstanceState.STOPPED
        && st != InstanceState.UNHEALTHY; // down or not heard from: its peers stop using it until it is back
  }

  /** Whether a listed instance in state {@code st} is healthy ({@code healthy_*} rather than {@code unhealthy_*}). */
  static boolean healthy(InstanceState st) {
    return st == InstanceState.READY;
  }
}
