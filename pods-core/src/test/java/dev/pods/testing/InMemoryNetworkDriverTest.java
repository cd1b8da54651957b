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
  protected String owner() {
    return "test-owner";
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
