package dev.pods.testing;

import dev.pods.spi.InstanceFiles;
import dev.pods.spi.InstanceFilesContract;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The plain-files fake passes the {@link InstanceFiles} contract. */
class DirectoryInstanceFilesTest extends InstanceFilesContract {
  @TempDir Path tmp;

  @Override
  protected InstanceFiles files() {
    return new DirectoryInstanceFiles(tmp.resolve("instances"));
  }

  @Override
  protected InstanceFiles reopen() {
    return new DirectoryInstanceFiles(tmp.resolve("instances"));
  }

  @Override
  protected Path baseDisk() throws Exception {
    Path base = tmp.resolve("base.qcow2");
    return Files.exists(base) ? base : Files.writeString(base, "base");
  }
}
