package dev.pods.kvm;

import dev.pods.kvm.internal.Exec;
import dev.pods.spi.InstanceFiles;
import dev.pods.spi.InstanceFilesContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** {@link KvmInstanceFiles} passes the {@link InstanceFiles} contract: real genisoimage and qemu-img, no guest. */
class KvmInstanceFilesContractTest extends InstanceFilesContract {
  @TempDir Path tmp;

  @BeforeAll
  static void tools() {
    Tools.assumeInstalled("genisoimage", "genisoimage");
    Tools.assumeInstalled("qemu-img", "qemu-utils");
  }

  @Override
  protected InstanceFiles files() {
    return KvmInstanceFiles.on(DiskImages.at(tmp.resolve("disks")));
  }

  @Override
  protected InstanceFiles reopen() {
    return KvmInstanceFiles.on(DiskImages.at(tmp.resolve("disks")));
  }

  @Override
  protected Path baseDisk() {
    Path base = tmp.resolve("base.qcow2");
    if (!Files.exists(base)) {
      Exec.run("qemu-img", List.of("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "16M"), null,
          Duration.ofSeconds(30));
    }
    return base;
  }
}
