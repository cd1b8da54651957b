package dev.pods.net;

import org.junit.jupiter.api.Tag;

/** The same contract with the nftables programs run by {@code nft -f} instead of in-process libnftables. */
@Tag("system")
class LinuxNetworkDriverCliIT extends LinuxNetworkDriverIT {
  @Override
  boolean netlink() {
    return false;
  }
}
