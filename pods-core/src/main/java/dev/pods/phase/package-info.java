/**
 * Host-side phase rules: which blocks a trigger runs ({@link dev.pods.phase.PhaseRules}, the same rules the guest
 * agent applies). What an agent reported and how healthy its instance is are the runtime's
 * ({@link dev.pods.Instance#status()}).
 */
@NullMarked
package dev.pods.phase;

import org.jspecify.annotations.NullMarked;
