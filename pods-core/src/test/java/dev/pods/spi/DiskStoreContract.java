package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.ConflictException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * What every {@link DiskStore} does, the fake and the qcow2 store alike: a subclass makes a fresh, empty store
 * ({@link #store()}) and reopens the same one ({@link #reopen()}), as a later runtime would.
 */
public abstract class DiskStoreContract {
  /** 1 GiB: sizes stay sparse. */
  protected static final long GIB = 1024L * 1024 * 1024;

  /** A new, empty store. */
  protected abstract DiskStore store();

  /** The store {@link #store()} made last, as a later runtime sees it. */
  protected abstract DiskStore reopen();

  /** Whether the first {@code n} bytes of the volume's content (as the guest sees it) are all zero. */
  protected abstract boolean blank(DiskStore.Volume v, int n) throws IOException;

  @Test
  void createMakesABlankVolumeOfTheSizeAndRefusesASecond() throws IOException {
    DiskStore s = store();
    DiskStore.Volume v = s.create("shop-db", 3 * GIB);
    assertThat(v.name()).isEqualTo("shop-db");
    assertThat(v.sizeBytes()).isEqualTo(3 * GIB);
    assertThat(v.allocatedBytes()).isBetween(0L, 64L * 1024 * 1024);
    assertThat(v.path()).isAbsolute().exists();
    assertThat(blank(v, 1024 * 1024)).isTrue();
    assertThatThrownBy(() -> s.create("shop-db", GIB)).isInstanceOf(ConflictException.class)
        .hasMessageContaining("shop-db");
    assertThat(reopen().find("shop-db")).contains(v);
  }

  @Test
  void ensureKeepsAnExistingVolumeAsItIs() {
    DiskStore s = store();
    DiskStore.Volume first = s.ensure("data", 2 * GIB);
    DiskStore.Volume again = s.ensure("data", 5 * GIB);
    assertThat(again.sizeBytes()).isEqualTo(2 * GIB);
    assertThat(again.path()).isEqualTo(first.path());
  }

  @Test
  void listFindAndDelete() {
    DiskStore s = store();
    assertThat(s.list()).isEmpty();
    s.ensure("b", GIB);
    s.ensure("a", GIB);
    assertThat(s.list()).extracting(DiskStore.Volume::name).containsExactly("a", "b");
    assertThat(s.find("nope")).isEmpty();
    s.delete("a");
    s.delete("a");
    assertThat(reopen().list()).extracting(DiskStore.Volume::name).containsExactly("b");
  }

  @Test
  void concurrentEnsuresCreateOneVolume() {
    DiskStore s = store();
    List<CompletableFuture<DiskStore.Volume>> all = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      all.add(CompletableFuture.supplyAsync(() -> s.ensure("race", GIB)));
    }
    assertThat(all.stream().map(CompletableFuture::join).map(DiskStore.Volume::path).distinct()).hasSize(1);
    assertThat(s.list()).hasSize(1);
  }

  @Test
  void badNamesAndSizesAreRefused() {
    DiskStore s = store();
    assertThatThrownBy(() -> s.create("../x", GIB)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'../x'");
    assertThatThrownBy(() -> s.ensure("ok", 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
    assertThat(s.list()).isEmpty();
  }

  /** Reads the first {@code n} bytes of a raw file: zero? */
  protected static boolean rawBlank(java.nio.file.Path f, int n) throws IOException {
    try (InputStream in = Files.newInputStream(f)) {
      byte[] b = in.readNBytes(n);
      for (byte x : b) {
        if (x != 0) {
          return false;
        }
      }
      return b.length == n;
    }
  }
}
