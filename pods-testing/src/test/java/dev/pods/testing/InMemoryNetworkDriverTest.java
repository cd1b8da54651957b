package dev.pods.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.NetworkException;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkDriverContract;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import org.junit.jupiter.api.Test;

class InMemoryNetworkDriverTest extends NetworkDriverContract {
  private final InMemoryNetworkDriver driver = new InMemoryNetworkDriver();

  @Override
  protected NetworkDriver driver() {
    return driver;
  }

  @Override
  protected NetworkSpec.Builder spec(String instanceId, int index) {
    return NetworkSpec.builder().instanceId(instanceId).mac(String.format("52:54:00:00:00:%02x", index))
        .subnet(Cidr.parse("10.98." + index + ".0/30"))
        .uplink(new NetworkUplink("up", Cidr.parseAddress("10.99.1." + index), 16, Cidr.parseAddress("10.99.0.1")));
  }

  @Override
  protected java.net.Inet4Address outside() {
    return Cidr.parseAddress("10.99.0.9");
  }

  @Override
  protected boolean reaches(dev.pods.spi.NetworkInstance n, int port) {
    return driver.admits(n.instanceId(), outside(), dev.pods.spi.NetworkProtocol.TCP, port);
  }

  @Override
  protected @org.jspecify.annotations.Nullable String hostNamespace() {
    return "host";
  }

  @Override
  protected java.net.InetSocketAddress hostAddress() {
    return new java.net.InetSocketAddress(Cidr.parseAddress("10.77.0.1"), 30080);
  }

  @Override
  protected java.net.Socket connectAsHostClient(java.net.InetSocketAddress address) throws java.io.IOException {
    java.net.Socket s = new java.net.Socket();
    s.connect(driver.hostListener(hostNamespace(), address), 5000);
    return s;
  }

  @Override
  protected void deleteNamespaceBehindItsBack(dev.pods.spi.NetworkInstance n) {
    driver.breakBehindItsBack(n.instanceId(), InMemoryNetworkDriver.Part.NAMESPACE);
  }

  @Override
  protected void killDhcpServerBehindItsBack(dev.pods.spi.NetworkInstance n) {
    driver.breakBehindItsBack(n.instanceId(), InMemoryNetworkDriver.Part.DHCP_SERVER);
  }

  @Override
  protected String owner() {
    return "test-owner";
  }

  @Test
  void admitsAnswersPerProtocolAndRejectsWhatIsNoPacket() {
    NetworkSpec s = spec("a1", 1).owner(owner()).firewall(dev.pods.spi.NetworkFirewall.rules(
        dev.pods.spi.FirewallRuleSpec.icmp(Cidr.parse("10.0.0.0/8")),
        dev.pods.spi.FirewallRuleSpec.udp(53, Cidr.parse("10.0.0.0/8")))).build();
    driver.create(s);
    java.net.Inet4Address inside = Cidr.parseAddress("10.1.1.1");
    assertThat(driver.admits("a1", inside, dev.pods.spi.NetworkProtocol.ICMP, 0)).isTrue();
    assertThat(driver.admits("a1", Cidr.parseAddress("11.1.1.1"), dev.pods.spi.NetworkProtocol.ICMP, 0)).isFalse();
    assertThat(driver.admits("a1", inside, dev.pods.spi.NetworkProtocol.UDP, 53)).isTrue();
    assertThat(driver.admits("a1", inside, dev.pods.spi.NetworkProtocol.TCP, 53)).isFalse();
    assertThatThrownBy(() -> driver.admits("a1", inside, dev.pods.spi.NetworkProtocol.ALL, 53))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ALL");
    assertThatThrownBy(() -> driver.admits("a1", inside, dev.pods.spi.NetworkProtocol.TCP, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
    assertThatThrownBy(() -> driver.admits("nope", inside, dev.pods.spi.NetworkProtocol.TCP, 80))
        .isInstanceOf(NetworkException.class).hasMessageContaining("nope");
    driver.delete("a1");
  }

  @Test
  void injectedFailureChangesNothing() {
    NetworkSpec s = spec("f1", 1).owner(owner()).build();
    driver.failNext(InMemoryNetworkDriver.Operation.CREATE);
    assertThatThrownBy(() -> driver.create(s)).isInstanceOf(NetworkException.class).hasMessageContaining("injected");
    assertThat(driver.find("f1")).isEmpty();
    assertThat(driver.create(s).spec()).isEqualTo(s);
    driver.delete("f1");
  }
}
