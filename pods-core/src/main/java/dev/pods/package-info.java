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
 */
@NullMarked
package dev.pods;

import org.jspecify.annotations.NullMarked;
