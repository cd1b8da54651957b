package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.Acceleration;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorConfig;
import dev.pods.spi.HypervisorProvider;
import dev.pods.spi.Providers;
import org.junit.jupiter.api.Test;

class LibvirtHypervisorProviderTest {
  @Test
  void isDiscoveredAndConnects() {
    HypervisorProvider p = Providers.hypervisor();
    assertThat(p).isInstanceOf(LibvirtHypervisorProvider.class);
    assertThat(p.name()).isEqualTo("libvirt");
    assertThat(p.unavailableReason()).isEmpty();
    try (Hypervisor hv = p.create(new HypervisorConfig("test:///default", Acceleration.TCG))) {
      assertThat(hv.info().uri()).isEqualTo("test:///default");
    }
  }
}
