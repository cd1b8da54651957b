package dev.pods.testing;

import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpAddressPoolContract;
import dev.pods.spi.IpPoolSpec;

class InMemoryIpAddressPoolTest extends IpAddressPoolContract {
  @Override
  protected IpAddressPool newPool(IpPoolSpec spec) {
    return new InMemoryIpAddressPool(spec);
  }
}
