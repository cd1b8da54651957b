package dev.pods.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.PodsException;
import dev.pods.spi.SecretStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSecretStoreTest extends SecretStoreContract {
  @TempDir Path tmp;
  private int n;

  @Override
  SecretStore store() {
    n++;
    return FileSecretStore.open(tmp.resolve("s" + n));
  }

  @Override
  SecretStore reopen() {
    return FileSecretStore.open(tmp.resolve("s" + n));
  }

  @Test
  void onlyTheOwnerCanReadTheFolderAndFiles() throws IOException {
    FileSecretStore s = FileSecretStore.open(tmp.resolve("own"));
    s.put("shop-db", Map.of("password", PLANTED));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s.dir()))).isEqualTo("rwx------");
    try (var files = Files.list(s.dir())) {
      assertThat(files.toList()).singleElement().satisfies(f -> {
        assertThat(f.getFileName()).hasToString("shop-db.secret");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
      });
    }
  }

  @Test
  void aFolderOthersMayEnterIsRefused() throws IOException {
    Path d = Files.createDirectory(tmp.resolve("open"));
    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-x---"));
    assertThatThrownBy(() -> FileSecretStore.open(d)).isInstanceOf(PodsException.class)
        .hasMessageContaining("rwxr-x---").hasMessageContaining("chmod 700");
  }

  @Test
  void aBrokenFileIsAnErrorThatQuotesNoContent() throws IOException {
    FileSecretStore s = FileSecretStore.open(tmp.resolve("broken"));
    Files.writeString(s.dir().resolve("x.secret"), "{\"k\": " + PLANTED);
    assertThatThrownBy(() -> s.get("x")).isInstanceOf(PodsException.class)
        .hasMessageContaining("x.secret").hasMessageNotContaining(PLANTED);
  }
}
