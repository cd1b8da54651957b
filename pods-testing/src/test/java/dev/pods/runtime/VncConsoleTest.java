package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Unit;
import dev.pods.VncConsole;
import dev.pods.spec.InstanceOptions;
import dev.pods.spi.Cidr;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import dev.pods.testing.VncClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vnc: true} on the in-memory fakes: the domain gets a display with a generated password, handed out by
 * {@link Instance#console()}; with a public address, port 5900 of it is kept back and answers with the same display
 * (from inside the instance's "namespace" of the fake driver).
 */
class VncConsoleTest {
  private static final Duration T = Duration.ofSeconds(10);
  @TempDir Path tmp;
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private PodRuntime rt;

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    BootImage image = FakeRuntimes.bootImage(tmp);
    rt = FakeRuntimes.builder(tmp, hv, net, image)
        .publicNetwork(new PodRuntime.PublicNetwork("up", Cidr.parse("10.99.0.0/24"), Cidr.parseAddress("10.99.0.1")))
        .executor(Runnable::run).build();
  }

  @AfterEach
  void tearDown() {
    rt.close();
    hv.close();
    net.close();
  }

  private static InstanceOptions vnc() {
    return new InstanceOptions(null, null, null, null, null, null, null, null, true, null, null, null, null, null,
        null, List.of(), List.of(), null);
  }

  @Test
  void theConsoleAnswersOnLoopbackAndOnThePublicAddressWithItsPasswordOnly() throws Exception {
    Deployment d = rt.deploy(Pod.builder().name("shop").unit(Unit.builder().name("desk").image("tiny")
        .memoryMib(192).publicAddress(true).options(vnc()).build()).build());
    Instance desk = d.instance("desk", 0);
    VncConsole c = desk.console().orElseThrow();
    assertThat(c.address().getAddress().isLoopbackAddress()).isTrue();
    assertThat(c.password()).hasSize(8);
    assertThat(c.toString()).doesNotContain(c.password());
    VncClient.Handshake h = VncClient.handshake(c.address(), c.password(), T);
    assertThat(h.greeting()).isEqualTo("RFB 003.008");
    assertThat(h.securityTypes()).containsExactly(VncClient.VNC_AUTH);
    assertThat(h.authenticated()).isTrue();

    String id = ((DefaultInstance) desk).id();
    assertThat(net.find(id).orElseThrow().spec().keptBackPorts()).containsExactly(VncConsole.PUBLIC_PORT);
    InetSocketAddress pub = new InetSocketAddress(desk.publicAddress().orElseThrow(), VncConsole.PUBLIC_PORT);
    try (Socket s = net.connectInNamespace(id, pub, T)) {
      VncClient.Handshake p = VncClient.handshake(s, c.password(), T);
      assertThat(p.securityTypes()).containsExactly(VncClient.VNC_AUTH);
      assertThat(p.authenticated()).isTrue();
    }
    try (Socket s = net.connectInNamespace(id, pub, T)) {
      assertThat(VncClient.handshake(s, "guessed!", T).authenticated()).isFalse();
    }
    d.destroy();
    assertThat(desk.console()).isEmpty();
  }

  @Test
  void aUnitWithoutVncHasNoConsoleAndNoKeptBackPort() {
    Deployment d = rt.deploy(Pod.builder().name("shop").unit(Unit.builder().name("web").image("tiny")
        .memoryMib(192).publicAddress(true).build()).build());
    Instance web = d.instance("web", 0);
    assertThat(web.console()).isEmpty();
    assertThat(net.find(((DefaultInstance) web).id()).orElseThrow().spec().keptBackPorts()).isEmpty();
    assertThat(hv.vncDisplay(web.domainName())).isEmpty();
    d.destroy();
  }
}
