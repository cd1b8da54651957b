package dev.pods.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class whose {@link Deploy @Deploy} fields are deployed as pods around its tests, with the
 * {@link PodsExtension}.
 *
 * <pre>{@code
 * @PodTest
 * class ShopTest {
 *   @Deploy static Pod shop = Pod.builder().name("shop")           // static: once for the class
 *       .unit(Unit.builder().name("web").image("tiny").memoryMib(192).build())
 *       .build();
 *
 *   @Test
 *   void webAnswers(Deployment shop) {                             // injected, ready
 *     assertThat(shop.instance("web", 0).exec("hostname").stdoutText()).isEqualTo("web-0\n");
 *   }
 * }
 * }</pre>
 *
 * <p>The class is skipped, with the reason, when {@link #runtime() the runtime factory} says this host cannot run
 * pods (for the default: not root, no libvirtd, no QEMU, no network tools...). Inherited by subclasses; applies
 * to {@code @Nested} classes too.
 *
 * @since 0.1
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(PodsExtension.class)
public @interface PodTest {

  /**
   * Makes the runtime the class's pods run on: one runtime per factory class and test run (JVM), shared by every
   * test class naming that factory and closed when the run ends. The default runs VMs on this host (libvirt and
   * Linux network namespaces). The factory needs a public or package-private no-argument constructor.
   */
  Class<? extends PodRuntimeFactory> runtime() default LocalRuntimeFactory.class;
}
