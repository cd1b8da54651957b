package dev.pods.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BackendException;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorContract;
import dev.pods.spi.HypervisorEvent;
import dev.pods.spi.StopOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fake passes the hypervisor contract, and its fault knobs work. */
class InMemoryHypervisorTest extends HypervisorContract {
  @TempDir Path dir;

  @Override
  protected Hypervisor createHypervisor() {
    return InMemoryHypervisor.create();
  }

  @Override
  protected DomainSpec.Builder bootableSpec(String name, String ownerLabel) throws Exception {
    Path kernel = touch(dir.resolve("vmlinuz"));
    return DomainSpec.builder(name)
        .metadata(new DomainMetadata(ownerLabel, "pod", "unit", 0, "hash"))
        .memoryMib(128)
        .boot(DomainBoot.kernel(kernel, null, "console=ttyS0"))
        .serialLog(dir.resolve(name.replace('/', '_') + ".log"));
  }

  @Override
  protected Path workDir() {
    return dir;
  }

  private InMemoryHypervisor fake() {
    return (InMemoryHypervisor) hv;
  }

  @Test
  void aGuestIgnoringAcpiIsStoppedForcibly() throws Exception {
    DomainSpec s = spec("deaf");
    hv.define(s);
    hv.start(s.name());
    fake().ignoreShutdown(s.name());
    assertThat(hv.stop(s.name(), Duration.ofSeconds(30))).isEqualTo(StopOutcome.FORCED);
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void injectedFailuresHitOnlyTheNextCall() throws Exception {
    DomainSpec s = spec("fail");
    hv.define(s);
    fake().failNext("start");
    assertThatThrownBy(() -> hv.start(s.name())).isInstanceOf(BackendException.class)
        .hasMessageContaining("injected");
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
    hv.start(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.RUNNING);
  }

  @Test
  void startFailsWhenADiskIsMissing() throws Exception {
    DomainSpec s = bootableSpec(prefix + "nodisk", owner)
        .disk(DomainDisk.qcow2(dir.resolve("absent.qcow2"))).build();
    hv.define(s);
    assertThatThrownBy(() -> hv.start(s.name())).isInstanceOf(BackendException.class)
        .hasMessageContaining("absent.qcow2");
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
  }

  @Test
  void crashesAreReportedAsEvents() throws Exception {
    List<HypervisorEvent> seen = new ArrayList<>();
    hv.subscribe(seen::add);
    DomainSpec s = spec("crash");
    hv.define(s);
    hv.start(s.name());
    fake().crash(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.CRASHED);
    assertThat(seen).extracting(HypervisorEvent::type).containsSubsequence(
        HypervisorEvent.Type.STARTED, HypervisorEvent.Type.CRASHED, HypervisorEvent.Type.STOPPED);
  }

  @Test
  void aGuestPowerOffAnEmulatorDeathAndAResetAreReportedAsLibvirtReportsThem() throws Exception {
    List<String> seen = new ArrayList<>();
    hv.subscribe(e -> seen.add(e.type() + " " + e.detail()));
    DomainSpec a = spec("off");
    DomainSpec b = spec("killed");
    for (DomainSpec s : List.of(a, b)) {
      hv.define(s);
      hv.start(s.name());
    }
    seen.clear();
    fake().guestResets(a.name());
    assertThat(hv.state(a.name())).isEqualTo(DomainState.RUNNING);
    fake().guestPowersOff(a.name());
    fake().emulatorDies(b.name());
    assertThat(hv.state(a.name())).isEqualTo(DomainState.SHUT_OFF);
    assertThat(hv.state(b.name())).isEqualTo(DomainState.SHUT_OFF);
    assertThat(seen).containsExactly("REBOOTED ", "SHUTTING_DOWN ", "STOPPED SHUTDOWN", "STOPPED FAILED");
    assertThatThrownBy(() -> fake().emulatorDies(b.name())).isInstanceOf(dev.pods.BackendException.class)
        .hasMessageContaining("not running");
    assertThatThrownBy(() -> fake().guestResets(b.name())).isInstanceOf(dev.pods.BackendException.class);
    hv.start(b.name()); // a stopped domain starts again, as libvirt's does
    assertThat(hv.state(b.name())).isEqualTo(DomainState.RUNNING);
  }

  @Test
  void guestOutputGoesToTheSerialLog() throws Exception {
    DomainSpec s = spec("print");
    hv.define(s);
    fake().guestPrints(s.name(), "PODS-READY\n");
    assertThat(Files.readString(s.serialLog())).isEqualTo("PODS-READY\n");
    assertThat(hv.consoleOutput(s.name())).contains("PODS-READY");
  }
}
