package dev.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How runtimes are built: required parts, local discovery, and one runtime per state folder. */
class RuntimeBuilderTest {
  @TempDir Path tmp;

  private PodRuntime.Builder fakes(Path state) throws IOException {
    BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"), null, "");
    return PodRuntime.builder()
        .hypervisor(InMemoryHypervisor.create())
        .networkDriver(new InMemoryNetworkDriver())
        .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances")))
        .images(name -> image)
        .stateDir(state);
  }

  @Test
  void aPlainBuilderNamesWhatIsMissing() {
    assertThatThrownBy(() -> PodRuntime.builder().stateDir(tmp).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("hypervisor, networkDriver, instanceFiles, images and stateDir are required")
        .hasMessageContaining("PodRuntime.localBuilder()");
  }

  @Test
  void aSecondRuntimeOnTheSameStateFolderIsRefusedUntilTheFirstCloses() throws IOException {
    Path state = tmp.resolve("state");
    PodRuntime first = fakes(state).build();
    try {
      assertThat(Files.readString(state.resolve("runtime.lock")).strip())
          .isEqualTo(Long.toString(ProcessHandle.current().pid()));
      assertThatThrownBy(() -> fakes(state).build())
          .isInstanceOf(ConflictException.class)
          .hasMessageContaining(state.toString());
      try (PodRuntime other = fakes(tmp.resolve("other")).build()) {
        assertThat(other.deployments()).isEmpty();
      }
    } finally {
      first.close();
    }
    try (PodRuntime again = fakes(state).build()) {
      assertThat(again.deployments()).isEmpty();
    }
  }

  @Test
  void localDiscoveryWithoutBackendsListsWhatToAdd() {
    // pods-core's tests have no provider on the class path: the error says which module brings one
    assertThatThrownBy(() -> PodRuntime.localBuilder().dataDir(tmp).build())
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("pods-kvm");
    assertThat(tmp.resolve("state")).doesNotExist();
  }

  @Test
  void localPartsGivenExplicitlyAreNotDiscovered() throws IOException {
    Path data = tmp.resolve("data");
    try (PodRuntime r = fakes(data.resolve("elsewhere")).build();
        PodRuntime local = PodRuntime.localBuilder()
            .dataDir(data)
            .hypervisor(InMemoryHypervisor.create())
            .networkDriver(new InMemoryNetworkDriver())
            .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances")))
            .images(name -> BootImage.kernel(tmp.resolve("vmlinuz"), null, ""))
            .build()) {
      assertThat(local.owner()).isEqualTo("dev.pods/local=" + data.toAbsolutePath().normalize());
      assertThat(data.resolve("state/runtime.lock")).exists();
      assertThat(r.owner()).startsWith("dev.pods/session=");
    }
  }

  @Test
  void networkPrefixesComeFromNamePrefixes() {
    assertThat(PodRuntime.Builder.networkPrefix("pods-")).isEqualTo("pods");
    assertThat(PodRuntime.Builder.networkPrefix("pr0a1b-")).isEqualTo("pr0a1b");
    assertThat(PodRuntime.Builder.networkPrefix("42-Test_Run-With-A-Long-Name")).isEqualTo("testrunwitha");
    assertThat(PodRuntime.Builder.networkPrefix("--")).isEqualTo("pods");
  }

  @Test
  void theDefaultDataFolderFollowsTheSystemProperty() {
    String old = System.getProperty("pods.dataDir");
    System.setProperty("pods.dataDir", tmp.resolve("x/../d").toString());
    try {
      assertThat(PodRuntime.defaultDataDir()).isEqualTo(tmp.resolve("d").toAbsolutePath());
    } finally {
      if (old == null) {
        System.clearProperty("pods.dataDir");
      } else {
        System.setProperty("pods.dataDir", old);
      }
    }
  }
}
