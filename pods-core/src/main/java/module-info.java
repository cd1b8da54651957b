/**
 * pods' model, runtime API and SPIs ({@code dev.pods}, {@code dev.pods.spec}, {@code dev.pods.spi}), the values and
 * stores a host application uses beside them ({@code dev.pods.diff}, {@code dev.pods.secrets}) and the metadata
 * protocol whose values the API carries ({@code dev.pods.imds}: {@code ExecResult}, {@code OutputStream}, ...).
 * The engine ({@code dev.pods.runtime}), the guest agent ({@code dev.pods.agent}) and the host-side phase rules
 * ({@code dev.pods.phase}) stay inside; {@link dev.pods.PodRuntime.Builder#build()} finds the engine through the
 * {@link dev.pods.spi.PodRuntimeProvider} service. {@code dev.pods.internal} (name rules, text escaping, a file lock)
 * is shared with pods' own modules only.
 */
@SuppressWarnings("module") // the modules dev.pods.internal is exported to are built after this one
module dev.pods.core {
  requires com.fasterxml.jackson.databind;
  requires transitive jdk.httpserver; // ImdsBinding hands out its HttpServer
  requires org.slf4j;
  requires static transitive org.jspecify;

  exports dev.pods;
  exports dev.pods.diff;
  exports dev.pods.imds;
  exports dev.pods.secrets;
  exports dev.pods.spec;
  exports dev.pods.spi;
  exports dev.pods.internal to dev.pods.template, dev.pods.kvm, dev.pods.net;

  uses dev.pods.spi.HypervisorProvider;
  uses dev.pods.spi.NetworkDriverProvider;
  uses dev.pods.spi.PodRuntimeProvider;
  uses dev.pods.spi.TemplateReader;

  provides dev.pods.spi.PodRuntimeProvider with dev.pods.runtime.DefaultPodRuntimeProvider;
}
