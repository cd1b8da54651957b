package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BackendException;
import dev.pods.kvm.internal.Exec;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainFilesystem;
import dev.pods.spi.DomainState;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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

  private final ReadOnlyShares shares = new ReadOnlyShares(LibvirtHypervisor.DEFAULT_CACHE.resolve("shares"));

  @Test
  void aReadOnlyFolderIsSharedAsAReadOnlyBindMountMadeAgainAtStartAndGoneWithTheDomain() throws Exception {
    Path ro = Files.createDirectories(workDir().resolve("ro"));
    DomainSpec s = bootableSpec(prefix + "rofs", owner).filesystem(new DomainFilesystem(ro, "podsfs0", true)).build();
    hv.define(s);
    Path mp = shares.mountPoint(s.name(), "podsfs0");
    assertThat(ReadOnlyShares.isReadOnlyMount(mp)).isTrue();
    Exec.run("test", List.of("umount", mp.toString()), null, Duration.ofSeconds(30)); // as a host reboot does
    hv.start(s.name());
    assertThat(ReadOnlyShares.isReadOnlyMount(mp)).isTrue();
    hv.undefine(s.name());
    assertThat(ReadOnlyShares.isMountPoint(mp)).isFalse();
    assertThat(shares.domains()).doesNotContain(s.name());
  }

  @Test
  void aDefineThatFailsLeavesNoShareAndUndefineRemovesSharesOfAMissingDomain() throws Exception {
    Path ro = Files.createDirectories(workDir().resolve("ro"));
    DomainSpec bad = bootableSpec(prefix + "rofail", owner)
        .filesystem(new DomainFilesystem(ro, "podsfs0", true))
        .filesystem(new DomainFilesystem(workDir().resolve("missing"), "podsfs1", true)).build();
    assertThatThrownBy(() -> hv.define(bad)).isInstanceOf(BackendException.class)
        .hasMessageContaining("is not a folder");
    assertThat(hv.state(bad.name())).isEqualTo(DomainState.MISSING);
    assertThat(ReadOnlyShares.isMountPoint(shares.mountPoint(bad.name(), "podsfs0"))).isFalse();
    assertThat(shares.domains()).doesNotContain(bad.name());

    // what a crash between mounting and defining leaves: undefine removes it although no domain exists
    String orphan = prefix + "orphan";
    shares.ensure(orphan, new DomainFilesystem(ro, "podsfs0", true));
    hv.undefine(orphan);
    assertThat(ReadOnlyShares.isMountPoint(shares.mountPoint(orphan, "podsfs0"))).isFalse();
    assertThat(shares.domains()).doesNotContain(orphan);
  }

  @Test
  void theReaperRemovesTheSharesOfMissingDomainsOnceTheyAreOld() throws Exception {
    Path ro = Files.createDirectories(workDir().resolve("ro"));
    String stale = prefix + "stale";
    String fresh = prefix + "fresh";
    try {
      shares.ensure(stale, new DomainFilesystem(ro, "podsfs0", true));
      shares.ensure(fresh, new DomainFilesystem(ro, "podsfs0", true));
      Files.setLastModifiedTime(shares.domainDir(stale),
          java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofHours(1))));
      assertThat(Reaper.reapFolders(hv, disks, n -> n.startsWith(prefix), Duration.ofMinutes(10)))
          .containsExactly(stale);
      assertThat(ReadOnlyShares.isMountPoint(shares.mountPoint(stale, "podsfs0"))).isFalse();
      assertThat(shares.domains()).doesNotContain(stale).contains(fresh);
    } finally {
      shares.release(fresh);
      shares.release(stale);
    }
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
