package dev.pods.net.internal;

import dev.pods.spi.Cidr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Runs the {@code ip -batch} programs of {@link Programs} in-process through {@link Netlink}, with the same meaning
 * as iproute2, so the hot path forks no process. It knows exactly the subset of the {@code ip} language that
 * {@link Programs} writes (link add bridge/veth, link set group/addrgenmode/master/up, link del by name or group,
 * tuntap add, addr add, route add) and rejects anything else when parsing, before running a line.
 *
 * <p>Runs in the calling thread's namespace (see {@link Netns#call}). Stateless; thread-safe.
 */
public final class IpInterpreter {
  private IpInterpreter() {}

  /** One parsed line. */
  public record Command(String line, List<String> words) {}

  /**
   * Parses a program, checking every line against the known subset.
   *
   * @throws IllegalArgumentException naming the first unknown line
   */
  public static List<Command> parse(String program) {
    List<Command> out = new ArrayList<>();
    for (String raw : program.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty()) {
        continue;
      }
      List<String> w = Arrays.asList(line.split("\\s+"));
      check(line, w);
      out.add(new Command(line, w));
    }
    return out;
  }

  private static void check(String line, List<String> w) {
    String head = w.size() >= 2 ? w.get(0) + " " + w.get(1) : line;
    boolean ok = switch (head) {
      case "link add" -> w.contains("type") && (w.get(w.indexOf("type") + 1).equals("bridge")
          || w.get(w.indexOf("type") + 1).equals("veth") && w.contains("peer") && w.contains("netns"));
      case "link set", "link del" -> w.size() >= 3;
      case "tuntap add" -> w.size() >= 6 && w.get(2).equals("dev") && w.get(4).equals("mode")
          && w.get(5).equals("tap");
      case "addr add" -> w.size() == 5 && w.get(3).equals("dev");
      case "route add" -> w.contains("dev");
      default -> false;
    };
    if (!ok) {
      throw new IllegalArgumentException("not in the ip subset pods-net runs in-process: " + line);
    }
  }

  /**
   * Runs a program. Without {@code force} the first failure stops it; with {@code force} every line runs and the
   * failures are returned.
   *
   * @return the failures (empty when all lines succeeded)
   * @throws IOException the first failure, without {@code force}
   */
  public static List<Netlink.NetlinkException> run(String program, boolean force) throws IOException {
    List<Command> cmds = parse(program);
    List<Netlink.NetlinkException> failures = new ArrayList<>();
    try (Netlink nl = Netlink.open()) {
      for (Command c : cmds) {
        try {
          exec(nl, c.words(), c.line());
        } catch (Netlink.NetlinkException e) {
          if (!force) {
            throw e;
          }
          failures.add(e);
        }
      }
    }
    return failures;
  }

  private static void exec(Netlink nl, List<String> w, String line) throws IOException {
    switch (w.get(0) + " " + w.get(1)) {
      case "link add" -> linkAdd(nl, w, line);
      case "link set" -> linkSet(nl, w, line);
      case "link del" -> linkDel(nl, w, line);
      case "tuntap add" -> {
        int user = w.indexOf("user");
        Netlink.addTap(w.get(3), user < 0 ? -1 : uid(w.get(user + 1)));
      }
      case "addr add" -> {
        String text = w.get(2);
        int slash = text.indexOf('/');
        byte[] a = Cidr.parseAddress(text.substring(0, slash)).getAddress();
        nl.request(new Netlink.Msg(Netlink.RTM_NEWADDR, Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL)
            .ifaddr(Integer.parseInt(text.substring(slash + 1)), Netlink.index(w.get(4)))
            .attr(Netlink.IFA_LOCAL, a).attr(Netlink.IFA_ADDRESS, a), line);
      }
      case "route add" -> {
        String dst = w.get(2);
        int via = w.indexOf("via");
        int oif = Netlink.index(w.get(w.indexOf("dev") + 1));
        Cidr c = dst.equals("default") ? Cidr.parse("0.0.0.0/0") : Cidr.parse(dst);
        Netlink.Msg m = new Netlink.Msg(Netlink.RTM_NEWROUTE, Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL)
            .rtmsg(c.prefixLength(), via < 0 ? 253 : 0);
        if (c.prefixLength() > 0) {
          m.attr(Netlink.RTA_DST, c.network().getAddress());
        }
        if (via >= 0) {
          m.attr(Netlink.RTA_GATEWAY, Cidr.parseAddress(w.get(via + 1)).getAddress());
        }
        nl.request(m.u32(Netlink.RTA_OIF, oif), line);
      }
      default -> throw new IllegalArgumentException("unknown: " + line);
    }
  }

  private static void linkAdd(Netlink nl, List<String> w, String line) throws IOException {
    int type = w.indexOf("type");
    Netlink.Msg m = new Netlink.Msg(Netlink.RTM_NEWLINK, Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL)
        .ifinfo(0, 0, 0, 0).str(Netlink.IFLA_IFNAME, w.get(2));
    List<String> own = w.subList(3, type);
    if (own.contains("address")) {
      m.attr(Netlink.IFLA_ADDRESS, mac(own.get(own.indexOf("address") + 1)));
    }
    if (own.contains("group")) {
      m.u32(Netlink.IFLA_GROUP, Long.parseLong(own.get(own.indexOf("group") + 1)));
    }
    String kind = w.get(type + 1);
    m.nest(Netlink.IFLA_LINKINFO).str(Netlink.IFLA_INFO_KIND, kind);
    int nsFd = -1;
    try {
      if (kind.equals("veth")) {
        List<String> peer = w.subList(type + 2, w.size());
        nsFd = Netlink.openNamespace(peer.get(peer.indexOf("netns") + 1));
        m.nest(Netlink.IFLA_INFO_DATA).nest(Netlink.VETH_INFO_PEER).ifinfo(0, 0, 0, 0)
            .str(Netlink.IFLA_IFNAME, peer.get(peer.indexOf("name") + 1));
        if (peer.contains("address")) {
          m.attr(Netlink.IFLA_ADDRESS, mac(peer.get(peer.indexOf("address") + 1)));
        }
        m.netnsFd(nsFd).end().end();
      }
      m.end();
      nl.request(m, line);
    } finally {
      if (nsFd >= 0) {
        Netlink.closeFd(nsFd);
      }
    }
  }

  private static void linkSet(Netlink nl, List<String> w, String line) throws IOException {
    boolean up = w.contains("up");
    Netlink.Msg m = new Netlink.Msg(Netlink.RTM_NEWLINK, 0)
        .ifinfo(0, Netlink.index(w.get(2)), up ? Netlink.IFF_UP : 0, up ? Netlink.IFF_UP : 0);
    if (w.contains("group")) {
      m.u32(Netlink.IFLA_GROUP, Long.parseLong(w.get(w.indexOf("group") + 1)));
    }
    if (w.contains("master")) {
      m.u32(Netlink.IFLA_MASTER, Netlink.index(w.get(w.indexOf("master") + 1)));
    }
    if (w.contains("addrgenmode")) {
      if (!w.get(w.indexOf("addrgenmode") + 1).equals("none")) {
        throw new IllegalArgumentException("only addrgenmode none: " + line);
      }
      m.nest(Netlink.IFLA_AF_SPEC).nest(Netlink.AF_INET6).u8(Netlink.IFLA_INET6_ADDR_GEN_MODE, 1).end().end();
    }
    nl.request(m, line);
  }

  private static void linkDel(Netlink nl, List<String> w, String line) throws IOException {
    Netlink.Msg m = new Netlink.Msg(Netlink.RTM_DELLINK, 0);
    if (w.get(2).equals("group")) {
      m.ifinfo(0, 0, 0, 0).u32(Netlink.IFLA_GROUP, Long.parseLong(w.get(3)));
    } else {
      m.ifinfo(0, 0, 0, 0).str(Netlink.IFLA_IFNAME, w.get(2));
    }
    nl.request(m, line);
  }

  private static byte[] mac(String text) {
    String[] p = text.split(":");
    byte[] b = new byte[6];
    for (int i = 0; i < 6; i++) {
      b[i] = (byte) Integer.parseInt(p[i], 16);
    }
    return b;
  }

  private static long uid(String user) throws IOException {
    if (user.chars().allMatch(Character::isDigit)) {
      return Long.parseLong(user);
    }
    for (String l : Files.readAllLines(Path.of("/etc/passwd"))) {
      String[] f = l.split(":");
      if (f.length > 2 && f[0].equals(user)) {
        return Long.parseLong(f[2]);
      }
    }
    throw new IOException("unknown user " + user.toLowerCase(Locale.ROOT));
  }
}
