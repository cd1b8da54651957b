package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BackendUnavailableException;
import dev.pods.spi.Acceleration;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorConfig;
import dev.pods.spi.HypervisorProvider;
import dev.pods.spi.Providers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibvirtHypervisorProviderTest {
  @Test
  void isDiscoveredAndConnects() {
    HypervisorProvider p = Providers.hypervisor();
    assertThat(p).isInstanceOf(LibvirtHypervisorProvider.class);
    assertThat(p.name()).isEqualTo("libvirt");
    assertThat(p.unavailableReason()).isEmpty();
    try (Hypervisor hv = p.create(new HypervisorConfig("test:///default", Acceleration.TCG))) {
      assertThat(hv.info().uri()).isEqualTo("test:///default");
    }
  }

  @Test
  void aDataFolderQemuCannotReachIsRefusedWithWhatToChange(@TempDir Path tmp) throws Exception {
    Path passwd = Files.writeString(tmp.resolve("passwd"), "qemu:x:987654:987654::/:/bin/false\n");
    Path group = Files.writeString(tmp.resolve("group"), "qemu:x:987654:\n");
    Path conf = Files.writeString(tmp.resolve("qemu.conf"), "user = \"qemu\"\n");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path closed = Files.createDirectory(tmp.resolve("mktemp"));
    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));

    assertThatThrownBy(() -> LibvirtHypervisorProvider.checkReach(closed.resolve("data"), conf, passwd, group))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("QEMU runs as 'qemu' and cannot reach the data folder " + closed.resolve("data"))
        .hasMessageContaining(closed + " (rwx------)")
        .hasMessageContaining("chmod o+x " + closed);

    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx--x--x"));
    LibvirtHypervisorProvider.checkReach(closed.resolve("data"), conf, passwd, group); // no exception
  }
}
