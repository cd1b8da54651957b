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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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
  void aFileChangedByHandIsHeardOnceAndTheStoresOwnWritesAreNotHeardTwice() throws Exception {
    FileSecretStore s = FileSecretStore.open(tmp.resolve("hand"));
    BlockingQueue<String> heard = new LinkedBlockingQueue<>();
    SecretStore.Registration r = s.onChange(name -> heard.add(name + "=" + s.get(name).map(m -> m.get("k")).orElse("-")));
    s.put("a", Map.of("k", "1"));
    assertThat(heard.poll()).as("put tells at once").isEqualTo("a=1");

    Files.writeString(s.dir().resolve("a.secret"), "{\"k\": \"2\"}"); // an editor's save: truncate, write
    assertThat(heard.poll(10, TimeUnit.SECONDS)).as("an edit in place").isEqualTo("a=2");
    Files.writeString(s.dir().resolve("a.secret"), "{\"k\": " + PLANTED); // broken: nobody is told
    Files.delete(s.dir().resolve("a.secret"));
    assertThat(heard.poll(10, TimeUnit.SECONDS)).as("a file deleted by hand").isEqualTo("a=-");
    s.put("b", Map.of("k", "1"));
    Files.writeString(s.dir().resolve("c.secret"), "{\"k\": \"1\"}");
    assertThat(heard.poll()).isEqualTo("b=1");
    assertThat(heard.poll(10, TimeUnit.SECONDS)).as("a file created by hand").isEqualTo("c=1");
    // the folder's events arrive in order: an echo of put("b") would have come before c's
    assertThat(heard).as("nothing heard twice").isEmpty();

    r.close();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (watchThreads(s).size() > 0 && System.nanoTime() < end) {
      Thread.onSpinWait();
    }
    assertThat(watchThreads(s)).as("the watch ends with the last listener").isEmpty();
  }

  private static java.util.List<Thread> watchThreads(FileSecretStore s) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("pods-secrets-watch " + s.dir())).toList();
  }

  @Test
  void aBrokenFileIsAnErrorThatQuotesNoContent() throws IOException {
    FileSecretStore s = FileSecretStore.open(tmp.resolve("broken"));
    Files.writeString(s.dir().resolve("x.secret"), "{\"k\": " + PLANTED);
    assertThatThrownBy(() -> s.get("x")).isInstanceOf(PodsException.class)
        .hasMessageContaining("x.secret").hasMessageNotContaining(PLANTED);
  }
}
