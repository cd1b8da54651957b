package dev.pods.net.internal;

import dev.pods.spi.Cidr;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * What a network namespace's {@code /proc/.../net} files say, read without a command and without entering the
 * namespace: {@code /proc/<pid>/net} shows the namespace of process {@code pid}, {@code /proc/thread-self/net} that of
 * the calling thread. Parsers are pure; stateless and thread-safe.
 */
public final class ProcNet {
  private ProcNet() {}

  /** The {@code net} folder of process {@code pid}, which shows that process's namespace. */
  public static Path ofProcess(long pid) {
    return Path.of("/proc", Long.toString(pid), "net");
  }

  /** The {@code net} folder that shows the calling thread's namespace. */
  public static Path ofThisThread() {
    return Path.of("/proc/thread-self/net");
  }

  /** The names of the links in {@code dir}'s namespace ({@code dev}). */
  public static Set<String> links(Path dir) throws IOException {
    return links(Files.readString(dir.resolve("dev")));
  }

  /** The link names in the text of a {@code net/dev} file. */
  public static Set<String> links(String netDev) {
    Set<String> out = new HashSet<>();
    for (String line : netDev.split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && !line.contains("|")) {
        out.add(line.substring(0, colon).strip());
      }
    }
    return out;
  }

  /**
   * The local IPv4 addresses in the text of a {@code net/fib_trie} file: each leaf {@code |-- a.b.c.d} followed by a
   * {@code /32 host LOCAL} entry.
   */
  public static Set<Inet4Address> localAddresses(String fibTrie) {
    Set<Inet4Address> out = new HashSet<>();
    String leaf = null;
    for (String line : fibTrie.split("\n")) {
      String t = line.strip();
      if (t.startsWith("|-- ")) {
        leaf = t.substring(4).strip();
      } else if (leaf != null && t.startsWith("/32 host LOCAL")) {
        out.add(Cidr.parseAddress(leaf));
      } else if (!t.startsWith("/")) {
        leaf = null;
      }
    }
    return out;
  }

  /**
   * Whether the text of a {@code net/route} file (the main IPv4 table) has the route the kernel adds for an address
   * of prefix {@code net} on link {@code iface} while that link is up: destination {@code net}, no gateway.
   */
  public static boolean hasLinkRoute(String route, String iface, Cidr net) {
    for (String line : route.split("\n")) {
      String[] f = line.strip().split("\\s+");
      if (f.length < 8 || !f[0].equals(iface)) {
        continue;
      }
      try {
        int dest = Integer.reverseBytes(Integer.parseUnsignedInt(f[1], 16));
        int gateway = Integer.parseUnsignedInt(f[2], 16);
        int mask = Integer.reverseBytes(Integer.parseUnsignedInt(f[7], 16));
        if (gateway == 0 && dest == net.base() && mask == Cidr.mask(net.prefixLength())) {
          return true;
        }
      } catch (NumberFormatException e) {
        // the header line
      }
    }
    return false;
  }
}
