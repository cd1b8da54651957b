package dev.pods.examples;

import static dev.pods.examples.HostTools.check;
import static dev.pods.examples.HostTools.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.VncConsole;
import dev.pods.kvm.GuestImages;
import dev.pods.net.internal.Netns;
import dev.pods.spi.Cidr;
import dev.pods.template.Templates;
import dev.pods.testing.VncClient;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code vnc: true} with a real tiny guest under QEMU: {@link Instance#console()} gives a loopback address on this
 * host whose display greets in RFB, offers only VNC authentication and takes only the generated password; port 5900
 * of the instance's public address, asked from this run's uplink namespace (the "outside world"), reaches the same
 * display with the same password, while the guest's own port 5900 (busybox httpd) stays unreachable from there and
 * its port 80 reachable. Every name starts with the per-run prefix {@code vc????}.
 */
@Tag("system")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class VncConsoleIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-vnc-it");
  private static final String OWNER_PREFIX = "podsvc-owner-";
  private static final Duration T = Duration.ofSeconds(10);

  private static final String DESK = """
      # Desk

      ```yaml
      name: desk
      kind: instance
      image: tiny
      memory: 192
      publicAddress: true
      vnc: true
      ```

      ```sh
      mkdir -p /www && echo "desk web" > /www/index.html
      httpd -p 80 -h /www
      httpd -p 5900 -h /www
      echo "httpd up on 80 and 5900"
      ```
      """;

  @Test
  void theConsoleAnswersOnLoopbackAndOnThePublicAddressWithItsPasswordOnly() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "vc", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    List<String> domains = new ArrayList<>();
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "vc", OWNER_PREFIX,
        image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")),
        (prefix, b) -> b.publicNetwork(new PodRuntime.PublicNetwork(prefix + "UP", Cidr.parse("203.0.113.0/24"),
            Cidr.parseAddress("203.0.113.1"))));
    try {
      // the outside world: the uplink bridge with the gateway address, in the rig's host namespace (removed with it)
      String bridge = rig.prefix + "UP";
      check(run("ip", "-n", rig.hostNs, "link", "add", bridge, "type", "bridge"));
      check(run("ip", "-n", rig.hostNs, "addr", "add", "203.0.113.1/24", "dev", bridge));
      check(run("ip", "-n", rig.hostNs, "link", "set", bridge, "up"));
      Deployment d = rig.runtime.deploy(Pod.builder().name("vc").unit(Templates.parse("desk.md", DESK)).build());
      d.instances().forEach(i -> domains.add(i.domainName()));
      try {
        d.awaitReady(Duration.ofMinutes(5));
        Instance desk = d.instance("desk", 0);
        assertThat(desk.recentOutput()).contains("httpd up on 80 and 5900");
        VncConsole c = desk.console().orElseThrow();
        assertThat(c.address().getAddress().isLoopbackAddress()).isTrue();

        VncClient.Handshake local = VncClient.handshake(c.address(), c.password(), T);
        assertThat(local.greeting()).matches("RFB 003\\.00[3-8]");
        assertThat(local.securityTypes()).containsExactly(VncClient.VNC_AUTH);
        assertThat(local.authenticated()).isTrue();
        assertThat(VncClient.handshake(c.address(), "guessed", T).authenticated()).isFalse();

        String pub = desk.publicAddress().orElseThrow().getHostAddress();
        Path outside = Netns.path(rig.hostNs);
        VncClient.Handshake remote = Netns.call(outside, () -> VncClient.handshake(
            new InetSocketAddress(pub, VncConsole.PUBLIC_PORT), c.password(), T));
        assertThat(remote.greeting()).isEqualTo(local.greeting());
        assertThat(remote.securityTypes()).containsExactly(VncClient.VNC_AUTH);
        assertThat(remote.authenticated()).isTrue();
        assertThat(Netns.call(outside, () -> VncClient.handshake(
            new InetSocketAddress(pub, VncConsole.PUBLIC_PORT), "guessed", T)).authenticated()).isFalse();
        // the guest's own port 80 is NATed as usual; its port 5900 is not (the console has it)
        assertThat(Netns.call(outside, () -> get(pub, 80, 4096))).contains("desk web");
        assertThat(Netns.call(outside, () -> get(pub, VncConsole.PUBLIC_PORT, 12))).startsWith("RFB ");
      } catch (Throwable t) {
        d.instances().forEach(i -> System.out.println("==== " + i.name() + " " + i.state() + " console ====\n"
            + i.consoleOutput()));
        throw t;
      } finally {
        d.destroy();
      }
    } finally {
      rig.close();
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  /**
   * Up to {@code n} bytes {@code host:port} sends after an HTTP request, until it closes (an HTTP answer, or an
   * RFB greeting).
   */
  private static String get(String host, int port, int n) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 5000);
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      byte[] buf = s.getInputStream().readNBytes(n);
      return new String(buf, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
  }
}
