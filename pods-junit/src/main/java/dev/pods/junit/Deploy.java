package dev.pods.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A pod to deploy around the tests of a {@link PodTest @PodTest} class. Goes on a field of type
 * {@link dev.pods.Pod} (its value is deployed) or of type {@link dev.pods.Deployment} with {@link #templates()}
 * (the pod is read from Markdown templates, one unit each, and the field receives the deployment).
 *
 * <pre>{@code
 * @Deploy static Pod shop = Pod.builder()...build();                          // once for the class
 * @Deploy Pod scratch = Pod.builder()...build();                             // again for every test
 * @Deploy(templates = {"src/test/pods/web.md", "src/test/pods/db.md"})
 * static Deployment store;                                                   // pod "store" from templates
 * }</pre>
 *
 * <p><b>Lifecycle.</b> A static field is deployed before the class's {@code @BeforeAll} methods and destroyed after
 * its {@code @AfterAll} methods; an instance field is deployed before each test's {@code @BeforeEach} methods and
 * destroyed after its {@code @AfterEach} methods. Every pod of a level is deployed first and then awaited, so they
 * boot together. Destruction happens whatever the outcome (a failed test, a failed {@code awaitReady}, a failed
 * deployment of a sibling); leftovers of a JVM that died are reaped by the next run of the same runtime factory.
 *
 * <p><b>Names.</b> The runtime deploys a copy of the pod named {@code <name>-<n>} ({@code n} counts the run's
 * deployments), so that test classes running in parallel, or a test deploying the same pod again, never share
 * an instance; the guest sees that name as {@code +/pod/self/name}. Tests look deployments up by the name they
 * wrote ({@link PodName @PodName}).
 *
 * @since 0.1
 */
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Deploy {

  /**
   * Markdown templates, one unit each, that make the pod (only on a {@link dev.pods.Deployment} field). A path is
   * looked up in the file system (relative to the working directory, the module's folder under Maven), then as a
   * class path resource (relative to the test class's package unless it starts with {@code /}). Reading them needs
   * {@code dev.pods:pods-template} on the class path.
   */
  String[] templates() default {};

  /** The pod's name for {@link #templates()}: by default the field's name (which must then be a DNS label). */
  String name() default "";

  /** How long to wait for every instance to finish its initial phase before the tests run. */
  long readyTimeoutSeconds() default 300;

  /**
   * Whether to wait until the pod is ready before the tests run. With {@code false} the test receives the
   * deployment as soon as it is scheduled (to test boot failures, say).
   */
  boolean awaitReady() default true;
}
