package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretFilesTest {
  private static final String PLANTED = "Pl4nted=with spaces ";
  @TempDir Path tmp;

  @Test
  void readsKeyValueLinesAsIs() throws Exception {
    Path f = Files.writeString(tmp.resolve("db"), "# comment\n\npassword=" + PLANTED + "\nuser=shop\n");
    var store = SecretFiles.read(List.of("shop-db=" + f));
    assertThat(store.get("shop-db")).contains(Map.of("password", PLANTED, "user", "shop"));
  }

  @Test
  void errorsNameFileAndLineButNoValue() throws IOException {
    Path f = Files.writeString(tmp.resolve("bad"), "user=shop\n" + PLANTED.replace("=", "") + "\n");
    assertThatThrownBy(() -> SecretFiles.read(List.of("s=" + f))).isInstanceOf(Up.UsageException.class)
        .hasMessageContaining(f + ":2").hasMessageNotContaining("Pl4nted");
    assertThatThrownBy(() -> SecretFiles.read(List.of("s"))).hasMessageContaining("NAME=FILE");
    assertThatThrownBy(() -> SecretFiles.read(List.of("s=" + tmp.resolve("missing"))))
        .hasMessageContaining("cannot read");
    Path empty = Files.writeString(tmp.resolve("empty"), "# nothing\n");
    assertThatThrownBy(() -> SecretFiles.read(List.of("s=" + empty))).hasMessageContaining("no KEY=VALUE");
    Path ok = Files.writeString(tmp.resolve("ok"), "k=v\n");
    assertThatThrownBy(() -> SecretFiles.read(List.of("s=" + ok, "s=" + ok))).hasMessageContaining("twice");
  }
}
