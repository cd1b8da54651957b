package dev.pods.net.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A route netlink socket (rtnetlink) of the calling thread's network namespace, plus the tun ioctl for persistent
 * taps, through JNA. It speaks just what pods-net needs: links (bridge, veth with the peer in another namespace,
 * set group/master/up/address-generation mode, delete by name or group), IPv4 addresses and routes. Each request is
 * sent with an ACK request and its answer awaited, so an error names the failed request.
 *
 * <p>Open it on the thread that is in the target namespace (the socket belongs to the namespace it is created in).
 * Not thread-safe; close it after use.
 */
public final class Netlink implements AutoCloseable {
  static final short RTM_NEWLINK = 16;
  static final short RTM_DELLINK = 17;
  static final short RTM_NEWADDR = 20;
  static final short RTM_NEWROUTE = 24;
  static final short NLM_F_REQUEST = 1;
  static final short NLM_F_ACK = 4;
  static final short NLM_F_EXCL = 0x200;
  static final short NLM_F_CREATE = 0x400;
  static final int NLMSG_ERROR = 2;
  static final int IFLA_ADDRESS = 1;
  static final int IFLA_IFNAME = 3;
  static final int IFLA_MASTER = 10;
  static final int IFLA_LINKINFO = 18;
  static final int IFLA_AF_SPEC = 26;
  static final int IFLA_GROUP = 27;
  static final int IFLA_NET_NS_FD = 28;
  static final int IFLA_INFO_KIND = 1;
  static final int IFLA_INFO_DATA = 2;
  static final int VETH_INFO_PEER = 1;
  static final int IFLA_INET6_ADDR_GEN_MODE = 8;
  static final int IFA_ADDRESS = 1;
  static final int IFA_LOCAL = 2;
  static final int RTA_DST = 1;
  static final int RTA_OIF = 4;
  static final int RTA_GATEWAY = 5;
  static final int AF_INET = 2;
  static final int AF_INET6 = 10;
  static final int IFF_UP = 1;
  /** errno of a missing device. */
  public static final int ENODEV = 19;

  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final long TUNSETIFF = 0x400454caL;
  private static final long TUNSETPERSIST = 0x400454cbL;
  private static final long TUNSETOWNER = 0x400454ccL;
  private static final short IFF_TAP = 0x0002;
  private static final short IFF_NO_PI = 0x1000;

  /** The C functions used. */
  interface LibC extends Library {
    int socket(int domain, int type, int protocol) throws LastErrorException;

    NativeLong send(int fd, byte[] buf, NativeLong len, int flags) throws LastErrorException;

    NativeLong recv(int fd, byte[] buf, NativeLong len, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int open(String path, int flags) throws LastErrorException;

    int ioctl(int fd, NativeLong request, byte[] arg) throws LastErrorException;

    int ioctl(int fd, NativeLong request, NativeLong arg) throws LastErrorException;

    int if_nametoindex(String name);

    String strerror(int errnum);
  }

  private static final class Holder {
    static final LibC C = Native.load("c", LibC.class);
  }

  /** A failed request, with the kernel's errno. */
  public static final class NetlinkException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    NetlinkException(String what, int errno) {
      super("RTNETLINK answers: " + Holder.C.strerror(errno) + " (" + what + ")");
      this.errno = errno;
    }

    /** The kernel's error number. */
    public int errno() {
      return errno;
    }
  }

  private final int fd;
  private int seq;
  private final byte[] rbuf = new byte[65536];

  private Netlink(int fd) {
    this.fd = fd;
  }

