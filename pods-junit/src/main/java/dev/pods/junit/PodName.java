package dev.pods.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the pod whose {@link dev.pods.Deployment} a parameter or a field receives, when the test sees several.
 * The name is the one written in the test (the {@link dev.pods.Pod}'s name, or {@link Deploy#name()}), not the
 * unique name the runtime deployed it under.
 *
 * <pre>{@code
 * @Test
 * void webReachesDb(@PodName("shop") Deployment shop, @PodName("ops") Deployment ops) { ... }
 *
 * @PodName("shop") static Deployment shopDeployment;   // set once "shop" is deployed (static: per class)
 * }</pre>
 *
 * <p>A field of type {@code Deployment} with this annotation is set after the pods of its level (static: the
 * class's; instance: the test's) are deployed and ready; a parameter is resolved from the pods of the test and of
 * its class (and enclosing classes), the innermost first.
 *
 * @since 0.1
 */
@Target({ElementType.PARAMETER, ElementType.FIELD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface PodName {
  /** The pod's name as written in the test. */
  String value();
}
