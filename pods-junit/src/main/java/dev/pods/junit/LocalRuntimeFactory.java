package dev.pods.junit;

import dev.pods.Deployment;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.spi.DomainInfo;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorConfig;
import dev.pods.spi.HypervisorProvider;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkDriverConfig;
import dev.pods.spi.Providers;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link PodRuntimeFactory}: VMs on this host, through {@link PodRuntime#localBuilder()} (libvirt and
 * Linux network namespaces, discovered; {@code dev.pods:pods-kvm} and {@code dev.pods:pods-net} are on the class
 * path with pods-junit). Guest images come from the hypervisor's catalogue ({@code tiny} is the tiny busybox guest
 * of {@code GuestImages.configured().tiny()}, {@code debian12} the full one), with downloads cached in the junit
 * folder, so runs share them.
 *
 * <p><b>Per run.</b> Each run (JVM) gets a name prefix {@code pj} + 4 random letters or digits, used for its domain
 * names ({@code <prefix>-<pod>-<unit>-<index>}), its network driver (namespaces and links) and its host namespace
 * {@code <prefix>x-host} (which holds the VPC bridge, so nothing of the run lives in the root namespace but the
 * VMs' bridges and taps); a folder {@code <junit folder>/<prefix>} holding the runtime's state, networks and instance
 * files; and an owner label {@code pods-junit-<pid>-<JVM start>-<prefix>} on every domain and network. The junit
 * folder is system property {@code pods.junit.dir}, else {@code <PodRuntime.defaultDataDir()>/junit}.
 *
 * <p><b>Reaping.</b> Before it makes the runtime, the factory removes what earlier runs left when their JVM died
 * (killed, crashed): for every run folder whose owner JVM is gone (no process with that pid, or one that started
 * at another time), the domains of that owner, its networks (through a network driver on the folder's state), its
 * host namespace, then the folder; and every domain whose owner label is a dead run's even without a folder. Live
 * runs (parallel JVMs) and other owners are never touched.
 *
 * <p><b>Availability.</b> {@link #unavailableReason()} lists everything missing: Linux, root (CAP_NET_ADMIN and
 * CAP_SYS_ADMIN), {@code ip}, {@code nft}, {@code dnsmasq}, {@code qemu-img}, {@code genisoimage}, the QEMU system
 * emulator of this architecture, libvirt's client library, and a libvirt daemon that answers. KVM is not required
 * (guests run under TCG without it, slowly).
 *
 * <p>Stateless between calls; {@link #create()} blocks (reaping, connecting). The runtime it returns owns the
 * hypervisor connection, the network driver, the host namespace and the run folder: its {@code close()} (idempotent)
 * closes them, removes the namespace, and deletes the folder when no deployment is left.
 *
 * @since 0.1
 */
public class LocalRuntimeFactory implements PodRuntimeFactory {
  private static final Logger LOG = LoggerFactory.getLogger(LocalRuntimeFactory.class);
  private static final String OWNER_FILE = "owner";
  private static final Duration STALE_FOLDER = Duration.ofMinutes(10);
  private static final long CAP_NET_ADMIN = 1L << 12;
  private static final long CAP_SYS_ADMIN = 1L << 21;

  /** Called by the extension. */
  public LocalRuntimeFactory() {}

  /** The folder of the run folders: {@code pods.junit.dir}, else {@code <PodRuntime.defaultDataDir()>/junit}. */
  public static Path junitDir() {
    String p = System.getProperty("pods.junit.dir");
    return (p != null && !p.isBlank() ? Path.of(p) : PodRuntime.defaultDataDir().resolve("junit"))
        .toAbsolutePath().normalize();
  }

  @Override
  public Optional<String> unavailableReason() {
    List<String> missing = new ArrayList<>();
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      return Optional.of("pods runs VMs on Linux only, this is " + System.getProperty("os.name"));
    }
    if (!hasAdminCapabilities()) {
      missing.add("root (CAP_NET_ADMIN and CAP_SYS_ADMIN, for network namespaces)");
    }
    missing.addAll(missingTools(System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin"));
    HypervisorProvider hp = null;
    try {
      hp = Providers.hypervisor();
    } catch (PodsException e) {
      missing.add("a hypervisor: " + e.getMessage());
    }
    if (hp != null) {
      try (Hypervisor hv = hp.create(HypervisorConfig.DEFAULT)) {
        hv.info();
      } catch (RuntimeException e) {
        missing.add("a libvirt daemon that answers (is libvirtd running, and may this user connect?): " + e.getMessage());
      }
    }
    return missing.isEmpty() ? Optional.empty() : Optional.of("missing " + String.join("; ", missing));
  }

  @Override
  public PodRuntime create() {
    Path root = junitDir();
    Path dir;
    String prefix;
    try {
      Files.createDirectories(root);
      while (true) {
        prefix = newPrefix();
        dir = root.resolve(prefix);
        try {
          Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
          break;
        } catch (FileAlreadyExistsException e) {
          // another run has it: draw again
        }
      }
    } catch (IOException e) {
      throw new PodsException("cannot create the run folder under " + root, e);
    }
    RunOwner owner = RunOwner.current(prefix);
    String hostNs = prefix + "x-host";
    Hypervisor hv = null;
    try {
      Files.writeString(dir.resolve(OWNER_FILE), owner.label() + "\n", StandardCharsets.UTF_8);
      HypervisorProvider hp = Providers.hypervisor();
      hv = hp.create(HypervisorConfig.DEFAULT);
      reapDeadRuns(root, hv);
      command("ip", "netns", "add", hostNs);
      command("ip", "-n", hostNs, "link", "set", "lo", "up");
      PodRuntime.Builder builder = PodRuntime.localBuilder()
          .dataDir(dir)
          .hypervisor(hv)
          .images(hp.images(root, dev.pods.ImagePolicy.catalogueOnly()))
          .hostNamespace(hostNs)
          .owner(owner.label())
          .namePrefix(prefix + "-");
      PodRuntime runtime = configure(builder).build();
      LOG.info("pods-junit run {} in {}", owner.label(), dir);
      return new LocalRun(runtime, hv, hostNs, dir);
    } catch (RuntimeException | IOException e) {
      if (hv != null) {
        hv.close();
      }
      try {
        removeNamespace(hostNs);
        deleteTree(dir);
      } catch (RuntimeException | IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new PodsException("cannot start the pods-junit run in " + dir, e);
    }
  }

  /**
   * Adds the host application's settings to the run's runtime before it is built: DNS domains
   * ({@link PodRuntime.Builder#domain(String, String)}), secrets, host folders, a node address, an image policy...
   * A subclass overrides it to give its test classes a runtime configured like its application's, and names itself
   * in {@link PodTest#runtime()}:
   *
   * <pre>{@code
   * public class ShopRuntime extends LocalRuntimeFactory {
   *   @Override
   *   protected PodRuntime.Builder configure(PodRuntime.Builder b) {
   *     return b.domain("shop", "shop.test");       // +/domain/shop names resolve in every guest
   *   }
   * }
   * @PodTest(runtime = ShopRuntime.class) class CheckoutTest { ... }
   * }</pre>
   *
   * <p>The builder already holds the run's data folder, hypervisor, images, host namespace, owner and name prefix:
   * changing those breaks the run's reaping and clean-up. Called once per run, from {@link #create()}; the default
   * returns {@code builder} unchanged.
   *
   * @param builder the run's builder
   * @return the builder to build the runtime from (usually {@code builder} itself)
   */
  protected PodRuntime.Builder configure(PodRuntime.Builder builder) {
    return builder;
  }

  // ------------------------------------------------------------------------------------------------ reaping

  /** Removes the leftovers of runs whose JVM is gone; a failure is logged, and the next run tries again. */
  static void reapDeadRuns(Path root, Hypervisor hv) {
    List<Path> folders = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "pj*")) {
      ds.forEach(folders::add);
    } catch (IOException e) {
      LOG.warn("cannot list the run folders in {}", root, e);
    }
    for (Path folder : folders) {
      try {
        Optional<RunOwner> owner = readOwner(folder);
        if (owner.isEmpty()) {
          // a run that died between creating its folder and writing its owner made nothing else
          if (Files.getLastModifiedTime(folder).toInstant().isBefore(Instant.now().minus(STALE_FOLDER))) {
            deleteTree(folder);
          }
          continue;
        }
        if (owner.get().isDead()) {
          reap(owner.get(), folder, hv);
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("cannot reap the leftovers in {}", folder, e);
      }
    }
    for (DomainInfo i : hv.listAll()) {
      if (RunOwner.isDeadLabel(i.metadata().owner())) {
        LOG.info("reaping domain {} of dead run {}", i.name(), i.metadata().owner());
        hv.undefine(i.name());
      }
    }
  }

  private static Optional<RunOwner> readOwner(Path folder) throws IOException {
    Path f = folder.resolve(OWNER_FILE);
    if (!Files.isRegularFile(f)) {
      return Optional.empty();
    }
    return RunOwner.parse(Files.readString(f, StandardCharsets.UTF_8).strip());
  }

  private static void reap(RunOwner dead, Path folder, Hypervisor hv) throws IOException {
    LOG.info("reaping the leftovers of dead run {}", dead.label());
    for (DomainInfo i : hv.listAll()) {
      if (i.metadata().owner().equals(dead.label())) {
        hv.undefine(i.name());
      }
    }
    if (Files.isDirectory(folder.resolve("net"))) {
      try (NetworkDriver net = Providers.network()
          .create(new NetworkDriverConfig(folder.resolve("net"), dead.prefix(), null))) {
        net.reap(dead.label());
      }
    }
    removeNamespace(dead.prefix() + "x-host");
    deleteTree(folder);
  }

  // ------------------------------------------------------------------------------------------------ the run

  /** The run's runtime; closing it also closes the connection, removes the host namespace and the folder. */
  private static final class LocalRun implements PodRuntime {
    private final PodRuntime runtime;
    private final Hypervisor hv;
    private final String hostNs;
    private final Path dir;
    private final AtomicBoolean closed = new AtomicBoolean();

    LocalRun(PodRuntime runtime, Hypervisor hv, String hostNs, Path dir) {
      this.runtime = runtime;
      this.hv = hv;
      this.hostNs = hostNs;
      this.dir = dir;
    }

    @Override
    public Deployment deploy(Pod pod) {
      return runtime.deploy(pod);
    }

    @Override
    public List<Deployment> deployments() {
      return runtime.deployments();
    }

    @Override
    public java.util.Optional<Deployment> deployment(String pod) {
      return runtime.deployment(pod);
    }

    @Override
    public String owner() {
      return runtime.owner();
    }

    @Override
    public dev.pods.Disks disks() {
      return runtime.disks();
    }

    @Override
    public void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      boolean clean = runtime.deployments().isEmpty();
      runtime.close();
      hv.close();
      if (!clean) {
        LOG.warn("pods-junit run {} ends with deployments left; the next run reaps them", runtime.owner());
        return;
      }
      try {
        removeNamespace(hostNs);
        deleteTree(dir);
      } catch (IOException e) {
        throw new PodsException("cannot remove the run's namespace " + hostNs + " or folder " + dir, e);
      }
    }

    @Override
    public String toString() {
      return "pods-junit run " + runtime.owner();
    }
  }

  // ------------------------------------------------------------------------------------------------ host helpers

  private static String newPrefix() {
    String rnd = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    return "pj" + "0000".substring(rnd.length()) + rnd;
  }

  private static String qemuArch() {
    String a = System.getProperty("os.arch", "");
    return switch (a) {
      case "amd64", "x86_64" -> "x86_64";
      case "aarch64", "arm64" -> "aarch64";
      default -> a;
    };
  }

  private static boolean hasAdminCapabilities() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(l.substring(7).strip(), 16);
          return (caps & CAP_NET_ADMIN) != 0 && (caps & CAP_SYS_ADMIN) != 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return false;
    }
    return false;
  }

  /** The commands a run needs that are not executable in any folder of {@code path}, each with its package. */
  static List<String> missingTools(String path) {
    List<String> missing = new ArrayList<>();
    String qemu = "qemu-system-" + qemuArch();
    for (String[] tool : new String[][] {{"ip", "iproute2"}, {"nft", "nftables"}, {"dnsmasq", "dnsmasq-base"},
        {"qemu-img", "qemu-utils"}, {"genisoimage", "genisoimage"}, {qemu, "qemu-system"}}) {
      if (!onPath(path, tool[0])) {
        missing.add(tool[0] + " (Debian package " + tool[1] + ")");
      }
    }
    return missing;
  }

  private static boolean onPath(String path, String cmd) {
    for (String d : path.split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, cmd))) {
        return true;
      }
    }
    return false;
  }

  /** Removes a named namespace and the links in it (a VPC bridge left by a crash); nothing when it is missing. */
  static void removeNamespace(String ns) throws IOException {
    if (!Files.exists(Path.of("/run/netns", ns))) {
      return;
    }
    for (String l : command("ip", "-n", ns, "-o", "link", "show").lines().toList()) {
      String[] parts = l.split(":\\s*");
      if (parts.length > 1) {
        String name = parts[1].split("@")[0];
        if (!name.equals("lo")) {
          command("ip", "-n", ns, "link", "del", name);
        }
      }
    }
    command("ip", "netns", "del", ns);
  }

  /** Runs a command (at most a minute), returns its output; throws with the output when it fails. */
  private static String command(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    byte[] out;
    try (var in = p.getInputStream()) {
      out = in.readAllBytes();
    }
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", cmd));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted: " + String.join(" ", cmd), e);
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + text.strip());
    }
    return text;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
