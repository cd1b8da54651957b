/**
 * Pods in JUnit 5 tests, the way Testcontainers runs containers: annotate the class with
 * {@link dev.pods.junit.PodTest @PodTest}, declare pods in {@link dev.pods.junit.Deploy @Deploy} fields, receive
 * ready {@link dev.pods.Deployment}s; everything is destroyed afterwards.
 *
 * <pre>{@code
 * @PodTest
 * class ShopTest {
 *   @Deploy static Pod shop = Pod.builder().name("shop")            // once for the class
 *       .unit(Unit.builder().name("db").image("tiny").memoryMib(192).build())
 *       .unit(Unit.builder().name("web").image("tiny").memoryMib(192).build())
 *       .build();
 *
 *   @Deploy(templates = "src/test/pods/cache.md", readyTimeoutSeconds = 120)
 *   Deployment cache;                                               // a fresh pod for every test
 *
 *   @Test
 *   void webRuns(@PodName("shop") Deployment shop) {
 *     ExecResult r = shop.instance("web", 0).exec("hostname");
 *     assertThat(r.stdoutText().strip()).isEqualTo("web-0");
 *   }
 * }
 * }</pre>
 *
 * <ul>
 *   <li>Static {@code @Deploy} fields live for the class, instance fields for one test; both are awaited ready
 *       (timeout and the last output lines in the failure) before the test code runs, and destroyed whatever
 *       happens.</li>
 *   <li>One runtime per {@link dev.pods.junit.PodRuntimeFactory} per run, shared by all classes (also in parallel:
 *       each deployment gets a unique pod name). The default, {@link dev.pods.junit.LocalRuntimeFactory}, runs VMs
 *       on this host with a per-run name prefix and owner label, and reaps what dead runs left.</li>
 *   <li>Where the host cannot run VMs (not root, no libvirtd, no QEMU, no network tools) the classes are skipped,
 *       and the reason lists what is missing.</li>
 * </ul>
 */
@NullMarked
package dev.pods.junit;

import org.jspecify.annotations.NullMarked;
