package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorContract;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/** The contract against the real {@code qemu:///system}, booting the tiny guest (128 MiB, TCG here). */
@Tag("system")
class RealQemuHypervisorTest extends HypervisorContract {
  private static GuestImages.Tiny tiny;
  private static DiskImages disks;

  @BeforeAll
  static void host() {
    LibvirtAvailability.assumeSystem();
    tiny = GuestImages.configured().tiny();
    disks = SystemTests.disks();
  }

  @Override
  protected Hypervisor createHypervisor() {
    return LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
  }

  @Override
  protected DomainSpec.Builder bootableSpec(String name, String ownerLabel) {
    return DomainSpec.builder(name)
        .metadata(new DomainMetadata(ownerLabel, "contract", "tiny", 0, "h1"))
        .memoryMib(128)
        .boot(DomainBoot.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")))
        .serialLog(disks.instanceDir(name).resolve("console.log"));
  }

  @Override
  protected Path workDir() {
    return disks.instanceDir(prefix + "work");
  }

  @Override
  protected Duration stopGrace() {
    return Duration.ofSeconds(2);
  }

  @AfterEach
  void deleteFiles() throws Exception {
    // runs before the contract's own @AfterEach: it undefines first, so remove domains here too
    for (var i : hv.list(owner)) {
      hv.undefine(i.name());
    }
    SystemTests.deleteInstances(disks, prefix);
    assertThat(SystemTests.instancesLeft(disks, prefix)).isZero();
  }
}
