package dev.pods.kvm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.spi.DomainState;
import java.nio.file.Files;
import java.nio.file.Path;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;

/** Skips tests (JUnit assumptions, with the reason) when the host cannot run them. */
final class LibvirtAvailability {
  private LibvirtAvailability() {}

  /** libvirt.so.0 must be loadable (package libvirt0). */
  static void assumeLibrary() {
    String reason = null;
    try {
      org.libvirt.Library.getVersion();
    } catch (UnsatisfiedLinkError | NoClassDefFoundError | LibvirtException e) {
      reason = "libvirt.so.0 cannot be loaded (install libvirt0): " + e;
    }
    assumeTrue(reason == null, reason);
  }

  /** A running libvirtd with QEMU, as root, with genisoimage and qemu-img. */
  static void assumeSystem() {
    assumeLibrary();
    String reason = null;
    if (!"root".equals(System.getProperty("user.name"))) {
      reason = "real-VM tests need root";
    } else if (!Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64"))) {
      reason = "qemu-system-x86 is not installed";
    } else if (!Files.isExecutable(Path.of("/usr/bin/qemu-img"))) {
      reason = "qemu-utils is not installed";
    } else if (!Files.isExecutable(Path.of("/usr/bin/genisoimage"))) {
      reason = "genisoimage is not installed";
    } else {
      try {
        dev.pods.kvm.internal.EventLoop.ensureRunning();
        Connect c = new Connect(LibvirtHypervisor.configuredUri());
        c.close();
      } catch (LibvirtException | RuntimeException e) {
        reason = "libvirtd does not answer on " + LibvirtHypervisor.configuredUri() + " (start virtlogd -d; "
            + "libvirtd -d): " + e.getMessage();
      }
    }
    assumeTrue(reason == null, reason);
    assumeTrue(DomainState.MISSING != null);
  }
}
