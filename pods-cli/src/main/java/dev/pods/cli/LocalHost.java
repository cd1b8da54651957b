package dev.pods.cli;

import dev.pods.BootImage;
import dev.pods.ImageResolver;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.KvmInstanceFiles;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.net.LinuxNetworkDriver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The runtime {@code pods up} deploys with: libvirt ({@link LibvirtHypervisor#configuredUri()}), the Linux network
 * driver, qcow2/ISO instance files and the guest images of {@link GuestImages#configured()}, all on this host,
 * with their state under one folder. Owns what it opens and closes it in {@link #close()} (the runtime first);
 * closing leaves deployments running. Not thread-safe; built and closed by one thread.
 */
final class LocalHost implements AutoCloseable {
  /** The image name the example templates use ({@code +/image/debian12}). */
  static final String DEBIAN12 = "debian12";

  private final LibvirtHypervisor hypervisor;
  private final LinuxNetworkDriver driver;
  private final PodRuntime runtime;
  private final String owner;

  private LocalHost(LibvirtHypervisor hypervisor, LinuxNetworkDriver driver, PodRuntime runtime, String owner) {
    this.hypervisor = hypervisor;
    this.driver = driver;
    this.runtime = runtime;
    this.owner = owner;
  }

  /** What {@code pods up}'s options say about the host. */
  record Options(
      Path stateDir, String prefix, boolean tiny, @Nullable String hostNamespace,
      PodRuntime.@Nullable PublicNetwork publicNetwork) {}

  /**
   * Opens libvirt and the network driver and builds the runtime. {@code images} resolves the templates' images
   * (see {@link #images}).
   *
   * @throws PodsException when libvirt or the network state cannot be opened
   */
  static LocalHost open(Options o, ImageResolver images) {
    String owner = "dev.pods/cli=" + o.prefix() + "-" + ProcessHandle.current().pid();
    LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    LinuxNetworkDriver driver = null;
    try {
      driver = LinuxNetworkDriver.builder().stateDir(o.stateDir().resolve("net")).prefix(o.prefix()).build();
      PodRuntime runtime = PodRuntime.builder()
          .hypervisor(hv)
          .networkDriver(driver)
          .instanceFiles(KvmInstanceFiles.on(DiskImages.at(o.stateDir().resolve("disks"))))
          .images(images)
          .stateDir(o.stateDir().resolve("runtime"))
          .hostNamespace(o.hostNamespace())
          .publicNetwork(o.publicNetwork())
          .owner(owner)
          .namePrefix(o.prefix() + "-")
          .build();
      return new LocalHost(hv, driver, runtime, owner);
    } catch (RuntimeException e) {
      if (driver != null) {
        driver.close();
      }
      hv.close();
      throw e;
    }
  }

  /**
   * The image resolver of {@code pods up}: {@value #DEBIAN12} (also as {@code +/image/debian12}) is the full
   * cloud-init Debian 12 guest, or with {@code tiny} the busybox tiny guest (any image name then). Both are
   * built on first use and cached; {@code tiny()}/{@code full()} are asked once, before deploying, by
   * {@link #prepare}.
   */
  static ImageResolver images(boolean tiny) {
    GuestImages g = GuestImages.configured();
    return image -> {
      if (tiny) {
        GuestImages.Tiny t = g.tiny();
        return BootImage.kernel(t.kernel(), t.initrd(), t.cmdline(""));
      }
      String name = image.startsWith("+/image/") ? image.substring("+/image/".length()) : image;
      if (!name.equals(DEBIAN12)) {
        throw new PodsException("unknown image '" + image + "': this host knows " + DEBIAN12
            + " (or run with --tiny to boot every unit from the tiny guest)");
      }
      GuestImages.Full f = g.full();
      return new BootImage(f.kernel(), f.initrd(), f.cmdline(), f.disk());
    };
  }

  /** Builds (or finds in the cache) every image the units name, so that deploying does not wait for it. */
  static List<String> prepare(ImageResolver resolver, List<String> images) {
    List<String> done = new ArrayList<>();
    for (String i : images) {
      resolver.resolve(i);
      done.add(i);
    }
    return done;
  }

  PodRuntime runtime() {
    return runtime;
  }

  String owner() {
    return owner;
  }

  /** Closes the runtime, then the driver and libvirt; deployments keep running. */
  @Override
  public void close() {
    try {
      runtime.close();
    } finally {
      try {
        driver.close();
      } finally {
        hypervisor.close();
      }
    }
  }
}
