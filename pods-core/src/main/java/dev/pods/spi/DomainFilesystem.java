package dev.pods.spi;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A folder of the host shared into a domain with virtiofs: the guest mounts it with
 * {@code mount -t virtiofs TAG PATH}. A domain with one gets shared memory ({@code memfd}), which virtiofs needs;
 * the hypervisor starts a {@code virtiofsd} per folder. The share itself is writable: Debian 12's virtiofsd has no
 * read-only mode, so a read-only mount is the guest's ({@code mount -o ro}), which guards against mistakes, not
 * against root in the guest.
 *
 * <p>Immutable.
 *
 * @param source the host folder (absolute; must exist when the domain starts)
 * @param tag the mount tag the guest sees: 1 to 36 letters, digits, {@code -} or {@code _}
 */
public record DomainFilesystem(Path source, String tag) {
  /** Validates. */
  public DomainFilesystem {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(tag, "tag");
    if (!source.isAbsolute()) {
      throw new IllegalArgumentException("a shared folder is absolute: " + source);
    }
    if (!tag.matches("[A-Za-z0-9_-]{1,36}")) {
      throw new IllegalArgumentException("a mount tag is 1 to 36 letters, digits, '-' or '_', not '" + tag + "'");
    }
  }
}
