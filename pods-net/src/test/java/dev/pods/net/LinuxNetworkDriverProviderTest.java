package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.NetworkDriverProvider;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class LinuxNetworkDriverProviderTest {
  @Test
  void isRegisteredAndExplainsWhyNotWhenUnavailable() {
    NetworkDriverProvider p = ServiceLoader.load(NetworkDriverProvider.class).stream()
        .map(ServiceLoader.Provider::get).filter(x -> x.name().equals("linux")).findFirst().orElseThrow();
    assertThat(p).isInstanceOf(LinuxNetworkDriverProvider.class);
    assertThat(p.priority()).isPositive();
    // on any host: either available, or a reason that names what is missing
    p.unavailableReason().ifPresent(reason -> assertThat(reason).isNotBlank());
  }
}
