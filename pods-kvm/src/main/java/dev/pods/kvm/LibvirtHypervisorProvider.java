package dev.pods.kvm;

import com.sun.jna.NativeLibrary;
import dev.pods.BackendUnavailableException;
import dev.pods.ImagePolicy;
import dev.pods.ImageResolver;
import dev.pods.kvm.internal.QemuReach;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorConfig;
import dev.pods.spi.HypervisorProvider;
import dev.pods.spi.InstanceFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * The {@link HypervisorProvider} for {@link LibvirtHypervisor}, registered with {@link java.util.ServiceLoader}.
 * Available where libvirt's client library ({@code libvirt.so.0}, Debian's {@code libvirt0}) can be loaded;
 * whether a daemon answers is found out by {@link #create}. Stateless and thread-safe.
 */
public final class LibvirtHypervisorProvider implements HypervisorProvider {
  /** Creates the provider (called by {@link java.util.ServiceLoader}). */
  public LibvirtHypervisorProvider() {}

  @Override
  public String name() {
    return "libvirt";
  }

  @Override
  public int priority() {
    return 100;
  }

  @Override
  public Optional<String> unavailableReason() {
    try {
      NativeLibrary.getInstance("virt");
      return Optional.empty();
    } catch (UnsatisfiedLinkError e) {
      return Optional.of("libvirt's client library cannot be loaded (install libvirt0): " + e.getMessage());
    }
  }

  @Override
  public Hypervisor create(HypervisorConfig config) {
    LibvirtHypervisor.Builder b = LibvirtHypervisor.builder().acceleration(config.acceleration());
    if (config.uri() != null) {
      b.uri(config.uri());
    }
    return b.build();
  }

  /**
   * {@link KvmInstanceFiles} on {@link DiskImages#at(Path) DiskImages.at(dir)}.
   *
   * @throws BackendUnavailableException when this JVM runs as root (so QEMU runs under {@code qemu:///system} as
   *     the account of {@code /etc/libvirt/qemu.conf}) and that account cannot reach {@code dir}: the message names
   *     the folder in the way and what to change
   */
  @Override
  public InstanceFiles instanceFiles(Path dir) {
    if ("root".equals(System.getProperty("user.name"))) {
      checkReach(dir, Path.of("/etc/libvirt/qemu.conf"), Path.of("/etc/passwd"), Path.of("/etc/group"));
    }
    return KvmInstanceFiles.on(DiskImages.at(dir));
  }

  /** {@link KvmDiskStore} on {@link DiskImages#at(Path) DiskImages.at(dir)}: {@code dir/data/<name>.qcow2}. */
  @Override
  public dev.pods.spi.DiskStore disks(Path dir) {
    return KvmDiskStore.on(DiskImages.at(dir));
  }

  /** Refuses {@code dir} when the account QEMU runs as (per the given files) cannot search every folder to it. */
  static void checkReach(Path dir, Path qemuConf, Path passwd, Path group) {
    try {
      Optional<QemuReach.Account> a = QemuReach.account(qemuConf, passwd, group);
      if (a.isEmpty()) {
        return;
      }
      Optional<Path> in = QemuReach.blocked(dir, a.get());
      if (in.isPresent()) {
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(in.get()));
        throw new BackendUnavailableException("QEMU runs as '" + a.get().name() + "' and cannot reach the data folder "
            + dir + ": " + in.get() + " (" + mode + ") does not let it in; run `chmod o+x " + in.get()
            + "`, or choose a data folder below one it can enter (e.g. under /var/lib)");
      }
    } catch (IOException e) {
      // the check is a courtesy: a folder it cannot read is reported by the deploy itself
    }
  }

  /**
   * {@link GuestCatalog} on {@link GuestImages#configured()}, copies and downloads cached in
   * {@code DiskImages.at(dir, policy)}.
   */
  @Override
  public ImageResolver images(Path dir, ImagePolicy policy) {
    return GuestCatalog.of(GuestImages.configured(), DiskImages.at(dir, policy));
  }
}
