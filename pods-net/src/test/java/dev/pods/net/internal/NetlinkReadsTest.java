package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The requests and answers of {@link NetlinkReads}, laid out as the kernel's netlink headers are (no socket). */
class NetlinkReadsTest {

  /** A netlink message: header, fixed part, then attributes (type, value), each padded to 4 bytes. */
  private static byte[] message(int type, byte[] fixed, Object... attrs) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(fixed);
    for (int i = 0; i < attrs.length; i += 2) {
      byte[] v = (byte[]) attrs[i + 1];
      ByteBuffer a = ByteBuffer.allocate((4 + v.length + 3) & ~3).order(ByteOrder.nativeOrder());
      a.putShort((short) (4 + v.length)).putShort((short) (int) (Integer) attrs[i]).put(v);
      body.writeBytes(a.array());
    }
    byte[] b = body.toByteArray();
    return ByteBuffer.allocate(16 + b.length).order(ByteOrder.nativeOrder()).putInt(16 + b.length)
        .putShort((short) type).putShort((short) 2).putInt(1).putInt(4242).put(b).array();
  }

  private static byte[] ifinfo(int index, int flags) {
    return ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).put((byte) 0).put((byte) 0).putShort((short) 1)
        .putInt(index).putInt(flags).putInt(0).array();
  }

  private static byte[] ndmsg(int ifindex) {
    return ByteBuffer.allocate(12).order(ByteOrder.nativeOrder()).put((byte) 7).put((byte) 0).putShort((short) 0)
        .putInt(ifindex).putShort((short) 0x80).put((byte) 2).put((byte) 0).array();
  }

  private static byte[] u32(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
  }

  private static byte[] error(int errno) {
    return message(2, ByteBuffer.allocate(20).order(ByteOrder.nativeOrder()).putInt(-errno).array());
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @Test
  void aLinkRequestAsksForOneLinkByNameWithoutStatistics() {
    ByteBuffer b = ByteBuffer.wrap(NetlinkReads.linkRequest("pfX2")).order(ByteOrder.nativeOrder());
    assertThat(b.getInt(0)).isEqualTo(b.capacity()).isEqualTo(16 + 16 + 12 + 8);
    assertThat(b.getShort(4)).as("RTM_GETLINK").isEqualTo((short) 18);
    assertThat(b.getShort(6)).as("a request, not a dump").isEqualTo((short) 1);
    assertThat(b.getShort(32)).as("IFLA_IFNAME length").isEqualTo((short) 9);
    assertThat(b.getShort(34)).isEqualTo((short) 3);
    assertThat(new String(b.array(), 36, 4, StandardCharsets.UTF_8)).isEqualTo("pfX2");
    assertThat(b.get(40)).as("NUL-terminated").isZero();
    assertThat(b.getShort(46)).as("IFLA_EXT_MASK").isEqualTo((short) 29);
    assertThat(b.getInt(48)).as("RTEXT_FILTER_SKIP_STATS").isEqualTo(8);
  }

  @Test
  void aForwardingEntriesRequestIsABridgeDumpOfOnePort() {
    ByteBuffer b = ByteBuffer.wrap(NetlinkReads.fdbRequest(17)).order(ByteOrder.nativeOrder());
    assertThat(b.getInt(0)).as("an ifinfomsg, as bridge fdb show dev sends").isEqualTo(32);
    assertThat(b.getShort(4)).as("RTM_GETNEIGH").isEqualTo((short) 30);
    assertThat(b.getShort(6)).as("request | dump").isEqualTo((short) 0x301);
    assertThat(b.get(16)).as("AF_BRIDGE").isEqualTo((byte) 7);
    assertThat(b.getInt(20)).isEqualTo(17);
  }

  @Test
  void aTableRequestNamesTheFamilyAndTheTable() {
    ByteBuffer b = ByteBuffer.wrap(NetlinkReads.tableRequest(NetlinkReads.NFPROTO_IPV4, "pfabric"))
        .order(ByteOrder.nativeOrder());
    assertThat(b.getShort(4)).as("NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETTABLE").isEqualTo((short) 0x0a01);
    assertThat(b.get(16)).isEqualTo((byte) 2);
    assertThat(b.getShort(22)).as("NFTA_TABLE_NAME").isEqualTo((short) 1);
    assertThat(new String(b.array(), 24, 7, StandardCharsets.UTF_8)).isEqualTo("pfabric");
    assertThat(b.getInt(0)).isEqualTo(b.capacity()).isEqualTo(16 + 4 + 12);
  }

  @Test
  void aLinkAnswerGivesIndexStateAndMaster() throws IOException {
    byte[] up = message(16, ifinfo(17, 0x1 | 0x40), 3, "pfX2\0".getBytes(StandardCharsets.UTF_8), 10, u32(12));
    assertThat(NetlinkReads.parseLink(up)).contains(new NetlinkReads.Link(17, true, 12));
    byte[] downAlone = message(16, ifinfo(17, 0x40), 3, "pfX2\0".getBytes(StandardCharsets.UTF_8));
    assertThat(NetlinkReads.parseLink(downAlone)).contains(new NetlinkReads.Link(17, false, 0));
  }

  @Test
  void noSuchDeviceIsNoLinkAndAnotherErrorFailsNamingItsNumber() throws IOException {
    assertThat(NetlinkReads.parseLink(error(19))).isEmpty();
    assertThatThrownBy(() -> NetlinkReads.parseLink(error(1))).isInstanceOf(IOException.class)
        .hasMessageContaining("errno 1");
    assertThatThrownBy(() -> NetlinkReads.parseLink(new byte[8])).isInstanceOf(IOException.class)
        .hasMessageContaining("short answer");
  }

  @Test
  void replicationTargetsAreTheAllZerosEntriesOfThePortWithAnIpv4Destination() throws IOException {
    byte[] zeros = new byte[6];
    byte[] mac = {0x52, 0x54, 0, 1, 2, 3};
    byte[] dump = concat(
        message(28, ndmsg(17), 2, zeros, 1, new byte[] {10, (byte) 250, 0, 2}),
        message(28, ndmsg(17), 2, mac, 1, new byte[] {10, (byte) 250, 0, 5}),
        message(28, ndmsg(17), 2, mac),
        message(28, ndmsg(18), 2, zeros, 1, new byte[] {10, (byte) 250, 0, 6}),
        message(28, ndmsg(17), 2, zeros, 1, new byte[] {10, (byte) 250, 0, 3}),
        message(3, u32(0)));
    assertThat(NetlinkReads.parseReplicationTargets(dump, 17)).containsExactly("10.250.0.2", "10.250.0.3");
    assertThat(NetlinkReads.parseReplicationTargets(message(3, u32(0)), 17)).as("none").isEmpty();
    assertThatThrownBy(() -> NetlinkReads.parseReplicationTargets(error(22), 17)).isInstanceOf(IOException.class)
        .hasMessageContaining("errno 22");
  }
}
