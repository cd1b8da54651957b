package dev.pods.kvm;

import com.sun.jna.NativeLibrary;
import dev.pods.ImagePolicy;
import dev.pods.ImageResolver;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorConfig;
import dev.pods.spi.HypervisorProvider;
import dev.pods.spi.InstanceFiles;
import java.nio.file.Path;
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

  /** {@link KvmInstanceFiles} on {@link DiskImages#at(Path) DiskImages.at(dir)}. */
  @Override
  public InstanceFiles instanceFiles(Path dir) {
    return KvmInstanceFiles.on(DiskImages.at(dir));
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
