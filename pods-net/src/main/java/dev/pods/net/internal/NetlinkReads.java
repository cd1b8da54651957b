package dev.pods.net.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Read-only questions to the calling thread's network namespace over netlink sockets opened through libc (JNA), so
 * no process starts: a link's index, state and bridge ({@code RTM_GETLINK}), a VXLAN link's head-end replication
 * entries ({@code RTM_GETNEIGH} dump of family {@code AF_BRIDGE}, as {@code bridge fdb show dev X} asks), and whether
 * an nftables table exists ({@code NFT_MSG_GETTABLE}). Each call opens one socket (in the namespace of the calling
 * thread, which is where the kernel answers from) and closes it. Requests are built and answers parsed by the pure
 * static methods below.
 *
 * <p>Stateless and thread-safe; each call blocks on the kernel's answer (bounded by a 2 s receive timeout).
 */
public final class NetlinkReads {
  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int NETLINK_ROUTE = 0;
  private static final int NETLINK_NETFILTER = 12;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVTIMEO = 20;
  private static final int RECEIVE_BUFFER = 32768;

  private static final short NLMSG_ERROR = 2;
  private static final short NLMSG_DONE = 3;
  private static final short NLM_F_REQUEST = 1;
  private static final short NLM_F_DUMP = 0x300;
  private static final short RTM_GETLINK = 18;
  private static final short RTM_NEWLINK = 16;
  private static final short RTM_GETNEIGH = 30;
  private static final short RTM_NEWNEIGH = 28;
  private static final short NFT_MSG_GETTABLE = (10 << 8) | 1;
  private static final short NFT_MSG_NEWTABLE = 10 << 8;
  private static final int IFLA_IFNAME = 3;
  private static final int IFLA_MASTER = 10;
  private static final int IFLA_EXT_MASK = 29;
  private static final int RTEXT_FILTER_SKIP_STATS = 8;
  private static final int NDA_DST = 1;
  private static final int NDA_LLADDR = 2;
  private static final int NFTA_TABLE_NAME = 1;
  private static final int AF_BRIDGE = 7;
  private static final int IFF_UP = 1;
  private static final int ENODEV = 19;
  private static final int ENOENT = 2;
  /** The nftables family {@code ip}. */
  public static final int NFPROTO_IPV4 = 2;

  private NetlinkReads() {}

  /** The C functions used; loaded on first use. */
  interface LibC extends Library {
    int socket(int domain, int type, int protocol) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    NativeLong send(int fd, byte[] buf, NativeLong len, int flags) throws LastErrorException;

    NativeLong recv(int fd, Pointer buf, NativeLong len, int flags) throws LastErrorException;

    int setsockopt(int fd, int level, int name, byte[] value, int len) throws LastErrorException;
  }

  private static final class Holder {
    static final LibC C = Native.load("c", LibC.class);
  }

  /**
   * A link: its index, whether it is administratively up, and the index of its master (a bridge), 0 for none.
   */
  public record Link(int index, boolean up, int master) {}

  /** The link {@code name} of the calling thread's namespace, or empty when it has none of that name. */
  public static Optional<Link> link(String name) throws IOException {
    byte[] answer = ask(NETLINK_ROUTE, linkRequest(name), false);
    return parseLink(answer);
  }

  /**
   * The destinations of the all-zeros forwarding entries (head-end replication) of the VXLAN link of index
   * {@code ifindex} in the calling thread's namespace, dotted.
   */
  public static Set<String> replicationTargets(int ifindex) throws IOException {
    return parseReplicationTargets(ask(NETLINK_ROUTE, fdbRequest(ifindex), true), ifindex);
  }

  /** Whether the calling thread's namespace has the nftables table {@code name} of family {@code family}. */
  public static boolean tableExists(int family, String name) throws IOException {
    byte[] answer = ask(NETLINK_NETFILTER, tableRequest(family, name), false);
    ByteBuffer b = wrap(answer);
    short type = b.getShort(4);
    if (type == NLMSG_ERROR) {
      int err = -b.getInt(16);
      if (err == ENOENT) {
        return false;
      }
      throw new IOException("nf_tables: get table " + name + " failed: errno " + err);
    }
    return type == NFT_MSG_NEWTABLE;
  }

