package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/** Parsing of captured iproute2 6.1 output (a namespace with a bridge, a tap and a veth pair). */
class IpJsonTest {
  private static String fixture(String name) throws IOException {
    try (InputStream in = Objects.requireNonNull(IpJsonTest.class.getResourceAsStream("/fixtures/" + name))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void linksWithKindMasterMacAndState() throws IOException {
    var links = IpJson.links(fixture("ip-j-d-link-show.json"));
    assertThat(links).extracting(IpJson.Link::name).containsExactly("lo", "zzbr", "zztap", "zzw", "zzv");
    assertThat(links).filteredOn(l -> l.name().equals("zztap")).singleElement()
        .satisfies(l -> {
          assertThat(l.kind()).isEqualTo("tun");
          assertThat(l.master()).isEqualTo("zzbr");
          assertThat(l.up()).isFalse();
        });
    assertThat(links).filteredOn(l -> l.name().equals("zzbr")).singleElement()
        .satisfies(l -> {
          assertThat(l.kind()).isEqualTo("bridge");
          assertThat(l.master()).isNull();
          assertThat(l.up()).isTrue();
          assertThat(l.mac()).matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
        });
    assertThat(links).filteredOn(l -> l.name().equals("zzv")).singleElement()
        .satisfies(l -> assertThat(l.kind()).isEqualTo("veth"));
  }

  @Test
  void ipv4AddressesOnly() throws IOException {
    assertThat(IpJson.addresses(fixture("ip-j-addr-show.json"))).containsExactly(
        new IpJson.Address("lo", "127.0.0.1", 8), new IpJson.Address("zzw", "10.98.7.1", 30),
        new IpJson.Address("zzw", "169.254.169.254", 32));
  }

  @Test
  void emptyOutputIsNoLinksAndGarbageIsAnError() throws IOException {
    assertThat(IpJson.links("")).isEmpty();
    assertThat(IpJson.links("[]\n")).isEmpty();
    assertThatThrownBy(() -> IpJson.links("{\"ifname\":\"x\"}")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> IpJson.addresses("not json")).isInstanceOf(IOException.class);
  }

  @Test
  void theAliasOfALinkIsItsOwnerMark() throws IOException {
    assertThat(IpJson.linkAlias("[{\"ifindex\":1,\"ifname\":\"lo\",\"flags\":[\"LOOPBACK\"],"
        + "\"ifalias\":\"pods-owner:abc\"}]")).isEqualTo("pods-owner:abc");
    assertThat(IpJson.linkAlias("[{\"ifindex\":1,\"ifname\":\"lo\"}]")).isNull();
    assertThat(IpJson.linkAlias("")).isNull();
  }
}
