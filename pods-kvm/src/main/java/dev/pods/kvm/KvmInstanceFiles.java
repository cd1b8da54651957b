package dev.pods.kvm;

import dev.pods.BackendException;
import dev.pods.spi.InstanceFiles;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * {@link InstanceFiles} on a {@link DiskImages} folder: each instance's folder is
 * {@link DiskImages#instanceDir(String)}, holding a qcow2 overlay {@code root.qcow2} on the base image (copied into
 * the base cache first), the NoCloud seed {@code seed.iso} written by {@link SeedIso} (agent and agent config for the
 * tiny guest's init and cloud-init alike) and the console log {@code console.log}.
 *
 * <p>Thread-safe (as {@link DiskImages}); every method blocks on {@code qemu-img} or {@code genisoimage}.
 *
 * @since 0.1
 */
public final class KvmInstanceFiles implements InstanceFiles {
  private final DiskImages disks;

  private KvmInstanceFiles(DiskImages disks) {
    this.disks = disks;
  }

  /** Instance files in {@code disks}. */
  public static KvmInstanceFiles on(DiskImages disks) {
    return new KvmInstanceFiles(Objects.requireNonNull(disks, "disks"));
  }

  @Override
  public Prepared prepare(String domain, Seed seed, @Nullable Path baseDisk, long diskSizeBytes) {
    disks.deleteInstance(domain);
    Path dir = disks.instanceDir(domain);
    try {
      SeedIso.Builder b = SeedIso.builder(domain).hostname(seed.hostname()).agent(seed.agent(), seed.agentConfig());
      for (Map.Entry<String, byte[]> e : seed.extraFiles().entrySet()) {
        b.file(e.getKey(), e.getValue(), false);
      }
      Path iso = b.build().writeTo(dir.resolve("seed.iso"));
      Path disk = null;
      if (baseDisk != null) {
        Path base = disks.base(ImageSource.file(baseDisk), p -> {});
        disk = disks.overlay(base, dir.resolve("root.qcow2"), diskSizeBytes);
      }
      return new Prepared(dir, disk, iso, dir.resolve("console.log"));
    } catch (RuntimeException e) {
      try {
        disks.deleteInstance(domain);
      } catch (BackendException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  @Override
  public void delete(String domain) {
    disks.deleteInstance(domain);
  }
}
