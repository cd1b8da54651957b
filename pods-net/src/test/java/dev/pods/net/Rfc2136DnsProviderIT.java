package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.PodsException;
import dev.pods.spi.Cidr;
import dev.pods.spi.DnsProvider;
import dev.pods.spi.DnsProviderContract;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** The {@link DnsProvider} contract against a real BIND 9 this test starts on loopback, plus TSIG and TTL checks. */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Rfc2136DnsProviderIT extends DnsProviderContract {
  private Bind9 bind;
  private Rfc2136DnsProvider provider;

  @BeforeAll
  void startBind() throws Exception {
    Bind9.assumeInstalled();
    String run = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    bind = Bind9.start("pt" + run + ".example.test", Path.of("/tmp/pods-net-it/bind-" + run));
    provider = bind.provider();
  }

  @AfterAll
  void stopBind() throws Exception {
    if (bind != null) {
      bind.close();
    }
  }

  @Override
  protected DnsProvider provider() {
    return provider;
  }

  @Override
  protected String zone() {
    return bind.zone;
  }

  @Test
  void recordsAreServedWithTheConfiguredTtlToAnyResolver() throws Exception {
    try (Rfc2136DnsProvider p = Rfc2136DnsProvider.builder().server(bind.address)
        .tsig("hmac-sha256", bind.keyName, bind.secret).ttl(Duration.ofSeconds(30)).build()) {
      p.replace(zone(), "ttl", List.of(ip("10.98.0.30")));
    }
    // an unsigned plain query, as any client would ask
    SimpleResolver r = new SimpleResolver(bind.address);
    r.setTCP(true);
    Name n = Name.fromString("ttl." + zone() + ".");
    Message m = r.send(Message.newQuery(Record.newRecord(n, Type.A, DClass.IN)));
    List<Record> answer = m.getSection(Section.ANSWER);
    assertThat(answer).hasSize(1);
    assertThat(((ARecord) answer.get(0)).getAddress()).isEqualTo(Cidr.parseAddress("10.98.0.30"));
    assertThat(answer.get(0).getTTL()).isEqualTo(30);
    provider.replace(zone(), "ttl", List.of());
  }

  @Test
  void anUpdateWithAWrongKeyIsRefusedAndChangesNothing() {
    Rfc2136DnsProvider wrong = Rfc2136DnsProvider.builder().server(bind.address)
        .tsig("hmac-sha256", bind.keyName, java.util.Base64.getEncoder().encodeToString(new byte[32])).build();
    assertThatThrownBy(() -> wrong.replace(zone(), "intruder", List.of(ip("10.98.0.66"))))
        .isInstanceOf(PodsException.class).hasMessageContaining("intruder").hasMessageContaining(zone());
    assertThat(provider.addresses(zone(), "intruder")).isEmpty();
  }

  @Test
  void anUnreachableServerFailsNamingIt() {
    Rfc2136DnsProvider nowhere = Rfc2136DnsProvider.builder()
        .server(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 1))
        .timeout(Duration.ofMillis(500)).build();
    assertThatThrownBy(() -> nowhere.replace(zone(), "api", List.of(ip("10.98.0.2"))))
        .isInstanceOf(PodsException.class).hasMessageContaining("127.0.0.1:1");
  }
}
