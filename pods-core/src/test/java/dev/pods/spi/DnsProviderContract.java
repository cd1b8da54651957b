package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.PodsException;
import java.net.Inet4Address;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link DnsProvider} must show: the in-memory fake and the RFC 2136 provider against a real
 * BIND alike. A subclass supplies a provider for {@link #zone()} (empty of the names used here) and a zone the
 * server does not serve.
 */
public abstract class DnsProviderContract {

  /** The provider under test; the same object for the whole test method. */
  protected abstract DnsProvider provider();

  /** A zone the provider's server serves and takes updates for. */
  protected abstract String zone();

  /** A zone the provider's server does not serve. */
  protected String foreignZone() {
    return "not-served.invalid";
  }

  protected static Inet4Address ip(String a) {
    return Cidr.parseAddress(a);
  }

  @Test
  void replaceSetsExactlyTheGivenAddresses() {
    DnsProvider p = provider();
    p.replace(zone(), "api", List.of(ip("10.98.0.2"), ip("10.98.0.6")));
    assertThat(p.addresses(zone(), "api")).containsExactlyInAnyOrder(ip("10.98.0.2"), ip("10.98.0.6"));
    p.replace(zone(), "api", List.of(ip("10.98.0.6"), ip("10.98.0.10")));
    assertThat(p.addresses(zone(), "api")).containsExactlyInAnyOrder(ip("10.98.0.6"), ip("10.98.0.10"));
    p.replace(zone(), "api", List.of(ip("10.98.0.6"), ip("10.98.0.10")));
    assertThat(p.addresses(zone(), "api")).containsExactlyInAnyOrder(ip("10.98.0.6"), ip("10.98.0.10"));
  }

  @Test
  void namesAreIndependentAndCaseInsensitive() {
    DnsProvider p = provider();
    p.replace(zone(), "web", List.of(ip("10.98.0.14")));
    p.replace(zone(), "DB", List.of(ip("10.98.0.18")));
    assertThat(p.addresses(zone(), "Web")).containsExactly(ip("10.98.0.14"));
    assertThat(p.addresses(zone(), "db")).containsExactly(ip("10.98.0.18"));
    p.replace(zone(), "web", List.of());
    assertThat(p.addresses(zone(), "web")).isEmpty();
    assertThat(p.addresses(zone(), "db")).containsExactly(ip("10.98.0.18"));
    p.replace(zone(), "db", List.of());
  }

  @Test
  void removingIsIdempotentAndAnUnknownNameHasNoAddresses() {
    DnsProvider p = provider();
    assertThat(p.addresses(zone(), "never-there")).isEmpty();
    p.replace(zone(), "never-there", List.of());
    p.replace(zone(), "gone", List.of(ip("10.98.0.22")));
    p.replace(zone(), "gone", List.of());
    p.replace(zone(), "gone", List.of());
    assertThat(p.addresses(zone(), "gone")).isEmpty();
  }

  @Test
  void aWildcardNameIsPublished() {
    DnsProvider p = provider();
    p.replace(zone(), "*", List.of(ip("10.98.0.26")));
    assertThat(p.addresses(zone(), "*")).containsExactly(ip("10.98.0.26"));
    p.replace(zone(), "*", List.of());
    assertThat(p.addresses(zone(), "*")).isEmpty();
  }

  @Test
  void anUpdateOfAZoneTheServerDoesNotServeFailsNamingIt() {
    assertThatThrownBy(() -> provider().replace(foreignZone(), "api", List.of(ip("10.98.0.2"))))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining(foreignZone())
        .hasMessageContaining("api");
  }
}
