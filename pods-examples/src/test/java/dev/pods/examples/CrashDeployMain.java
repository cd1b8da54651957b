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
 * <p>Arguments: the run folder, the run prefix, the owner label, the disk root, and optionally a recovery point:
 * {@code back-off} (once the pod is READY its domain is destroyed behind the runtime's back; the marker
 * {@code pods-recovery back-off} is printed when the instance is STOPPED with its restart planned) or
 * {@code restarting} (the same, but the marker {@code pods-recovery restarting} is printed once the restart policy
 * started the domain again, while the guest boots).
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

  /** Destroys the READY instance's domain and prints the marker of {@code point} when the runtime gets there. */
  private static void recovery(LibvirtHypervisor hv, dev.pods.Deployment d, String point) throws Exception {
    d.awaitReady(java.time.Duration.ofMinutes(5));
    dev.pods.Instance web = d.instance("web", 0);
    CountDownLatch stopped = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    d.events().subscribe(e -> {
      if (e instanceof dev.pods.PodEvent.StateChanged c && c.to() == dev.pods.InstanceState.STOPPED) {
        stopped.countDown();
      }
    });
    hv.subscribe(e -> {
      if (e.type() == dev.pods.spi.HypervisorEvent.Type.STARTED && web.domainName().equals(e.domain())
          && stopped.getCount() == 0) {
        started.countDown();
      }
    });
    hv.destroy(web.domainName());
    stopped.await();
    if (point.equals("restarting")) {
      started.await(); // the restart policy started the domain again (10 s after the stop): the guest boots
    }
    System.out.println("pods-recovery " + point + " " + web.state() + " " + web.status().reason());
    System.out.flush();
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
    dev.pods.Deployment d = runtime.deploy(pod());
    if (args.length > 4) {
      recovery(hv, d, args[4]);
    }
    new CountDownLatch(1).await(); // the fault point blocks a creation thread; the parent kills this JVM
  }
}