  // ---------------------------------------------------------------- requests (pure)

  /** An {@code RTM_GETLINK} request for the link named {@code name}, without statistics. */
  static byte[] linkRequest(String name) {
    byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = message(RTM_GETLINK, NLM_F_REQUEST, 16 + attrSize(n.length) + attrSize(4));
    b.put((byte) 0).put((byte) 0).putShort((short) 0).putInt(0).putInt(0).putInt(0); // ifinfomsg
    attr(b, IFLA_IFNAME, n);
    attr(b, IFLA_EXT_MASK, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(RTEXT_FILTER_SKIP_STATS)
        .array());
    return b.array();
  }

  /**
   * An {@code RTM_GETNEIGH} dump of family {@code AF_BRIDGE} limited to the port {@code ifindex}: the header is an
   * {@code ifinfomsg}, whose index the kernel takes as the port to dump (what {@code bridge fdb show dev X} sends).
   */
  static byte[] fdbRequest(int ifindex) {
    ByteBuffer b = message(RTM_GETNEIGH, (short) (NLM_F_REQUEST | NLM_F_DUMP), 16);
    b.put((byte) AF_BRIDGE).put((byte) 0).putShort((short) 0).putInt(ifindex).putInt(0).putInt(0);
    return b.array();
  }

  /** An {@code NFT_MSG_GETTABLE} request for table {@code name} of family {@code family}. */
  static byte[] tableRequest(int family, String name) {
    byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = message(NFT_MSG_GETTABLE, NLM_F_REQUEST, 4 + attrSize(n.length));
    b.put((byte) family).put((byte) 0).putShort((short) 0); // nfgenmsg: version 0, resource id 0
    attr(b, NFTA_TABLE_NAME, n);
    return b.array();
  }

  private static ByteBuffer message(short type, short flags, int payload) {
    ByteBuffer b = ByteBuffer.allocate(16 + payload).order(ByteOrder.nativeOrder());
    b.putInt(16 + payload).putShort(type).putShort(flags).putInt(1).putInt(0);
    return b;
  }

  private static int attrSize(int len) {
    return (4 + len + 3) & ~3;
  }

  private static void attr(ByteBuffer b, int type, byte[] value) {
    int start = b.position();
    b.putShort((short) (4 + value.length)).putShort((short) type).put(value);
    b.position(start + attrSize(value.length));
  }

  // ---------------------------------------------------------------- answers (pure)

  /** The link in the answer to {@link #linkRequest}: empty for "no such device". */
  static Optional<Link> parseLink(byte[] answer) throws IOException {
    ByteBuffer b = wrap(answer);
    short type = b.getShort(4);
    if (type == NLMSG_ERROR) {
      int err = -b.getInt(16);
      if (err == ENODEV) {
        return Optional.empty();
      }
      throw new IOException("rtnetlink: get link failed: errno " + err);
    }
    if (type != RTM_NEWLINK) {
      throw new IOException("rtnetlink: unexpected answer of type " + type + " to a get link");
    }
    int len = b.getInt(0);
    int index = b.getInt(16 + 4);
    int flags = b.getInt(16 + 8);
    int master = 0;
    for (int at = 32; at + 4 <= len; ) {
      int alen = Short.toUnsignedInt(b.getShort(at));
      int atype = b.getShort(at + 2) & 0x3fff;
      if (alen < 4) {
        break;
      }
      if (atype == IFLA_MASTER && alen >= 8) {
        master = b.getInt(at + 4);
      }
      at += (alen + 3) & ~3;
    }
    return Optional.of(new Link(index, (flags & IFF_UP) != 0, master));
  }

