package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.StateStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * What every {@link StateStore} does, the runtime's file store and the in-memory fake alike: a subclass makes a
 * fresh store ({@link #store()}) and reopens the same one ({@link #reopen()}), as a runtime built later would.
 */
abstract class StateStoreContract {

  /** A new, empty store. */
  abstract StateStore store();

  /** The store {@link #store()} made last, as a later runtime sees it. */
  abstract StateStore reopen();

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static List<String> texts(StateStore s) {
    return s.all().stream().map(e -> new String(e.value(), StandardCharsets.UTF_8)).toList();
  }

  @Test
  void putReplacesAndRemoveIsIdempotent() {
    StateStore s = store();
    assertThat(s.all()).isEmpty();
    s.put("shop", bytes("one"));
    s.put("shop", bytes("two"));
    s.put("Other Pod!", bytes("three"));
    assertThat(texts(s)).containsExactlyInAnyOrder("two", "three");
    s.remove("shop");
    s.remove("shop");
    s.remove("never there");
    assertThat(texts(s)).containsExactly("three");
  }

  @Test
  void documentsOutliveTheObjectAndAreCopies() {
    StateStore s = store();
    byte[] v = bytes("kept");
    s.put("shop", v);
    v[0] = 'X';
    s.all().get(0).value()[0] = 'Y';
    assertThat(texts(s)).containsExactly("kept");
    assertThat(texts(reopen())).containsExactly("kept");
    assertThat(reopen().all()).allSatisfy(e -> assertThat(e.where()).isNotBlank());
  }

  @Test
  void binaryAndLargeDocumentsComeBackByteForByte() {
    StateStore s = store();
    byte[] big = new byte[300_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    s.put("big", big);
    assertThat(reopen().all()).singleElement().satisfies(e -> assertThat(e.value()).isEqualTo(big));
  }

  @Test
  void concurrentWritersOfDifferentKeysAllLand() {
    StateStore s = store();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int n = t;
      all.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < 25; i++) {
          s.put("pod-" + n + "-" + i, bytes(n + ":" + i));
        }
      }));
    }
    all.forEach(CompletableFuture::join);
    assertThat(texts(reopen())).hasSize(100).contains("0:0", "3:24");
  }
}
