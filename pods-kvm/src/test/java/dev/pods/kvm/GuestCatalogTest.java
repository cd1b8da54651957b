package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.PodsException;
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
  void anAbsolutePathIsADiskBootOfThatFile() throws IOException {
    Path disk = Files.writeString(tmp.resolve("my.qcow2"), "not really");
    BootImage b = catalog().resolve(disk.toString());
    assertThat(b.baseDisk()).isEqualTo(disk);
    assertThat(b.kernel()).isNull();
    assertThatThrownBy(() -> catalog().resolve(tmp.resolve("missing.qcow2").toString()))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("missing.qcow2: no such disk image file");
  }
}
