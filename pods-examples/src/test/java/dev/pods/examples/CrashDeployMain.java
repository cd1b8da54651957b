package dev.pods.examples;

import dev.pods.BootImage;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.KvmInstanceFiles;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.net.LinuxNetworkDriver;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The child JVM of {@link RuntimeCrashIT}: builds the runtime of a crash-test run and deploys {@link #pod()}, with
 * the runtime's fault point (system property {@code dev.pods.runtime.pauseAt}) set by the parent, which kills this
 * JVM (kill -9) as soon as the point's marker appears on standard output. Never ends by itself.
 *
 * <p>Arguments: the run folder, the run prefix, the owner label.
 */
public final class CrashDeployMain {
  private CrashDeployMain() {}

  /** The pod every crash test deploys: one tiny guest. */
  static Pod pod() {
    return Pod.builder().name("crash")
        .unit(Unit.builder().name("web").image("tiny").memoryMib(192)
            // long enough for a runtime killed while it runs to be replaced before it ends
            .script(Script.shell(Phase.INITIAL, "sleep 4\necho \"web up as $(hostname)\"\n")).build())
        .build();
  }

  /** The runtime of a run (the parent builds the same one to adopt what this JVM left). */
  static PodRuntime runtime(LibvirtHypervisor hv, LinuxNetworkDriver driver, Path dir, String prefix, String owner,
      Path diskRoot) throws Exception {
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    return PodRuntime.builder()
        .hypervisor(hv)
        .networkDriver(driver)
        .instanceFiles(KvmInstanceFiles.on(DiskImages.at(diskRoot)))
        .images(image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")))
        .stateDir(dir.resolve("state"))
        .hostNamespace(prefix + "x-host")
        .owner(owner)
        .namePrefix(prefix + "-")
        .build();
  }

  /** The network driver of a run. */
  static LinuxNetworkDriver driver(Path dir, String prefix) {
    return LinuxNetworkDriver.builder().stateDir(dir.resolve("net")).prefix(prefix).build();
  }

  /** Deploys and waits to be killed. */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    String prefix = args[1];
    String owner = args[2];
    Path diskRoot = Path.of(args[3]);
    LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    LinuxNetworkDriver driver = driver(dir, prefix);
    PodRuntime runtime = runtime(hv, driver, dir, prefix, owner, diskRoot);
    System.out.println("crash-child: deploying");
    System.out.flush();
    runtime.deploy(pod());
    new CountDownLatch(1).await(); // the fault point blocks a creation thread; the parent kills this JVM
  }
}
