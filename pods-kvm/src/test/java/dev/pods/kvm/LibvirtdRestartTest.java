package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.HypervisorEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The hypervisor survives a libvirtd restart: it reports the loss, reconnects by itself, and keeps working.
 *
 * <p>Restarting the host's libvirtd disturbs everyone using it, so this test runs only when asked for with
 * {@code -Dpods.test.restartLibvirtd=true} (CI machines, which run nothing else). It stops libvirtd by the pid
 * in {@code /run/libvirtd.pid} and starts it again with {@code libvirtd -d}.
 */
@Tag("system")
class LibvirtdRestartTest {
  private static final Path PID_FILE = Path.of("/run/libvirtd.pid");

  @Test
  void theConnectionComesBackAfterLibvirtdRestarts() throws Exception {
    assumeTrue(Boolean.getBoolean("pods.test.restartLibvirtd"),
        "restarting libvirtd is disruptive: enable with -Dpods.test.restartLibvirtd=true");
    LibvirtAvailability.assumeSystem();
    assumeTrue(Files.isRegularFile(PID_FILE), "libvirtd was not started with a pid file (libvirtd -d)");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    String name = "podst-" + UUID.randomUUID().toString().substring(0, 8) + "-restart";
    String owner = Reaper.ownerLabel(SystemTests.OWNER_PREFIX, name);
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      var events = new java.util.concurrent.LinkedBlockingQueue<HypervisorEvent>();
      hv.subscribe(events::add);
      DomainSpec s = DomainSpec.builder(name)
          .metadata(new DomainMetadata(owner, "sys", "restart", 0, "h"))
          .memoryMib(128)
          .boot(DomainBoot.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")))
          .build();
      hv.define(s);
      hv.start(name);
      try {
        long pid = Long.parseLong(Files.readString(PID_FILE).trim());
        ProcessHandle daemon = ProcessHandle.of(pid).orElseThrow();
        daemon.destroy();
        daemon.onExit().get();
        assertThat(await(events, HypervisorEvent.Type.CONNECTION_LOST)).isTrue();
        Process start = new ProcessBuilder("libvirtd", "-d").inheritIO().start();
        assertThat(start.waitFor()).isZero();
        assertThat(await(events, HypervisorEvent.Type.RECONNECTED)).isTrue();
        // the guest kept running while libvirtd was away, and the new connection sees it
        assertThat(hv.state(name)).isEqualTo(DomainState.RUNNING);
        assertThat(hv.list(owner)).hasSize(1);
      } finally {
        hv.undefine(name);
      }
      assertThat(hv.state(name)).isEqualTo(DomainState.MISSING);
    }
  }

  private static boolean await(java.util.concurrent.BlockingQueue<HypervisorEvent> q, HypervisorEvent.Type t)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      HypervisorEvent e = q.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
      if (e != null && e.type() == t) {
        return true;
      }
    }
    return false;
  }
}
