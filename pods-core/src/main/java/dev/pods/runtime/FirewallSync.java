package dev.pods.runtime;

import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkInstance;
import dev.pods.spi.NetworkSpec;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the network firewall of every instance of a deployment in step with its unit's firewall resources and
 * with the live addresses those name ({@link FirewallRules}). Each change is one {@link NetworkDriver#update} per
 * instance whose rules differ, which replaces its rules atomically; additions are made before the new instance's VM
 * starts, removals before its addresses are released. Thread-safe: syncs are serialized by one lock, so a later
 * sync never loses to an earlier, staler one.
 */
final class FirewallSync {
  private static final Logger LOG = LoggerFactory.getLogger(FirewallSync.class);

  private final DefaultDeployment d;
  private final NetworkDriver driver;
  private final ReentrantLock lock = new ReentrantLock();

  FirewallSync(DefaultDeployment d, NetworkDriver driver) {
    this.d = d;
    this.driver = driver;
  }

  /** Brings every instance's firewall in step now, on the calling thread; blocks on the network driver. */
  void sync() {
    lock.lock();
    try {
      List<FirewallRules.Peer> peers = d.peers();
      for (DefaultInstance i : d.instanceList()) {
        apply(i, peers);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * The lock every sync holds; the deployment holds it too while it changes another part of the instances' network
   * specs (their resolver names), so that no two read-modify-writes of one spec interleave.
   */
  ReentrantLock lock() {
    return lock;
  }

  /**
   * Instance {@code i}'s network was just created with {@code built}: records it, then syncs every instance (its
   * own rules when the peers changed since its spec was made, its peers' when it comes back from a recreation).
   */
  void created(DefaultInstance i, NetworkFirewall built) {
    lock.lock();
    try {
      i.firewall = built;
      sync();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Instance {@code i}'s network is about to be removed: its addresses leave its peers' rules at the next sync, and
   * no sync touches its network until {@link #building} (call {@link #sync} before its addresses are released).
   */
  void removing(DefaultInstance i) {
    lock.lock();
    try {
      i.leaving = true;
      i.firewall = null;
    } finally {
      lock.unlock();
    }
  }

  /** Instance {@code i}'s network is about to be built: it counts again for itself and its peers. */
  void building(DefaultInstance i) {
    i.leaving = false;
  }

  private void apply(DefaultInstance i, List<FirewallRules.Peer> peers) {
    if (i.leaving) {
      return;
    }
    NetworkFirewall want = FirewallRules.of(i.unit, peers);
    if (want.equals(i.firewall)) {
      return;
    }
    try {
      Optional<NetworkInstance> net = driver.find(i.id());
      if (net.isEmpty()) {
        return; // not built yet (its creation applies the rules then) or being removed
      }
      NetworkSpec spec = net.get().spec();
      if (!spec.firewall().equals(want)) {
        driver.update(spec.withFirewall(want));
        LOG.debug("pod {} instance {}: firewall now {}", d.pod().name(), i.name(), want);
      }
      i.firewall = want;
    } catch (RuntimeException e) {
      LOG.warn("pod {} instance {}: cannot update its firewall", d.pod().name(), i.name(), e);
    }
  }
}
