package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which cached guest images a new build deletes: only those of the same kind unused for a while. */
class GuestImagesPruneTest {
  @TempDir Path tmp;

  private Path image(String name, Duration unusedFor) throws IOException {
    Path d = Files.createDirectories(tmp.resolve(name));
    Path c = Files.writeString(d.resolve(".complete"), "built\n");
    Files.setLastModifiedTime(c, FileTime.fromMillis(System.currentTimeMillis() - unusedFor.toMillis()));
    return d;
  }

  @Test
  void keepsRecentlyUsedImagesOfOtherInputsAndOtherKinds() throws IOException {
    Path fresh = image("tiny-new", Duration.ZERO);
    Path inUse = image("tiny-other-checkout", Duration.ofHours(3)); // e.g. another branch's tiny guest
    Path stale = image("tiny-old", GuestImages.PRUNE_AFTER.plusHours(1));
    Path staleFull = image("full-old", GuestImages.PRUNE_AFTER.plusHours(1));
    Path unfinished = Files.createDirectories(tmp.resolve("tiny-building"));

    GuestImages.at(tmp).pruneOthers("tiny", fresh);

    assertThat(fresh).exists();
    assertThat(inUse).exists();
    assertThat(stale).doesNotExist();
    assertThat(staleFull).as("another kind").exists();
    assertThat(unfinished).as("not complete: a build in progress").exists();
  }
}
