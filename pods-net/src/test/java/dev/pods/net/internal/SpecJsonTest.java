package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.Cidr;
import dev.pods.spi.DnsHost;
import java.util.List;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import org.junit.jupiter.api.Test;

class SpecJsonTest {
  @Test
  void specsSurviveTheRecordFormat() throws Exception {
    NetworkSpec full = NetworkSpec.builder().instanceId("db-1").owner("dev.pods/session=42").hostname("db")
        .mac("52:54:00:00:00:09").subnet(Cidr.parse("10.98.4.0/29")).privateAddress(Cidr.parseAddress("10.98.4.5"))
        .gateway(Cidr.parseAddress("10.98.4.6")).dnsServer(Cidr.parseAddress("1.1.1.1"))
        .searchDomain("db.internal").vpc(new NetworkVpc("v1", Cidr.parse("10.98.0.0/16"))).hostNamespace("hostns")
        .uplink(new NetworkUplink("br0", Cidr.parseAddress("203.0.113.7"), 24, Cidr.parseAddress("203.0.113.1")))
        .keptBackPort(5900).firewall(NetworkFirewall.rules(FirewallRuleSpec.tcp(5432, Cidr.parse("10.98.1.2/32"))))
        .build();
    NetworkSpec bare = NetworkSpec.builder().instanceId("x").owner("o").mac("02:00:00:00:00:01")
        .subnet(Cidr.parse("10.0.0.0/30")).build();
    NetworkSpec resolving = full.toBuilder().resolver(true).dnsHosts(List.of(
        new DnsHost("api.example.test", List.of(Cidr.parseAddress("10.98.4.5"), Cidr.parseAddress("10.98.5.5"))),
        new DnsHost("db.example.test", List.of(Cidr.parseAddress("10.98.6.5"))))).build();
    for (NetworkSpec s : new NetworkSpec[] {full, bare, resolving}) {
      String text = SpecJson.JSON.writeValueAsString(SpecJson.write(s));
      assertThat(SpecJson.read(SpecJson.JSON.readTree(text))).isEqualTo(s);
    }
  }
}
