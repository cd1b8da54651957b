package dev.pods.spi;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A disk image attached to a domain as a virtio block device. The first disk of a spec becomes {@code vda}, the
 * second {@code vdb}, and so on.
 *
 * <p>Immutable. The file is not owned by the hypervisor: creating and deleting it is the caller's business
 * (see the disk helpers of the backend module).
 *
 * @param path absolute path of the image file, readable by the hypervisor's emulator process
 * @param format the image format
 * @param readOnly whether the guest sees the disk read-only
 * @param serial the serial number the guest sees ({@code /sys/block/vdX/serial}: 1 to 20 letters, digits,
 *     {@code -} or {@code _}), by which it finds the disk whatever its device name; or {@code null}
 */
public record DomainDisk(Path path, Format format, boolean readOnly, @org.jspecify.annotations.Nullable String serial) {
  /** Image formats a domain disk can have. */
  public enum Format {
    /** QEMU copy-on-write v2 (overlays, cloud images). */
    QCOW2,
    /** A plain image. */
    RAW
  }

  /** Validates: absolute path, non-null format, a serial of the allowed characters. */
  public DomainDisk {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(format, "format");
    if (!path.isAbsolute()) {
      throw new IllegalArgumentException("disk path must be absolute: " + path);
    }
    if (serial != null && !serial.matches("[A-Za-z0-9_-]{1,20}")) {
      throw new IllegalArgumentException("a disk serial is 1 to 20 letters, digits, '-' or '_', not '" + serial + "'");
    }
  }

  /** A disk without serial number. */
  public DomainDisk(Path path, Format format, boolean readOnly) {
    this(path, format, readOnly, null);
  }

  /** A writable qcow2 disk. */
  public static DomainDisk qcow2(Path path) {
    return new DomainDisk(path, Format.QCOW2, false);
  }
}
