package dev.pods.imds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.NetworkException;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkSpec;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link NamespaceRunner#of}: the adapter from a network driver's in-namespace calls to the IMDS binding. */
class NamespaceRunnerTest {
  private final InMemoryNetworkDriver driver = new InMemoryNetworkDriver();

  private void network(String id) {
    driver.create(NetworkSpec.builder().instanceId(id).owner("runner-test").mac("52:54:00:00:00:01")
        .subnet(Cidr.parse("10.98.1.0/30")).build());
  }

  @Test
  void runsTheActionThroughTheDriverAndHandsBackItsResultAndItsOwnException() throws Exception {
    network("web-0");
    NamespaceRunner r = NamespaceRunner.of(driver, "web-0");
    assertThat(r.<String>call(() -> "in " + Thread.currentThread().getName())).startsWith("in ");
    assertThat(r.describe()).contains("web-0");
    IOException boom = new IOException("address in use");
    assertThatThrownBy(() -> r.call(() -> {
      throw boom;
    })).isSameAs(boom);
  }

  @Test
  void aMissingNetworkIsTheDriversFailure() {
    NamespaceRunner r = NamespaceRunner.of(driver, "absent");
    assertThatThrownBy(() -> r.call(() -> 1)).isInstanceOf(NetworkException.class).hasMessageContaining("absent");
  }

  @Test
  void anImdsBindsThroughIt() throws Exception {
    network("web-1");
    ImdsBinding b = ImdsBinding.inNamespace(NamespaceRunner.of(driver, "web-1"),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    String token = ImdsServer.newToken();
    InstanceView view = InstanceView.builder().pod("p").unit("web").index(1)
        .spec(Unit.builder().name("web").image("debian12").script(Script.shell("true")).build(), "1").privateIps(List.of("10.98.1.2"))
        .build();
    try (ImdsServer s = ImdsServer.builder().binding(b).view(view).token(token).start()) {
      HttpRequest req = HttpRequest.newBuilder(URI.create(s.baseUri() + "/v1/query/instance/self/private_ips"))
          .header(ImdsProtocol.TOKEN_HEADER, token).build();
      HttpResponse<String> res = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
      assertThat(res.body()).isEqualTo("10.98.1.2\n");
    }
  }
}
