/**
 * The {@link dev.pods.spi.Hypervisor} SPI on libvirt: {@code dev.pods.kvm}; the XML writer and reader and the libvirt
 * calls ({@code dev.pods.kvm.internal}) stay inside. Registers the {@link dev.pods.spi.HypervisorProvider} that
 * {@code PodRuntime.local()} finds.
 *
 * <p>libvirt-java 0.5.4 has no module descriptor nor {@code Automatic-Module-Name}: its module name {@code libvirt} is
 * derived from the jar's file name ({@code libvirt-0.5.4.jar}), so a host application on the module path must keep
 * that file name (Maven's does).
 */
@SuppressWarnings("requires-automatic")
module dev.pods.kvm {
  requires transitive dev.pods.core;
  requires com.fasterxml.jackson.databind;
  requires com.sun.jna;
  requires java.xml;
  requires libvirt;
  requires org.apache.httpcomponents.client5.httpclient5;
  requires org.apache.httpcomponents.core5.httpcore5;
  requires org.slf4j;
  requires static transitive org.jspecify;

  exports dev.pods.kvm;

  provides dev.pods.spi.HypervisorProvider with dev.pods.kvm.LibvirtHypervisorProvider;
}
