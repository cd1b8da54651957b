package dev.pods.cli;

import dev.pods.ImagePolicy;
import dev.pods.ImageResolver;
import dev.pods.PodRuntime;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.kvm.Reaper;
import dev.pods.net.LinuxNetworkDriver;
import dev.pods.spi.Providers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The runtime {@code pods up} deploys with: {@link PodRuntime#localBuilder()} on the data folder (libvirt, Linux
 * networking and the hypervisor's image catalogue, all discovered), with the pod's own state folder and owner
 * label, so that several {@code pods up} processes on one data folder (one per pod) keep apart. Owns the runtime and
 * closes it in {@link #close()}; closing leaves deployments running. Not thread-safe; built and closed by one thread.
 */
final class LocalHost implements AutoCloseable {
  /** The catalogue name of the tiny guest that {@code --tiny} maps every image to. */
  static final String TINY = "tiny";

  private final PodRuntime runtime;

  private LocalHost(PodRuntime runtime) {
    this.runtime = runtime;
  }

  /**
   * What {@code pods up}'s options say about the host; {@code domains} maps a {@code +/domain/NAME} to its zone
   * (answered inside the pod), {@code dnsServers} are the resolvers' upstream servers.
   */
  record Options(
      Path dataDir, String prefix, boolean tiny, @Nullable String hostNamespace,
      PodRuntime.@Nullable PublicNetwork publicNetwork, java.net.@Nullable Inet4Address nodeAddress,
      ImagePolicy imagePolicy,
      java.util.Map<String, String> domains, List<java.net.Inet4Address> dnsServers,
      dev.pods.spi.SecretStore secrets, List<Path> hostFolders) {
    Options {
      domains = java.util.Map.copyOf(domains);
      dnsServers = List.copyOf(dnsServers);
      hostFolders = List.copyOf(hostFolders);
    }
  }

  /**
   * The image resolver of {@code pods up}: the hypervisor's catalogue on the data folder ({@code debian12},
   * {@code +/image/debian12}, {@code tiny}, and disk paths and URLs the image policy allows), or with {@code tiny}
   * the tiny guest whatever the unit names. Images are built on first use and cached.
   */
  static ImageResolver images(Options o) {
    ImageResolver catalogue = Providers.hypervisor().images(o.dataDir(), o.imagePolicy());
    return o.tiny() ? image -> catalogue.resolve(TINY) : catalogue;
  }

  /** Builds (or finds in the cache) every image {@code images} names, so that deploying does not wait for it. */
  static void prepare(ImageResolver resolver, List<String> images) {
    images.forEach(resolver::resolve);
  }

  /**
   * Builds the runtime of pod {@code pod}: its state in {@code <data>/state/up-<pod>}, owner label
   * {@code dev.pods/up=<data>#<pod>}, names starting with {@code <prefix>-}.
   *
   * @throws dev.pods.PodsException when libvirt or the network state cannot be opened, or another runtime holds the
   *     pod's state folder
   */
  static LocalHost open(Options o, String pod, ImageResolver images) {
    PodRuntime.Builder b = PodRuntime.localBuilder()
        .dataDir(o.dataDir())
        .stateDir(stateDir(o, pod))
        .owner(owner(o, pod))
        .images(images)
        .imagePolicy(o.imagePolicy())
        .hostNamespace(o.hostNamespace())
        .publicNetwork(o.publicNetwork())
        .nodeAddress(o.nodeAddress())
        .secrets(o.secrets())
        .namePrefix(o.prefix() + "-")
        .dnsServer(o.dnsServers().toArray(new java.net.Inet4Address[0]));
    o.domains().forEach(b::domain);
    o.hostFolders().forEach(b::hostFolder);
    return new LocalHost(b.build());
  }

  private static Path stateDir(Options o, String pod) {
    return o.dataDir().resolve("state").resolve("up-" + pod);
  }

  private static String owner(Options o, String pod) {
    return "dev.pods/up=" + o.dataDir().toAbsolutePath().normalize() + "#" + pod;
  }

  /**
   * Removes what an earlier up process of {@code pod} on this data folder left when it was killed without its
   * teardown (SIGKILL, power loss): the domains and instance files with its owner label, its networks, and its
   * runtime state. Call it only while holding the pod's control socket (so no live up process runs the pod).
   *
   * @return what was removed (domain names and network instance ids); empty when nothing was left
   */
  static List<String> reapLeftovers(Options o, String pod) throws IOException {
    String owner = owner(o, pod);
    List<String> reaped = new ArrayList<>();
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      reaped.addAll(Reaper.reap(hv, DiskImages.at(o.dataDir()), m -> m.owner().equals(owner)));
    }
    try (LinuxNetworkDriver d = LinuxNetworkDriver.builder().stateDir(o.dataDir().resolve("net")).prefix(o.prefix())
        .build()) {
      reaped.addAll(d.reap(owner));
    }
    Path state = stateDir(o, pod);
    if (Files.exists(state)) {
      try (Stream<Path> s = Files.walk(state)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
    return reaped;
  }

  PodRuntime runtime() {
    return runtime;
  }

  /** Closes the runtime (and the hypervisor connection and network driver it made); deployments keep running. */
  @Override
  public void close() {
    runtime.close();
  }
}
