package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.NetworkException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link NetworkDriver} must show, whatever it builds. A subclass supplies the driver and specs
 * that fit its environment; the suite creates networks with owner {@link #owner()} and deletes them afterwards.
 */
public abstract class NetworkDriverContract {

  /** The IMDS address, bound inside each namespace by the tests below. */
  protected static final InetSocketAddress IMDS = new InetSocketAddress(Cidr.parseAddress("169.254.169.254"), 80);

  private final List<String> created = new ArrayList<>();

  /** The driver under test; the same object for the whole test method. */
  protected abstract NetworkDriver driver();

  /**
   * A valid spec for this environment. Specs of different {@code index} (0..9) must be able to exist at once.
   *
   * @param instanceId the id to use
   * @param index distinguishes addresses and subnets
   */
  protected abstract NetworkSpec.Builder spec(String instanceId, int index);

  /** The owner label of the networks this suite creates; unique per test run. */
  protected abstract String owner();

  /** An address outside every network the suite creates, from which {@link #reaches} opens its connections. */
  protected abstract Inet4Address outside();

  /**
   * Whether a TCP connection from {@link #outside()} to {@code port} of the VM of {@code n}, through its public
   * address, gets through; the VM listens on ports 80 and 8080. Called with networks built from
   * {@link #spec(String, int)} with index 1 only.
   */
  protected abstract boolean reaches(NetworkInstance n, int port) throws Exception;

  /** The host namespace the suite binds in ({@code null}: the JVM's own). */
  protected abstract @org.jspecify.annotations.Nullable String hostNamespace();

  /** An address of the host namespace, with a free port, that {@link NetworkDriver#bindInHostNamespace} may bind. */
  protected abstract InetSocketAddress hostAddress();

  /** A connection to {@code address} as a client of the host namespace's network would open it. */
  protected abstract Socket connectAsHostClient(InetSocketAddress address) throws Exception;

  /** Deletes the instance's network namespace behind the driver's back, as {@code ip netns delete} by hand would. */
  protected abstract void deleteNamespaceBehindItsBack(NetworkInstance n) throws Exception;

  /** Kills the instance's DHCP server behind the driver's back, as {@code kill -9} of its dnsmasq would. */
  protected abstract void killDhcpServerBehindItsBack(NetworkInstance n) throws Exception;

  /** An instance id unique to this test run, derived from {@code base}. */
  protected String id(String base) {
    return base;
  }

  private NetworkInstance create(String base, int index) {
    NetworkSpec s = spec(id(base), index).owner(owner()).build();
    created.add(s.instanceId());
    return driver().create(s);
  }

  @AfterEach
  void deleteWhatWasCreated() {
    for (String id : created) {
      driver().delete(id);
    }
  }

  @Test
  void createdNetworkIsFoundByIdAndListedByOwner() {
    NetworkInstance n = create("c1", 1);
    assertThat(n.spec().owner()).isEqualTo(owner());
    assertThat(n.namespace()).isNotBlank();
    assertThat(n.tap()).isNotBlank().hasSizeLessThanOrEqualTo(15);
    assertThat(n.vmBridge()).isNotBlank().hasSizeLessThanOrEqualTo(15);
    assertThat(driver().find(n.instanceId())).contains(n);
    assertThat(driver().list(owner())).containsExactly(n);
    assertThat(driver().list(owner() + "-other")).isEmpty();
  }

  @Test
  void createIsIdempotent() {
    NetworkInstance first = create("c2", 2);
    NetworkInstance again = driver().create(first.spec());
    assertThat(again).isEqualTo(first);
    assertThat(driver().list(owner())).hasSize(1);
  }

  @Test
  void anInstanceIdBelongsToOneOwner() {
    NetworkInstance n = create("c3", 3);
    NetworkSpec stranger = n.spec().toBuilder().owner(owner() + "-stranger").build();
    assertThatThrownBy(() -> driver().create(stranger)).isInstanceOf(NetworkException.class)
        .hasMessageContaining(n.instanceId());
    assertThatThrownBy(() -> driver().update(stranger)).isInstanceOf(NetworkException.class);
    assertThat(driver().find(n.instanceId())).contains(n);
  }

  @Test
  void updateReplacesTheFirewall() {
    NetworkInstance n = create("c4", 4);
    NetworkFirewall fw = NetworkFirewall.rules(FirewallRuleSpec.tcp(80, Cidr.parse("10.0.0.0/8")),
        FirewallRuleSpec.icmp(Cidr.parse("0.0.0.0/0")));
    NetworkInstance updated = driver().update(n.spec().withFirewall(fw));
    assertThat(updated.spec().firewall()).isEqualTo(fw);
    assertThat(updated.namespace()).isEqualTo(n.namespace());
    assertThat(updated.tap()).isEqualTo(n.tap());
    assertThat(driver().find(n.instanceId()).orElseThrow().spec().firewall()).isEqualTo(fw);
    NetworkInstance reopened = driver().update(updated.spec().withFirewall(NetworkFirewall.open()));
    assertThat(reopened.spec().firewall()).isEqualTo(NetworkFirewall.open());
  }

  @Test
  void theFirewallAdmitsWhatSomeRuleAdmitsAndNothingElse() throws Exception {
    NetworkInstance n = create("c1", 1);
    Cidr me = Cidr.host(outside());
    assertThat(reaches(n, 80)).as("open").isTrue();
    assertThat(reaches(n, 8080)).as("open").isTrue();
    firewall(n, NetworkFirewall.rules(FirewallRuleSpec.tcp(80, me)));
    assertThat(reaches(n, 80)).as("tcp/80 from here").isTrue();
    assertThat(reaches(n, 8080)).as("no rule for 8080").isFalse();
    firewall(n, NetworkFirewall.rules(FirewallRuleSpec.tcp(80, Cidr.parse("192.0.2.0/24"))));
    assertThat(reaches(n, 80)).as("tcp/80 from elsewhere only").isFalse();
    firewall(n, NetworkFirewall.rules(new FirewallRuleSpec(NetworkProtocol.TCP, 8000, 8100,
        List.of(Cidr.parse("0.0.0.0/0")))));
    assertThat(reaches(n, 8080)).as("a port range from anywhere").isTrue();
    assertThat(reaches(n, 80)).as("outside the range").isFalse();
    firewall(n, NetworkFirewall.rules(FirewallRuleSpec.udp(80, me), FirewallRuleSpec.icmp(me)));
    assertThat(reaches(n, 80)).as("udp and icmp rules admit no tcp").isFalse();
    firewall(n, NetworkFirewall.rules());
    assertThat(reaches(n, 80)).as("no rules").isFalse();
    firewall(n, NetworkFirewall.rules(FirewallRuleSpec.all(Cidr.containing(outside(), 16))));
    assertThat(reaches(n, 80)).as("all protocols from a network holding here").isTrue();
    assertThat(reaches(n, 8080)).as("all protocols from a network holding here").isTrue();
    firewall(n, NetworkFirewall.open());
    assertThat(reaches(n, 8080)).as("open again").isTrue();
  }

  private void firewall(NetworkInstance n, NetworkFirewall fw) {
    driver().update(driver().find(n.instanceId()).orElseThrow().spec().withFirewall(fw));
  }

  @Test
  void createWithAChangedSpecUpdates() {
    NetworkInstance n = create("c5", 5);
    NetworkSpec changed = n.spec().withFirewall(NetworkFirewall.rules());
    assertThat(driver().create(changed).spec()).isEqualTo(changed);
    assertThat(driver().find(n.instanceId()).orElseThrow().spec()).isEqualTo(changed);
  }

  @Test
  void updateAppliesDhcpAndAddressChanges() {
    NetworkInstance n = create("c6", 6);
    NetworkSpec dhcp = n.spec().toBuilder().searchDomain("extra.internal").hostname("renamed").build();
    assertThat(driver().update(dhcp).spec()).isEqualTo(dhcp);
    Cidr moved = new Cidr(n.spec().subnet().base() + 128, n.spec().subnet().prefixLength());
    NetworkSpec readdressed = dhcp.toBuilder().subnet(moved).gateway(moved.address(1))
        .privateAddress(moved.address(2)).build();
    NetworkInstance after = driver().update(readdressed);
    assertThat(after.spec()).isEqualTo(readdressed);
    assertThat(after.tap()).as("the hypervisor's configuration names the tap").isEqualTo(n.tap());
    assertThat(after.vmBridge()).isEqualTo(n.vmBridge());
    assertThat(driver().find(n.instanceId())).contains(after);
    assertThat(driver().callInNamespace(n.instanceId(), () -> "still usable")).isEqualTo("still usable");
  }

  @Test
  void aWholeNetworkProbesIntactAndAnAbsentOneDoesNot() {
    NetworkInstance n = create("c1", 1);
    assertThat(driver().probe(n.instanceId())).isEmpty();
    driver().update(n.spec().withFirewall(NetworkFirewall.rules()));
    assertThat(driver().probe(n.instanceId())).as("after an update").isEmpty();
    assertThat(driver().probe(id("never-created"))).singleElement().asString().contains(id("never-created"));
    driver().delete(n.instanceId());
    assertThat(driver().probe(n.instanceId())).hasSize(1);
  }

  @Test
  void aDeletedNamespaceProbesBrokenAndCreateBuildsItAgainUnderTheSameNames() throws Exception {
    NetworkInstance n = create("c2", 2);
    NetworkInstance other = create("c3", 3);
    ServerSocket old = driver().bindInNamespace(n.instanceId(), IMDS);
    deleteNamespaceBehindItsBack(n);
    assertThat(driver().probe(n.instanceId())).singleElement().asString().contains("namespace")
        .contains(n.namespace());
    assertThat(driver().find(n.instanceId())).isEmpty();
    assertThatThrownBy(() -> driver().callInNamespace(n.instanceId(), () -> 1)).isInstanceOf(NetworkException.class);
    assertThat(driver().probe(other.instanceId())).as("a neighbour").isEmpty();
    NetworkInstance again = driver().create(n.spec());
    assertThat(again).isEqualTo(n);
    assertThat(old.isClosed()).as("a socket of the deleted namespace").isTrue();
    assertThat(driver().probe(n.instanceId())).isEmpty();
    assertThat(driver().callInNamespace(n.instanceId(), () -> "back")).isEqualTo("back");
  }

  @Test
  void aKilledDhcpServerProbesBrokenAndCreateStartsItAgain() throws Exception {
    NetworkInstance n = create("c4", 4);
    killDhcpServerBehindItsBack(n);
    assertThat(driver().probe(n.instanceId())).singleElement().asString().contains("DHCP server");
    assertThat(driver().find(n.instanceId())).as("the rest stands").contains(n);
    assertThat(driver().create(n.spec())).isEqualTo(n);
    assertThat(driver().probe(n.instanceId())).isEmpty();
  }

  @Test
  void anUpdateThatReachesTheDhcpServerStartsAKilledOneAgainAndAFirewallChangeDoesNot() throws Exception {
    NetworkInstance n = create("c5", 5);
    killDhcpServerBehindItsBack(n);
    NetworkInstance closed = driver().update(n.spec().withFirewall(NetworkFirewall.rules()));
    assertThat(driver().probe(n.instanceId())).as("a firewall change").singleElement().asString()
        .contains("DHCP server");
    driver().update(closed.spec().toBuilder().hostname("renamed").build());
    assertThat(driver().probe(n.instanceId())).as("a new hostname for DHCP").isEmpty();
  }

  @Test
  void updateOfAnAbsentNetworkFails() {
    NetworkSpec s = spec(id("c6"), 6).owner(owner()).build();
    assertThatThrownBy(() -> driver().update(s)).isInstanceOf(NetworkException.class)
        .hasMessageContaining(s.instanceId());
    assertThat(driver().find(s.instanceId())).isEmpty();
  }

  @Test
  void deleteRemovesAndIsIdempotent() {
    NetworkInstance n = create("c7", 7);
    driver().delete(n.instanceId());
    assertThat(driver().find(n.instanceId())).isEmpty();
    assertThat(driver().list(owner())).isEmpty();
    driver().delete(n.instanceId());
    driver().delete(id("never-created"));
    NetworkInstance again = driver().create(n.spec());
    assertThat(again.spec()).isEqualTo(n.spec());
  }

  @Test
  void reapRemovesTheOwnersNetworksOnly() {
    NetworkInstance mine = create("c8", 8);
    NetworkSpec otherSpec = spec(id("c9"), 9).owner(owner() + "-other").build();
    created.add(otherSpec.instanceId());
    NetworkInstance other = driver().create(otherSpec);
    assertThat(driver().reap(owner())).containsExactly(mine.instanceId());
    assertThat(driver().find(mine.instanceId())).isEmpty();
    assertThat(driver().find(other.instanceId())).contains(other);
  }

  @Test
  void tasksRunInTheNamespaceAndFailuresAreWrapped() {
    NetworkInstance n = create("c1", 1);
    assertThat(driver().callInNamespace(n.instanceId(), () -> 6 * 7)).isEqualTo(42);
    assertThatThrownBy(() -> driver().callInNamespace(n.instanceId(), () -> {
      throw new IOException("boom");
    })).isInstanceOf(NetworkException.class).hasRootCauseMessage("boom");
    assertThatThrownBy(() -> driver().callInNamespace(id("absent"), () -> 1)).isInstanceOf(NetworkException.class)
        .hasMessageContaining("absent");
  }

  @Test
  void eachNamespaceHasItsOwnImdsAddress() throws Exception {
    NetworkInstance a = create("c2", 2);
    NetworkInstance b = create("c3", 3);
    NetworkInstance c = create("c4", 4);
    try (ServerSocket sa = driver().bindInNamespace(a.instanceId(), IMDS);
        ServerSocket sb = driver().bindInNamespace(b.instanceId(), IMDS)) {
      Thread ta = serveOnce(sa, "i-" + a.instanceId());
      Thread tb = serveOnce(sb, "i-" + b.instanceId());
      assertThat(fetch(a.instanceId())).isEqualTo("i-" + a.instanceId());
      assertThat(fetch(b.instanceId())).isEqualTo("i-" + b.instanceId());
      assertThatThrownBy(() -> driver().connectInNamespace(c.instanceId(), IMDS, Duration.ofSeconds(2)))
          .isInstanceOf(NetworkException.class);
      ta.join(5000);
      tb.join(5000);
    }
  }

  @Test
  void deleteClosesTheSocketsBoundInTheNamespace() {
    NetworkInstance n = create("c5", 5);
    ServerSocket s = driver().bindInNamespace(n.instanceId(), IMDS);
    driver().delete(n.instanceId());
    assertThat(s.isClosed()).isTrue();
    assertThatThrownBy(() -> driver().bindInNamespace(n.instanceId(), IMDS)).isInstanceOf(NetworkException.class);
  }

  @Test
  void aSocketBoundInTheHostNamespaceIsReachedThereAndItsAddressIsTaken() throws Exception {
    InetSocketAddress a = hostAddress();
    Thread t;
    try (ServerSocket s = driver().bindInHostNamespace(hostNamespace(), a)) {
      t = serveOnce(s, "host side");
      try (Socket c = connectAsHostClient(a)) {
        c.setSoTimeout(5000);
        assertThat(new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("host side");
      }
      assertThatThrownBy(() -> driver().bindInHostNamespace(hostNamespace(), a)).isInstanceOf(NetworkException.class)
          .hasMessageContaining(a.getPort() + "");
    }
    t.join(5000);
    driver().bindInHostNamespace(hostNamespace(), a).close();
  }

  @Test
  void poolsAreSharedByName() {
    IpPoolSpec ps = IpPoolSpec.addresses(id("pool"), Cidr.parse("10.77.0.0/29"));
    IpAddressPool p = driver().pool(ps);
    Cidr a = p.allocate("x");
    assertThat(driver().pool(ps).lookup("x")).contains(a);
    assertThatThrownBy(() -> driver().pool(IpPoolSpec.addresses(id("pool"), Cidr.parse("10.78.0.0/29"))))
        .isInstanceOf(NetworkException.class);
    p.release("x");
  }

  private String fetch(String instanceId) throws IOException {
    try (Socket s = driver().connectInNamespace(instanceId, IMDS, Duration.ofSeconds(5))) {
      s.setSoTimeout(5000);
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static Thread serveOnce(ServerSocket server, String body) {
    Thread t = new Thread(() -> {
      try (Socket s = server.accept(); OutputStream out = s.getOutputStream(); InputStream in = s.getInputStream()) {
        out.write(body.getBytes(StandardCharsets.UTF_8));
        out.flush();
        s.shutdownOutput();
        in.available();
      } catch (IOException e) {
        // the test's assertion on the fetched body reports the failure
      }
    }, "contract-serve");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
