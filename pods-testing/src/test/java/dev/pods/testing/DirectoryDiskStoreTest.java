package dev.pods.testing;

import dev.pods.spi.DiskStore;
import dev.pods.spi.DiskStoreContract;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class DirectoryDiskStoreTest extends DiskStoreContract {
  @TempDir Path tmp;
  private int n;

  @Override
  protected DiskStore store() {
    n++;
    return new DirectoryDiskStore(tmp.resolve("d" + n));
  }

  @Override
  protected DiskStore reopen() {
    return new DirectoryDiskStore(tmp.resolve("d" + n));
  }

  @Override
  protected boolean blank(DiskStore.Volume v, int bytes) throws IOException {
    return rawBlank(v.path(), bytes);
  }
}