  /**
   * The IPv4 destinations of the all-zeros entries of port {@code ifindex} in the messages of a forwarding-table
   * dump (several messages per buffer, buffers concatenated).
   */
  static Set<String> parseReplicationTargets(byte[] answer, int ifindex) throws IOException {
    Set<String> out = new LinkedHashSet<>();
    ByteBuffer b = wrap(answer);
    for (int at = 0; at + 16 <= answer.length; ) {
      int len = b.getInt(at);
      short type = b.getShort(at + 4);
      if (len < 16) {
        throw new IOException("rtnetlink: malformed message of length " + len);
      }
      if (type == NLMSG_ERROR) {
        throw new IOException("rtnetlink: forwarding entries dump failed: errno " + -b.getInt(at + 16));
      }
      if (type == RTM_NEWNEIGH && len >= 16 + 12 && b.getInt(at + 16 + 4) == ifindex) {
        byte[] mac = null;
        byte[] dst = null;
        for (int a = at + 16 + 12; a + 4 <= at + len; ) {
          int alen = Short.toUnsignedInt(b.getShort(a));
          int atype = b.getShort(a + 2) & 0x3fff;
          if (alen < 4) {
            break;
          }
          byte[] value = new byte[alen - 4];
          b.get(a + 4, value);
          if (atype == NDA_LLADDR) {
            mac = value;
          } else if (atype == NDA_DST) {
            dst = value;
          }
          a += (alen + 3) & ~3;
        }
        if (mac != null && mac.length == 6 && java.util.Arrays.equals(mac, new byte[6]) && dst != null
            && dst.length == 4) {
          try {
            out.add(InetAddress.getByAddress(dst).getHostAddress());
          } catch (UnknownHostException e) {
            throw new IOException(e);
          }
        }
      }
      at += (len + 3) & ~3;
    }
    return out;
  }

  private static ByteBuffer wrap(byte[] answer) throws IOException {
    if (answer.length < 20) {
      throw new IOException("netlink: short answer of " + answer.length + " bytes");
    }
    return ByteBuffer.wrap(answer).order(ByteOrder.nativeOrder());
  }

  // ---------------------------------------------------------------- the socket

  /**
   * Sends {@code request} on a new netlink socket of {@code protocol} in the calling thread's namespace and returns
   * the answer: the first datagram, or for a dump every datagram up to {@code NLMSG_DONE}, concatenated.
   */
  private static byte[] ask(int protocol, byte[] request, boolean dump) throws IOException {
    LibC c = Holder.C;
    int fd;
    try {
      fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    } catch (LastErrorException e) {
      throw new IOException("open a netlink socket failed: errno " + e.getErrorCode(), e);
    }
    try {
      byte[] tv = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putLong(2).putLong(0).array();
      c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, tv.length);
      c.send(fd, request, new NativeLong(request.length), 0);
      java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
      // the kernel sizes a dump's datagrams to the largest read seen, at most 32 KiB; only what came is copied
      try (Memory buf = new Memory(RECEIVE_BUFFER)) {
        while (true) {
          int n = (int) c.recv(fd, buf, new NativeLong(RECEIVE_BUFFER), 0).longValue();
          if (n >= RECEIVE_BUFFER) {
            throw new IOException("netlink answer longer than " + RECEIVE_BUFFER + " bytes: truncated");
          }
          byte[] got = buf.getByteArray(0, n);
          all.write(got, 0, n);
          if (!dump || endsDump(got, n)) {
            return all.toByteArray();
          }
        }
      }
    } catch (LastErrorException e) {
      throw new IOException("netlink request failed: errno " + e.getErrorCode(), e);
    } finally {
      c.close(fd);
    }
  }

  /** Whether a datagram of a dump holds its last message ({@code NLMSG_DONE} or an error). */
  private static boolean endsDump(byte[] buf, int n) {
    ByteBuffer b = ByteBuffer.wrap(buf, 0, n).order(ByteOrder.nativeOrder());
    for (int at = 0; at + 16 <= n; ) {
      int len = b.getInt(at);
      short type = b.getShort(at + 4);
      if (type == NLMSG_DONE || type == NLMSG_ERROR) {
        return true;
      }
      if (len < 16) {
        return true;
      }
      at += (len + 3) & ~3;
    }
    return false;
  }
}
