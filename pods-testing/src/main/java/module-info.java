/**
 * In-memory fakes of pods' SPIs for a host application's unit tests ({@code dev.pods.testing}): they pass the same
 * contract tests as the real parts. Never registered as services: a test hands them to
 * {@code PodRuntime.builder()} itself.
 */
module dev.pods.testing {
  requires transitive dev.pods.core;
  requires org.slf4j;
  requires static transitive org.jspecify;

  exports dev.pods.testing;
}
