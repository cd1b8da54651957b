package dev.pods.spi;

import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a domain boots: from its first disk (cloud images with their own boot loader), or by direct kernel boot
 * (a kernel, an optional initrd and a command line given by the host).
 *
 * <p>Immutable values; create them with {@link #disk()} and {@link #kernel(Path, Path, String)}.
 */
public sealed interface DomainBoot permits DomainBoot.Disk, DomainBoot.Kernel {

  /** Boot from the first disk. */
  static DomainBoot disk() {
    return Disk.INSTANCE;
  }

  /**
   * Direct kernel boot.
   *
   * @param kernel absolute path of the kernel image
   * @param initrd absolute path of the initial ramdisk, or {@code null}
   * @param cmdline the kernel command line (may be empty)
   */
  static DomainBoot kernel(Path kernel, @Nullable Path initrd, String cmdline) {
    return new Kernel(kernel, initrd, cmdline);
  }

  /** Boot from the first disk. */
  final class Disk implements DomainBoot {
    static final Disk INSTANCE = new Disk();

    private Disk() {}

    @Override
    public String toString() {
      return "DomainBoot.disk()";
    }
  }

  /**
   * Direct kernel boot.
   *
   * @param kernel absolute path of the kernel image
   * @param initrd absolute path of the initial ramdisk, or {@code null}
   * @param cmdline the kernel command line
   */
  record Kernel(Path kernel, @Nullable Path initrd, String cmdline) implements DomainBoot {
    /** Validates: absolute paths, non-null command line. */
    public Kernel {
      Objects.requireNonNull(kernel, "kernel");
      Objects.requireNonNull(cmdline, "cmdline");
      if (!kernel.isAbsolute()) {
        throw new IllegalArgumentException("kernel path must be absolute: " + kernel);
      }
      if (initrd != null && !initrd.isAbsolute()) {
        throw new IllegalArgumentException("initrd path must be absolute: " + initrd);
      }
    }
  }
}
