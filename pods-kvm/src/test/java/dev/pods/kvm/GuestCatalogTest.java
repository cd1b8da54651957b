package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.ImagePolicy;
import dev.pods.PodsException;
import dev.pods.kvm.internal.Exec;
import java.time.Duration;
import java.util.List;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local catalogue's names and errors (building the guests themselves is the system tests'). */
class GuestCatalogTest {
  @TempDir Path tmp;

  private GuestCatalog catalog() {
    return GuestCatalog.of(GuestImages.at(tmp.resolve("images")), DiskImages.at(tmp.resolve("disks")));
  }

  @Test
  void templateReferencesNameCatalogueEntries() {
    assertThat(GuestCatalog.catalogueName("+/image/debian12")).isEqualTo("debian12");
    assertThat(GuestCatalog.catalogueName("+/image/Debian12:2024")).isEqualTo("debian12");
    assertThat(GuestCatalog.catalogueName("+/image/tiny/x")).isEqualTo("tiny");
    assertThat(GuestCatalog.catalogueName(" tiny ")).isEqualTo("tiny");
  }

  @Test
  void anUnknownImageListsWhatIsKnown() {
    assertThatThrownBy(() -> catalog().resolve("+/image/ubuntu24"))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("'+/image/ubuntu24' is not in the catalogue")
        .hasMessageContaining("debian12")
        .hasMessageContaining("tiny");
  }

  @Test
  void anAbsolutePathInAnAllowedFolderIsADiskBootOfItsCachedCopy() throws IOException {
    Tools.assumeInstalled("qemu-img", "qemu-utils");
    Path images = Files.createDirectories(tmp.resolve("allowed"));
    Path disk = images.resolve("my.qcow2");
    Exec.run("test", List.of("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), "16M"), null,
        Duration.ofSeconds(30));
    GuestCatalog c = GuestCatalog.of(GuestImages.at(tmp.resolve("images")),
        DiskImages.at(tmp.resolve("disks"), ImagePolicy.builder().allowFolder(images).build()));

    BootImage b = c.resolve(disk.toString());

    assertThat(b.baseDisk()).hasParent(tmp.resolve("disks").resolve("base"));
    assertThat(b.baseDisk().getFileName().toString()).endsWith(".qcow2");
    assertThat(b.kernel()).isNull();
    assertThatThrownBy(() -> c.resolve(images.resolve("missing.qcow2").toString()))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("missing.qcow2: no such disk image file");
  }
}
