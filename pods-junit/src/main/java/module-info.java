/**
 * The JUnit 5 extension: {@code dev.pods.junit} ({@code @PodTest}, {@code @Deploy}, injected deployments). Its
 * default runtime discovers {@code dev.pods.kvm} and {@code dev.pods.net} as services, which a host application adds
 * to its test run.
 */
module dev.pods.junit {
  requires transitive dev.pods.core;
  requires transitive org.junit.jupiter.api;
  requires org.slf4j;
  requires static transitive org.jspecify;

  exports dev.pods.junit;
}
