package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinkIndexesTest {
  @TempDir Path tmp;

  @Test
  void twoStateFoldersNeverHoldOneIndexAndAKeyKeepsItsOwn() throws Exception {
    Path dir = tmp.resolve("run");
    LinkIndexes a = new LinkIndexes(dir, "pods", Files.createDirectories(tmp.resolve("a")));
    LinkIndexes b = new LinkIndexes(dir, "pods", Files.createDirectories(tmp.resolve("b")));
    LinkIndexes other = new LinkIndexes(dir, "other", tmp.resolve("a"));
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      assertThat(seen.add(a.claim("i-web-" + i))).isTrue();
      assertThat(seen.add(b.claim("i-web-" + i))).as("the same key of another state folder").isTrue();
    }
    assertThat(a.claim("i-web-0")).isEqualTo(a.lookup("i-web-0").orElseThrow());
    assertThat(other.claim("i-web-0")).as("another link prefix has indexes of its own").isEqualTo(1);
    long released = a.lookup("i-web-1").orElseThrow();
    a.release("i-web-1");
    assertThat(a.lookup("i-web-1")).isEmpty();
    assertThat(b.claim("i-new")).as("round-robin: not the index just released").isNotEqualTo(released);
  }

  @Test
  void adoptTakesAFreeIndexOnlyAndStaleFoldersLoseTheirClaims() throws Exception {
    Path dir = tmp.resolve("run");
    Path goneFolder = Files.createDirectories(tmp.resolve("gone"));
    LinkIndexes a = new LinkIndexes(dir, "pods", Files.createDirectories(tmp.resolve("a")));
    LinkIndexes gone = new LinkIndexes(dir, "pods", goneFolder);
    assertThat(a.adopt("i-x", 7)).isTrue();
    assertThat(a.adopt("i-x", 7)).isTrue();
    assertThat(gone.adopt("i-y", 7)).as("held by a").isFalse();
    assertThat(gone.adopt("i-y", 8)).isTrue();
    Files.delete(goneFolder);
    a.claim("i-z"); // drops the claims of the folder that is gone
    assertThat(gone.lookup("i-y")).isEmpty();
  }

  @Test
  void theFileGoesWithTheLastClaim() {
    LinkIndexes a = new LinkIndexes(tmp.resolve("run"), "pods", tmp);
    a.claim("i-x");
    assertThat(a.file()).exists();
    a.release("i-x");
    assertThat(a.file()).doesNotExist();
  }
}
