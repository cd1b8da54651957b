package dev.pods.runtime;

import dev.pods.spi.StateStore;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state folder: the store contract, file names, and what a crash in the middle of a write leaves. */
class FileStateStoreTest extends StateStoreContract {
  @TempDir Path tmp;

  @Override
  StateStore store() {
    return FileStateStore.open(tmp.resolve("contract/deployments"));
  }

  @Override
  StateStore reopen() {
    return FileStateStore.open(tmp.resolve("contract/deployments"));
  }

  private static String text(StateStore.Entry e) {
    return new String(e.value(), StandardCharsets.UTF_8);
  }

  @Test
  void putReplacesRemoveIsIdempotentAndAllListsDocumentsOnly() throws Exception {
    FileStateStore s = FileStateStore.open(tmp.resolve("a/deployments"));
    s.put("shop", "one".getBytes(StandardCharsets.UTF_8));
    s.put("shop", "two".getBytes(StandardCharsets.UTF_8));
    s.put("Other Pod!", "three".getBytes(StandardCharsets.UTF_8));
    assertThat(s.all()).extracting(FileStateStoreTest::text).containsExactlyInAnyOrder("two", "three");
    assertThat(s.file("Other Pod!").getFileName().toString()).matches("other-pod-[0-9a-f]{8}\\.json");
    s.remove("shop");
    s.remove("shop");
    assertThat(s.all()).extracting(FileStateStoreTest::text).containsExactly("three");
  }

  @Test
  void aWriteThatACrashInterruptedLeavesTheOldDocumentAndItsTemporaryFileIsRemovedOnOpen() throws Exception {
    // temporary files live beside the folder, which only ever holds whole documents
    FileStateStore s = FileStateStore.open(tmp.resolve("deployments"));
    s.put("shop", "old".getBytes(StandardCharsets.UTF_8));
    Path half = s.tempFile("shop");
    Files.writeString(half, "{\"half");
    assertThat(s.all()).extracting(FileStateStoreTest::text).containsExactly("old");
    try (var l = Files.list(tmp.resolve("deployments"))) {
      assertThat(l.toList()).containsExactly(s.file("shop"));
    }
    FileStateStore again = FileStateStore.open(tmp.resolve("deployments"));
    assertThat(Files.exists(half)).isFalse();
    assertThat(again.all()).extracting(FileStateStoreTest::text).containsExactly("old");
  }
}