  /** Opens a route netlink socket in the calling thread's namespace. */
  public static Netlink open() throws IOException {
    try {
      return new Netlink(Holder.C.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
    } catch (LastErrorException e) {
      throw new IOException("netlink socket failed: errno " + e.getErrorCode(), e);
    }
  }

  /** The index of a link in the calling thread's namespace. */
  public static int index(String name) throws IOException {
    int i = Holder.C.if_nametoindex(name);
    if (i == 0) {
      throw new NetlinkException("no link " + name, ENODEV);
    }
    return i;
  }

  /**
   * Creates a persistent tap in the calling thread's namespace, like {@code ip tuntap add dev NAME mode tap}.
   *
   * @param owner uid that may open it, or -1
   */
  public static void addTap(String name, long owner) throws IOException {
    int tun;
    try {
      tun = Holder.C.open("/dev/net/tun", 2 | 0x80000); // O_RDWR | O_CLOEXEC
    } catch (LastErrorException e) {
      throw new NetlinkException("open /dev/net/tun", e.getErrorCode());
    }
    try {
      ByteBuffer ifr = ByteBuffer.allocate(40).order(ByteOrder.nativeOrder());
      byte[] n = name.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      ifr.put(n, 0, Math.min(15, n.length));
      ifr.putShort(16, (short) (IFF_TAP | IFF_NO_PI));
      Holder.C.ioctl(tun, new NativeLong(TUNSETIFF), ifr.array());
      if (owner >= 0) {
        Holder.C.ioctl(tun, new NativeLong(TUNSETOWNER), new NativeLong(owner));
      }
      Holder.C.ioctl(tun, new NativeLong(TUNSETPERSIST), new NativeLong(1));
    } catch (LastErrorException e) {
      throw new NetlinkException("tuntap add " + name, e.getErrorCode());
    } finally {
      Holder.C.close(tun);
    }
  }

  /** Opens a namespace file for {@link Msg#netnsFd}; the caller closes it with {@link #closeFd}. */
  public static int openNamespace(String name) throws IOException {
    try {
      return Holder.C.open(Netns.path(name).toString(), 0x80000);
    } catch (LastErrorException e) {
      throw new NetlinkException("open namespace " + name, e.getErrorCode());
    }
  }

  /** Closes a file descriptor. */
  public static void closeFd(int fd) {
    try {
      Holder.C.close(fd);
    } catch (LastErrorException e) {
      // nothing to do: the descriptor is gone either way
    }
  }

  /** Sends {@code msg} and waits for the kernel's acknowledgement. */
  public void request(Msg msg, String what) throws IOException {
    int s = ++seq;
    byte[] bytes = msg.finish(s);
    try {
      Holder.C.send(fd, bytes, new NativeLong(bytes.length), 0);
    } catch (LastErrorException e) {
      throw new NetlinkException(what, e.getErrorCode());
    }
    while (true) {
      long n;
      try {
        n = Holder.C.recv(fd, rbuf, new NativeLong(rbuf.length), 0).longValue();
      } catch (LastErrorException e) {
        throw new NetlinkException(what, e.getErrorCode());
      }
      ByteBuffer b = ByteBuffer.wrap(rbuf, 0, (int) n).order(ByteOrder.nativeOrder());
      while (b.remaining() >= 16) {
        int start = b.position();
        int len = b.getInt(start);
        int type = b.getShort(start + 4) & 0xffff;
        int rseq = b.getInt(start + 8);
        if (len < 16) {
          throw new IOException("malformed netlink answer to " + what);
        }
        if (rseq == s && type == NLMSG_ERROR) {
          int err = b.getInt(start + 16);
          if (err != 0) {
            throw new NetlinkException(what, -err);
          }
          return;
        }
        b.position(Math.min(b.limit(), start + ((len + 3) & ~3)));
      }
    }
  }

  @Override
  public void close() {
    closeFd(fd);
  }

  /** A netlink message under construction: header, fixed part, then attributes (nestable). */
  public static final class Msg {
    private final ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());
    private final Deque<Integer> nests = new ArrayDeque<>();

    /** A message of {@code type} with {@code flags} (REQUEST and ACK are added). */
    public Msg(short type, int flags) {
      b.putInt(0).putShort(type).putShort((short) (flags | NLM_F_REQUEST | NLM_F_ACK)).putInt(0).putInt(0);
    }

    /** Appends an {@code ifinfomsg}. */
    public Msg ifinfo(int family, int index, int flags, int change) {
      b.put((byte) family).put((byte) 0).putShort((short) 0).putInt(index).putInt(flags).putInt(change);
      return this;
    }

    /** Appends an {@code ifaddrmsg}. */
    public Msg ifaddr(int prefixLength, int index) {
      b.put((byte) AF_INET).put((byte) prefixLength).put((byte) 0).put((byte) 0).putInt(index);
      return this;
    }

    /** Appends an {@code rtmsg} for the main table. */
    public Msg rtmsg(int dstLength, int scope) {
      b.put((byte) AF_INET).put((byte) dstLength).put((byte) 0).put((byte) 0).put((byte) 254).put((byte) 3)
          .put((byte) scope).put((byte) 1).putInt(0);
      return this;
    }

    /** An attribute with raw bytes. */
    public Msg attr(int type, byte[] value) {
      int len = 4 + value.length;
      b.putShort((short) len).putShort((short) type).put(value);
      pad();
      return this;
    }

    /** A NUL-terminated string attribute. */
    public Msg str(int type, String value) {
      byte[] v = value.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      byte[] z = new byte[v.length + 1];
      System.arraycopy(v, 0, z, 0, v.length);
      return attr(type, z);
    }

    /** A 32-bit attribute. */
    public Msg u32(int type, long value) {
      b.putShort((short) 8).putShort((short) type).putInt((int) value);
      return this;
    }

    /** An 8-bit attribute. */
    public Msg u8(int type, int value) {
      return attr(type, new byte[] {(byte) value});
    }

    /** Opens a nested attribute; close it with {@link #end()}. */
    public Msg nest(int type) {
      nests.push(b.position());
      b.putShort((short) 0).putShort((short) type);
      return this;
    }

    /** Closes the innermost open nested attribute. */
    public Msg end() {
      int start = nests.pop();
      b.putShort(start, (short) (b.position() - start));
      return this;
    }

    /** A namespace file descriptor attribute (the peer goes into that namespace). */
    public Msg netnsFd(int fd) {
      return u32(IFLA_NET_NS_FD, fd);
    }

    private void pad() {
      while (b.position() % 4 != 0) {
        b.put((byte) 0);
      }
    }

    byte[] finish(int seq) {
      b.putInt(0, b.position());
      b.putInt(8, seq);
      byte[] out = new byte[b.position()];
      System.arraycopy(b.array(), 0, out, 0, out.length);
      return out;
    }
  }
}
