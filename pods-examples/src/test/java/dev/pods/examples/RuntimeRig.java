package dev.pods.examples;

import static dev.pods.examples.HostTools.check;
import static dev.pods.examples.HostTools.deleteTree;
import static dev.pods.examples.HostTools.namespaces;
import static dev.pods.examples.HostTools.processesMentioning;
import static dev.pods.examples.HostTools.removeNamespace;
import static dev.pods.examples.HostTools.rootLinks;
import static dev.pods.examples.HostTools.run;
import static dev.pods.examples.HostTools.step;

import dev.pods.ImageResolver;
import dev.pods.PodRuntime;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.KvmInstanceFiles;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.kvm.Reaper;
import dev.pods.net.LinuxNetworkDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@link PodRuntime} on the real parts for system tests and benchmarks: libvirt ({@code qemu:///system} unless
 * configured), the Linux network driver, {@link KvmInstanceFiles} in {@link #DISK_ROOT}, and a host namespace of
 * its own that holds the VPC bridges. Every name starts with a per-run prefix ({@code <letters><4 base-36>}); the
 * run's folder {@code <runRoot>/<prefix>} records the JVM's pid, so a later run reaps what a crashed one left
 * ({@link HostTools#reapDeadRuns}).
 *
 * <p>Not thread-safe; {@link #close()} tears everything down (runtime, networks of this owner, the host
 * namespace, the run folder, the libvirt connection), running every step even when one fails, and throws an
 * {@link AssertionError} listing the failures. {@link #leftovers(List)} then tells what is still there.
 */
final class RuntimeRig implements AutoCloseable {
  /** Where instance files live (system property {@code pods.test.dir}). */
  static final Path DISK_ROOT = Path.of(System.getProperty("pods.test.dir", "/var/lib/pods/test"));

  final String prefix;
  final Path dir;
  final String hostNs;
  final String owner;
  final DiskImages disks;
  final LibvirtHypervisor hv;
  final LinuxNetworkDriver driver;
  /** The runtime; {@link #reopen()} replaces it. */
  PodRuntime runtime;
  private final java.util.function.Supplier<PodRuntime> build;

  private RuntimeRig(String prefix, Path dir, String hostNs, String owner, DiskImages disks, LibvirtHypervisor hv,
      LinuxNetworkDriver driver, java.util.function.Supplier<PodRuntime> build) {
    this.prefix = prefix;
    this.dir = dir;
    this.hostNs = hostNs;
    this.owner = owner;
    this.disks = disks;
    this.hv = hv;
    this.driver = driver;
    this.build = build;
    this.runtime = build.get();
  }

  /** Closes the runtime and builds a new one with the same settings, which adopts what the old one left. */
  PodRuntime reopen() {
    runtime.close();
    runtime = build.get();
    return runtime;
  }

  /**
   * Starts a rig: a fresh prefix {@code letters + 4 base-36 characters}, its folder under {@code runRoot}, its host
   * namespace, a driver and a runtime owned by {@code ownerPrefix<pid>-<prefix>}. Domains of dead owners with
   * that owner prefix, KVM-probe domains of dead JVMs and stale instance folders of this prefix shape are reaped
   * first.
   */
  static RuntimeRig start(Path runRoot, String letters, String ownerPrefix, ImageResolver images) throws Exception {
    return start(runRoot, letters, ownerPrefix, images, (prefix, b) -> { });
  }

  /**
   * As {@link #start(Path, String, String, ImageResolver)}, with a public network whose bridge the caller makes in
   * {@link #hostNs} before it deploys a unit with a public address, and a node address the caller gives to an
   * interface of {@link #hostNs} before it deploys a unit with node ports (both go with the namespace on close).
   */
  static RuntimeRig start(Path runRoot, String letters, String ownerPrefix, ImageResolver images,
      PodRuntime.@org.jspecify.annotations.Nullable PublicNetwork publicNetwork,
      java.net.@org.jspecify.annotations.Nullable Inet4Address nodeAddress) throws Exception {
    return start(runRoot, letters, ownerPrefix, images,
        (prefix, b) -> b.publicNetwork(publicNetwork).nodeAddress(nodeAddress));
  }

  /**
   * As {@link #start(Path, String, String, ImageResolver)}, with {@code more} setting more of the runtime; it gets
   * the run's prefix too (for the names of what the test adds, such as an uplink bridge).
   */
  static RuntimeRig start(Path runRoot, String letters, String ownerPrefix, ImageResolver images,
      java.util.function.BiConsumer<String, PodRuntime.Builder> more) throws Exception {
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String p = letters + "0000".substring(rnd.length()) + rnd;
    Path dir = Files.createDirectories(runRoot.resolve(p));
    Files.writeString(dir.resolve("pid"), Long.toString(ProcessHandle.current().pid()));
    String hostNs = p + "x-host";
    String owner = Reaper.ownerLabel(ownerPrefix, p);
    DiskImages disks = DiskImages.at(DISK_ROOT);
    LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri());
    LinuxNetworkDriver driver = null;
    try {
      Reaper.reap(hv, disks, Reaper.deadProcess(ownerPrefix));
      Reaper.reapProbes(hv);
      Reaper.reapFolders(hv, disks, n -> n.matches(letters + "[0-9a-z]{4}-.*"), Duration.ofMinutes(10));
      check(run("ip", "netns", "add", hostNs));
      check(run("ip", "-n", hostNs, "link", "set", "lo", "up"));
      driver = LinuxNetworkDriver.builder().stateDir(dir.resolve("net")).prefix(p).build();
      LinuxNetworkDriver net = driver;
      java.util.function.Supplier<PodRuntime> build = () -> {
        PodRuntime.Builder builder = PodRuntime.builder()
            .hypervisor(hv)
            .networkDriver(net)
            .instanceFiles(KvmInstanceFiles.on(disks))
            .images(images)
            .stateDir(dir.resolve("state"))
            .hostNamespace(hostNs)
            .owner(owner)
            .namePrefix(p + "-");
        more.accept(p, builder);
        return builder.build();
      };
      return new RuntimeRig(p, dir, hostNs, owner, disks, hv, driver, build);
    } catch (Exception | Error e) {
      List<Throwable> errors = new ArrayList<>();
      if (driver != null) {
        LinuxNetworkDriver dr = driver;
        step(errors, dr::close);
      }
      step(errors, () -> removeNamespace(hostNs));
      step(errors, () -> deleteTree(dir));
      step(errors, hv::close);
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  @Override
  public void close() {
    List<Throwable> errors = new ArrayList<>();
    step(errors, runtime::close);
    step(errors, () -> driver.reap(owner));
    step(errors, driver::close);
    step(errors, () -> removeNamespace(hostNs));
    if (errors.isEmpty()) {
      step(errors, () -> deleteTree(dir));
    }
    step(errors, hv::close);
    if (!errors.isEmpty()) {
      AssertionError e = new AssertionError("teardown failed: " + errors);
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  /**
   * What a closed rig left behind, as readable lines (empty when nothing): domains, instance folders of
   * {@code domains}, namespaces, root links, nft tables, processes mentioning the prefix, the run folder.
   */
  List<String> leftovers(List<String> domains) throws Exception {
    List<String> out = new ArrayList<>();
    try (LibvirtHypervisor h = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      h.listAll().stream().filter(i -> i.name().startsWith(prefix)).forEach(i -> out.add("domain " + i.name()));
    }
    for (String d : domains) {
      if (Files.exists(DISK_ROOT.resolve("instances").resolve(d))) {
        out.add("files of " + d);
      }
    }
    namespaces(prefix).forEach(n -> out.add("namespace " + n));
    rootLinks(prefix).forEach(l -> out.add("root link " + l));
    if (run("nft", "list", "tables").out().contains(prefix)) {
      out.add("nft table of " + prefix);
    }
    processesMentioning(prefix).forEach(x -> out.add("process " + x));
    if (Files.exists(dir)) {
      out.add("run folder " + dir);
    }
    return out;
  }
}
