package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.DiskStore;
import dev.pods.spi.DomainDisk;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DiskListTest {
  @Test
  void tableShowsSizeRoomAndUser() {
    DiskStore.Volume a = new DiskStore.Volume("shop-db", Path.of("/d/data/shop-db.qcow2"), DomainDisk.Format.QCOW2,
        10L << 30, 200L << 10);
    DiskStore.Volume b = new DiskStore.Volume("spare", Path.of("/d/data/spare.qcow2"), DomainDisk.Format.QCOW2,
        1L << 30, 0);
    String t = DiskList.table(List.of(a, b), Map.of(Path.of("/d/data/shop-db.qcow2"), "shop/db-0 (domain p-x)"));
    assertThat(t.lines().toList()).hasSize(3);
    assertThat(t.lines().toList().get(1)).matches("shop-db\\s+10\\.0G\\s+200K\\s+shop/db-0 \\(domain p-x\\)");
    assertThat(t.lines().toList().get(2)).matches("spare\\s+1\\.0G\\s+0B\\s+-");
  }
}
