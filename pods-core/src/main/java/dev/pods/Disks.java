package dev.pods;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The named persistent disks of a {@link PodRuntime} ({@code mounts: - {type: disk, path, disks: [+/disk/NAME]}}):
 * {@link PodRuntime#disks()}. A disk is created blank ({@link dev.pods.spi.DiskStore#DEFAULT_SIZE_BYTES}) when an
 * instance first needs it, or beforehand with {@link #create}; the guest formats a blank disk (ext4) and mounts it
 * before the unit's blocks run, on every boot. It outlives its instance: recreation, self-healing, a new runtime
 * and adoption attach the same disk, {@link Deployment#destroy()} keeps it, and only {@link #delete} removes it.
 * An instance of a unit with {@code count > 1} gets the disk of its index in the mount's list.
 *
 * <p><b>Contract.</b> Thread-safe and blocking (the disk store's I/O). Failures are {@link PodsException}s naming
 * the disk.
 *
 * @since 0.1
 */
public interface Disks {

  /** Every disk of the runtime's store, by name, with the instance using it. */
  List<Disk> list();

  /** The disk of that name, or empty. */
  Optional<Disk> find(String name);

  /**
   * Creates a blank disk of {@code sizeBytes}, for an instance to find when it is deployed.
   *
   * @throws IllegalArgumentException when the name or size is invalid
   * @throws ConflictException when a disk of that name exists
   * @throws IllegalStateException when the runtime has no disk store
   */
  Disk create(String name, long sizeBytes);

  /**
   * Deletes a disk and its data; a no-op when there is none.
   *
   * @throws ConflictException while an instance of a deployment of this runtime uses it (naming the instance)
   */
  void delete(String name);

  /**
   * A disk.
   *
   * @param name its name ({@code +/disk/NAME})
   * @param sizeBytes the size the guest sees
   * @param allocatedBytes the room it takes on the host
   * @param usedBy the instance using it ({@code POD/INSTANCE}), or {@code null}
   */
  record Disk(String name, long sizeBytes, long allocatedBytes, @Nullable String usedBy) {
    /** Validates. */
    public Disk {
      Objects.requireNonNull(name, "name");
    }
  }
}
