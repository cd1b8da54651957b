package dev.pods.spi;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A folder of the host shared into a domain with virtiofs: the guest mounts it with
 * {@code mount -t virtiofs TAG PATH}. A domain with one gets shared memory ({@code memfd}), which virtiofs needs;
 * the hypervisor starts a {@code virtiofsd} per folder. A {@code readOnly} share is read-only on the host side, so
 * that root in the guest cannot write to the folder whatever it mounts (Debian 12's virtiofsd and libvirt have no
 * read-only mode: {@code dev.pods.kvm.LibvirtHypervisor} shares a read-only bind mount of the folder instead).
 *
 * <p>Immutable.
 *
 * @param source the host folder (absolute; must exist when the domain starts)
 * @param tag the mount tag the guest sees: 1 to 36 letters, digits, {@code -} or {@code _}
 * @param readOnly whether the host refuses every write through the share
 */
public record DomainFilesystem(Path source, String tag, boolean readOnly) {
  /** A writable share of {@code source} under {@code tag}. */
  public DomainFilesystem(Path source, String tag) {
    this(source, tag, false);
  }

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
