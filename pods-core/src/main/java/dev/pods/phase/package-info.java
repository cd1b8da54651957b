/**
 * Host-side phase bookkeeping: which blocks a trigger runs ({@link dev.pods.phase.PhaseRules}, the same rules the
 * guest agent applies) and, per instance, what the agent reported ({@link dev.pods.phase.PhaseTracker}): status,
 * heartbeat, the state hash it last applied, whether a reload is due or running, and health.
 *
 * <pre>{@code
 * PhaseTracker tracker = new PhaseTracker();
 * ImdsServer imds = ImdsServer.builder()...listener(event -> { tracker.onEvent(event); runtimeEvents.publish(event); }).start();
 * boolean converged = tracker.converged(instanceId, imds.stateHash());
 * Health h = tracker.health(instanceId, clock.instant(), Duration.ofSeconds(60));
 * }</pre>
 */
@NullMarked
package dev.pods.phase;

import org.jspecify.annotations.NullMarked;
