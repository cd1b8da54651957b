package dev.pods.spi;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The named persistent disks of a runtime ({@code mounts: - {type: disk, disks: [+/disk/NAME]}}): volumes that
 * outlive the instances using them. The runtime creates a missing one when an instance first needs it (with
 * {@link #DEFAULT_SIZE_BYTES}), attaches it to that instance's domain, and deletes one only when asked to
 * ({@code runtime.disks().delete(name)}). Module {@code pods-kvm} keeps qcow2 files in its data folder;
 * {@code dev.pods.testing} has a plain-files fake.
 *
 * <p><b>Contract.</b> Thread-safe and blocking; safe for concurrent calls on different names and on one name (a
 * volume is created once). A new volume reads as zeros (blank: the guest formats it). Failures are
 * {@link dev.pods.PodsException}s naming the volume. Volumes outlive the object and the JVM. Whether a volume is
 * in use is the runtime's business, not the store's.
 *
 * @since 0.1
 */
public interface DiskStore {
  /** The size of a volume created on first use: 10 GiB (a sparse file: it takes room as the guest writes). */
  long DEFAULT_SIZE_BYTES = 10L * 1024 * 1024 * 1024;
  /** The rule of volume names (the {@code NAME} of {@code +/disk/NAME}). */
  Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

  /**
   * Creates a blank volume.
   *
   * @throws IllegalArgumentException when the name breaks {@link #NAME} or the size is not positive
   * @throws dev.pods.ConflictException when a volume of that name exists
   */
  Volume create(String name, long sizeBytes);

  /** The volume of that name, created blank with {@code sizeBytes} when there is none; an existing one as it is. */
  Volume ensure(String name, long sizeBytes);

  /** The volume of that name, or empty. */
  Optional<Volume> find(String name);

  /** Every volume, by name. */
  List<Volume> list();

  /** Deletes the volume and its content; a no-op when there is none. */
  void delete(String name);

  /**
   * A volume.
   *
   * @param name its name
   * @param path the image file a domain attaches
   * @param format the image's format
   * @param sizeBytes the size the guest sees
   * @param allocatedBytes the room it takes on the host ({@code <= sizeBytes} plus format overhead)
   */
  record Volume(String name, Path path, DomainDisk.Format format, long sizeBytes, long allocatedBytes) {
    /** Validates. */
    public Volume {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(format, "format");
      if (sizeBytes <= 0 || allocatedBytes < 0) {
        throw new IllegalArgumentException("volume " + name + ": sizes must be positive");
      }
    }
  }

  /**
   * Checks a name and a size.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  static void check(String name, long sizeBytes) {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid disk name '" + name + "': " + NAME.pattern());
    }
    if (sizeBytes <= 0) {
      throw new IllegalArgumentException("disk " + name + ": the size must be positive, not " + sizeBytes);
    }
  }
}
