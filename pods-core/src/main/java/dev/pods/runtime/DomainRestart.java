package dev.pods.runtime;

import dev.pods.PodsException;
import dev.pods.spi.DomainState;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorEvent;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reboots one domain through the {@link Hypervisor} SPI: a guest reboot when it runs, confirmed by a
 * {@link HypervisorEvent.Type#REBOOTED} (or {@code STARTED}) event of that domain within a grace period; when none
 * comes (a guest that ignores the request), a forced power-off and a start; a zero grace period power-cycles at
 * once; a domain that is not running is just started. Stateless; blocking; safe to call from several threads (for different domains).
 */
final class DomainRestart {
  private static final Logger LOG = LoggerFactory.getLogger(DomainRestart.class);

  /** How a restart was done. */
  enum Outcome {
    /** The guest rebooted in its running domain. */
    REBOOTED,
    /**
     * The guest did not reboot within the grace period (or the grace was zero, or the domain paused): powered off
     * and started again.
     */
    POWER_CYCLED,
    /** The domain was not running: started. */
    STARTED
  }

  private DomainRestart() {}

  /**
   * Restarts {@code domain}; returns once the hypervisor reported the reboot, or started the domain again.
   *
   * @throws dev.pods.BackendException when the hypervisor fails
   * @throws PodsException when interrupted (the interrupt flag is set again)
   */
  static Outcome restart(Hypervisor hv, String domain, Duration grace) {
    CountDownLatch rebooted = new CountDownLatch(1);
    Hypervisor.Subscription sub = hv.subscribe(e -> {
      if (domain.equals(e.domain())
          && (e.type() == HypervisorEvent.Type.REBOOTED || e.type() == HypervisorEvent.Type.STARTED)) {
        rebooted.countDown();
      }
    });
    try {
      DomainState st = hv.state(domain);
      if (!st.isActive()) {
        hv.start(domain);
        return Outcome.STARTED;
      }
      if (st == DomainState.RUNNING && !grace.isZero()) {
        hv.reboot(domain);
        if (rebooted.await(grace.toNanos(), TimeUnit.NANOSECONDS)) {
          return Outcome.REBOOTED;
        }
        LOG.info("domain {} did not reboot within {}: powering it off and on", domain, grace);
      }
      hv.stop(domain, Duration.ZERO);
      hv.start(domain);
      return Outcome.POWER_CYCLED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PodsException("interrupted while restarting domain " + domain, e);
    } finally {
      sub.close();
    }
  }
}
