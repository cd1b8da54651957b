package dev.pods.net;

import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkDriverConfig;
import dev.pods.spi.NetworkDriverProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The {@link NetworkDriverProvider} of {@link LinuxNetworkDriver} (name {@code linux}, priority 100). Available on
 * Linux when the process has CAP_NET_ADMIN and CAP_SYS_ADMIN and {@code ip}, {@code nft} and {@code dnsmasq} are
 * on the PATH. Stateless and thread-safe; registered as a service.
 *
 * @since 0.1
 */
public final class LinuxNetworkDriverProvider implements NetworkDriverProvider {
  private static final long CAP_NET_ADMIN = 1L << 12;
  private static final long CAP_SYS_ADMIN = 1L << 21;

  /** For the service loader. */
  public LinuxNetworkDriverProvider() {}

  @Override
  public String name() {
    return "linux";
  }

  @Override
  public int priority() {
    return 100;
  }

  @Override
  public Optional<String> unavailableReason() {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      return Optional.of("network namespaces need Linux, this is " + System.getProperty("os.name"));
    }
    try {
      long caps = 0;
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("CapEff:")) {
          caps = Long.parseUnsignedLong(l.substring(7).strip(), 16);
        }
      }
      if ((caps & CAP_NET_ADMIN) == 0 || (caps & CAP_SYS_ADMIN) == 0) {
        return Optional.of("the process lacks CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)");
      }
    } catch (IOException | NumberFormatException e) {
      return Optional.of("cannot read the process's capabilities: " + e);
    }
    for (String cmd : List.of("ip", "nft", "dnsmasq")) {
      if (!onPath(cmd)) {
        return Optional.of(cmd + " is not installed (Debian: iproute2, nftables, dnsmasq-base)");
      }
    }
    return Optional.empty();
  }

  @Override
  public NetworkDriver create(NetworkDriverConfig config) {
    return LinuxNetworkDriver.builder().stateDir(config.stateDir()).prefix(config.prefix())
        .vmNamespace(config.vmNamespace()).build();
  }

  private static boolean onPath(String cmd) {
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin") + ":/usr/sbin:/sbin";
    for (String d : path.split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, cmd))) {
        return true;
      }
    }
    return false;
  }
}
