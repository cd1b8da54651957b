/**
 * The {@link dev.pods.spi.NetworkDriver} SPI on Linux and the RFC 2136 {@link dev.pods.spi.DnsProvider}:
 * {@code dev.pods.net}; the namespace, nftables and process plumbing ({@code dev.pods.net.internal}) stays inside,
 * opened to JNA only, which implements its native {@code Library} interfaces. Registers the
 * {@link dev.pods.spi.NetworkDriverProvider} that {@code PodRuntime.local()} finds.
 */
@SuppressWarnings("requires-automatic") // JNA: an automatic module (Automatic-Module-Name com.sun.jna)
module dev.pods.net {
  requires transitive dev.pods.core;
  requires com.fasterxml.jackson.databind;
  requires com.sun.jna;
  requires org.dnsjava;
  requires org.slf4j;
  requires static transitive org.jspecify;

  exports dev.pods.net;
  opens dev.pods.net.internal to com.sun.jna;

  provides dev.pods.spi.NetworkDriverProvider with dev.pods.net.LinuxNetworkDriverProvider;
}
