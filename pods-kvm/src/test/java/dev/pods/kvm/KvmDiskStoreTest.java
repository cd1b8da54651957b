package dev.pods.kvm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.kvm.internal.Exec;
import dev.pods.spi.DiskStore;
import dev.pods.spi.DiskStoreContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The qcow2 store against the contract, with the real {@code qemu-img} (skipped where it is missing). */
class KvmDiskStoreTest extends DiskStoreContract {
  @TempDir Path tmp;
  private int n;

  @BeforeEach
  void needsQemuImg() {
    assumeTrue(java.util.stream.Stream.of(System.getenv("PATH").split(":"))
        .anyMatch(d -> Files.isExecutable(Path.of(d, "qemu-img"))), "qemu-img is not installed");
  }

  @Override
  protected DiskStore store() {
    n++;
    return KvmDiskStore.on(DiskImages.at(tmp.resolve("d" + n)));
  }

  @Override
  protected DiskStore reopen() {
    return KvmDiskStore.on(DiskImages.at(tmp.resolve("d" + n)));
  }

  /** The guest's view: the qcow2 converted to raw. */
  @Override
  protected boolean blank(DiskStore.Volume v, int bytes) throws IOException {
    Path raw = tmp.resolve("raw-" + n);
    Exec.run("convert", List.of("qemu-img", "dd", "-f", "qcow2", "-O", "raw", "bs=" + bytes, "count=1",
        "if=" + v.path(), "of=" + raw), null, Duration.ofMinutes(1));
    return rawBlank(raw, bytes);
  }
}
