package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.BackendException;
import dev.pods.kvm.internal.Exec;
import dev.pods.spi.DomainFilesystem;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReadOnlyShares}: where shares live, how libvirt's view maps back to the folder, and that removing them
 * never reaches into a folder (fast, plain files); the real bind mounts as root in {@link Mounts}.
 */
class ReadOnlySharesTest {
  @TempDir Path tmp;

  @Test
  void aShareLivesUnderTheRootByEncodedDomainAndTag() {
    ReadOnlyShares s = new ReadOnlyShares(tmp.resolve("shares"));
    assertThat(s.mountPoint("pod/x y", "podsfs0"))
        .isEqualTo(tmp.resolve("shares").resolve(DiskImages.encode("pod/x y")).resolve("podsfs0"));
    assertThat(s.mountPoint("pod/x y", "podsfs0").getParent().getParent()).isEqualTo(tmp.resolve("shares"));
  }

  @Test
  void onlyOurMountPointsWithARecordMapBackToTheirFolderAsReadOnly() throws Exception {
    ReadOnlyShares s = new ReadOnlyShares(tmp.resolve("shares"));
    Path mp = s.mountPoint("d1", "podsfs0");
    Files.createDirectories(mp);
    Files.writeString(mp.resolveSibling("podsfs0.source"), "/srv/www\n");
    assertThat(s.original(new DomainFilesystem(mp, "podsfs0"))).isEqualTo(new DomainFilesystem(Path.of("/srv/www"),
        "podsfs0", true));
    DomainFilesystem other = new DomainFilesystem(Path.of("/srv/data"), "podsfs1");
    assertThat(s.original(other)).isSameAs(other);
    DomainFilesystem unrecorded = new DomainFilesystem(s.mountPoint("d1", "podsfs2"), "podsfs2");
    assertThat(s.original(unrecorded)).isSameAs(unrecorded);
    assertThat(s.domains()).containsExactly("d1");
  }

  @Test
  void releaseRemovesWhatAShareLeftAndIsANoOpWithoutOne() throws Exception {
    ReadOnlyShares s = new ReadOnlyShares(tmp.resolve("shares"));
    s.release("never");
    Path mp = s.mountPoint("d1", "podsfs0");
    Files.createDirectories(mp);
    Files.writeString(mp.resolveSibling("podsfs0.source"), "/srv/www");
    s.release("d1");
    assertThat(mp.getParent()).doesNotExist();
    assertThat(s.domains()).isEmpty();
  }

  @Test
  void releaseNeverDeletesIntoAFolderThatIsNotAnEmptyMountPoint() throws Exception {
    ReadOnlyShares s = new ReadOnlyShares(tmp.resolve("shares"));
    Path mp = s.mountPoint("d1", "podsfs0");
    Files.createDirectories(mp);
    Files.writeString(mp.resolve("precious.txt"), "host data");
    assertThatThrownBy(() -> s.release("d1")).isInstanceOf(BackendException.class)
        .hasMessageContaining("cannot remove the mount point " + mp);
    assertThat(mp.resolve("precious.txt")).hasContent("host data");
  }

  /** The real bind mounts: needs root and {@code mount}. */
  @Nested
  @Tag("system")
  class Mounts {
    @Test
    void aShareIsAReadOnlyBindMountFoundAgainMountedAgainAndRemoved() throws Exception {
      assumeTrue("root".equals(System.getProperty("user.name")), "bind mounts need root");
      ReadOnlyShares s = new ReadOnlyShares(tmp.resolve("shares"));
      Path folder = Files.createDirectories(tmp.resolve("folder"));
      Files.writeString(folder.resolve("hello.txt"), "from the host");
      try {
        DomainFilesystem shared = s.ensure("d1", new DomainFilesystem(folder, "podsfs0", true));
        Path mp = s.mountPoint("d1", "podsfs0");
        assertThat(shared).isEqualTo(new DomainFilesystem(mp, "podsfs0", false));
        assertThat(mp.resolve("hello.txt")).hasContent("from the host");
        assertThat(ReadOnlyShares.isReadOnlyMount(mp)).isTrue();
        assertThatThrownBy(() -> Files.writeString(mp.resolve("new.txt"), "x"))
            .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
        assertThat(folder.resolve("new.txt")).doesNotExist();
        assertThat(s.original(shared)).isEqualTo(new DomainFilesystem(folder, "podsfs0", true));

        // found again: a second ensure keeps the mount (one mount, not two stacked)
        s.ensure("d1", new DomainFilesystem(folder, "podsfs0", true));
        assertThat(mountsAt(mp)).isEqualTo(1);

        // gone after a host reboot: mounted again
        Exec.run("test", List.of("umount", mp.toString()), null, Duration.ofSeconds(30));
        assertThat(ReadOnlyShares.isMountPoint(mp)).isFalse();
        s.ensure("d1", new DomainFilesystem(folder, "podsfs0", true));
        assertThat(ReadOnlyShares.isReadOnlyMount(mp)).isTrue();
        assertThat(mp.resolve("hello.txt")).hasContent("from the host");

        s.release("d1");
        assertThat(ReadOnlyShares.isMountPoint(mp)).isFalse();
        assertThat(mp.getParent()).doesNotExist();
        assertThat(folder.resolve("hello.txt")).hasContent("from the host");
      } finally {
        s.release("d1");
      }
    }

    @Test
    void aShareThatCannotBeMadeLeavesNothing() throws Exception {
      assumeTrue("root".equals(System.getProperty("user.name")), "bind mounts need root");
      ReadOnlyShares s = new ReadOnlyShares(tmp.resolve("shares"));
      Path missing = tmp.resolve("missing");
      assertThatThrownBy(() -> s.ensure("d1", new DomainFilesystem(missing, "podsfs0", true)))
          .isInstanceOf(BackendException.class).hasMessageContaining("shared folder " + missing + " is not a folder");
      assertThat(s.mountPoint("d1", "podsfs0").getParent()).doesNotExist();
      assertThat(s.domains()).isEmpty();
    }

    private long mountsAt(Path mp) throws Exception {
      return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
          .filter(l -> l.split(" ")[4].equals(mp.toString())).count();
    }
  }
}
