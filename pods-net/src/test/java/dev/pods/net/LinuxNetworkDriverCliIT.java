package dev.pods.net;

import org.junit.jupiter.api.Tag;

/** The same contract with the link programs run by {@code ip -batch} instead of in-process rtnetlink. */
@Tag("system")
class LinuxNetworkDriverCliIT extends LinuxNetworkDriverIT {
  @Override
  boolean netlink() {
    return false;
  }
}
