package dev.pods.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.DnsProvider;
import dev.pods.spi.DnsProviderContract;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryDnsProviderTest extends DnsProviderContract {
  private final InMemoryDnsProvider provider = InMemoryDnsProvider.serving("example.test");

  @Override
  protected DnsProvider provider() {
    return provider;
  }

  @Override
  protected String zone() {
    return "example.test";
  }

  @Test
  void onlyChangesCountAsUpdates() {
    provider.replace(zone(), "api", List.of(ip("10.98.0.2")));
    provider.replace(zone(), "api", List.of(ip("10.98.0.2")));
    provider.replace(zone(), "other", List.of());
    assertThat(provider.updates()).isEqualTo(1);
    assertThat(provider.names()).containsExactly("api.example.test");
  }
}
