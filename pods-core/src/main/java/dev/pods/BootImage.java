package dev.pods;

import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a unit's {@link Unit#image() image} resolves to: the files a hypervisor boots an instance from. Either a
 * direct kernel boot ({@code kernel}, optional {@code initrd}, {@code cmdline}), optionally with a base disk, or a
 * disk boot of a base disk alone. The runtime never modifies these files: every instance gets its own overlay on
 * {@code baseDisk}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param kernel absolute path of the kernel image, or {@code null} for a disk boot
 * @param initrd absolute path of the initial ramdisk, or {@code null}
 * @param cmdline the kernel command line (empty for a disk boot)
 * @param baseDisk absolute path of the base disk image (qcow2) the instance's root overlay is made on, or
 *     {@code null} for a diskless guest (which then needs a kernel)
 * @since 0.1
 */
public record BootImage(@Nullable Path kernel, @Nullable Path initrd, String cmdline, @Nullable Path baseDisk) {

  /** Validates: absolute paths, and something to boot. */
  public BootImage {
    Objects.requireNonNull(cmdline, "cmdline");
    for (Path p : new Path[] {kernel, initrd, baseDisk}) {
      if (p != null && !p.isAbsolute()) {
        throw new IllegalArgumentException("boot image paths must be absolute: " + p);
      }
    }
    if (kernel == null && baseDisk == null) {
      throw new IllegalArgumentException("a boot image needs a kernel or a base disk");
    }
    if (kernel == null && initrd != null) {
      throw new IllegalArgumentException("an initrd needs a kernel");
    }
  }

  /** A direct kernel boot without disk (the tiny guest). */
  public static BootImage kernel(Path kernel, @Nullable Path initrd, String cmdline) {
    return new BootImage(kernel, initrd, cmdline, null);
  }

  /** A disk boot of overlays on {@code baseDisk}. */
  public static BootImage disk(Path baseDisk) {
    return new BootImage(null, null, "", baseDisk);
  }
}
