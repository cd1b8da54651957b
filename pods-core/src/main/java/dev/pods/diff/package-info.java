/**
 * Structural differences between two versions of a unit or a pod, each change classified by what applying
 * it takes: a reload of the running instances ({@link dev.pods.diff.Impact#LIVE}), new instances
 * ({@link dev.pods.diff.Impact#RECREATE}) or nothing ({@link dev.pods.diff.Impact#NONE}, documentation and
 * options without effect). This is the basis of migration plans.
 *
 * <pre>{@code
 * UnitDiff d = UnitDiff.between(oldWeb, newWeb);
 * if (d.impact() == Impact.RECREATE) { ... }
 * System.out.print(d.toText());
 * }</pre>
 */
@NullMarked
package dev.pods.diff;

import org.jspecify.annotations.NullMarked;
