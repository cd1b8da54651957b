/**
 * The pods API: describe a pod of virtual machines ({@link dev.pods.Pod}, {@link dev.pods.Unit}), in code or
 * in a Markdown template, and run it.
 *
 * <pre>{@code
 * Pod shop = Pod.builder()
 *     .name("shop")
 *     .unit(Unit.builder().name("web").image("debian12").count(2)
 *         .script(Script.shell(Phase.INITIAL, "apt-get install -y nginx")).build())
 *     .build();
 * }</pre>
 *
 * <p>Running it: a {@link dev.pods.PodRuntime} turns the pod into a {@link dev.pods.Deployment} of
 * {@link dev.pods.Instance}s. A deployment changes while it runs: {@link dev.pods.Deployment#scale} sets a unit's
 * count (new instances built, surplus ones removed, every peer reloads with the new addresses), and
 * {@link dev.pods.Deployment#plan} compares it with a new version of the pod and returns a
 * {@link dev.pods.MigrationPlan}: the {@link dev.pods.diff.PodDiff} and, per instance, keep, live update (new
 * scripts, run by a reload), recreate (new VM, same addresses, initial phase again, one at a time), create or
 * remove; {@link dev.pods.MigrationPlan#apply()} carries it out.
 *
 * <pre>{@code
 * Deployment d = runtime.deploy(shop);
 * d.awaitReady(Duration.ofMinutes(2));
 * d.scale("web", 3);
 * MigrationPlan p = d.plan(shop.withUnit(web.toBuilder().count(3).memoryMib(2048).build()));
 * System.out.print(p.toText());                    // web-0  recreate  (memory 1024 -> 2048 MiB) ...
 * p.apply();
 * }</pre>
 */
@NullMarked
package dev.pods;

import org.jspecify.annotations.NullMarked;
