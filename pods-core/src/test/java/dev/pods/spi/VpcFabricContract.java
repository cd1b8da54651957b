package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour of a {@link VpcFabric}: two drivers standing for two hosts, each with a fabric on one underlay,
 * whose instances of one VPC reach each other while the hosts list each other as peers. A subclass supplies the two
 * drivers, specs that fit its environment, and a way to open a TCP connection from one instance's VM to another's.
 */
public abstract class VpcFabricContract {

  private final List<Runnable> cleanups = new ArrayList<>();

  /** The first host's driver, built with a fabric; the same object for the whole test method. */
  protected abstract NetworkDriver hostA();

  /** The second host's driver, built with a fabric on the same underlay. */
  protected abstract NetworkDriver hostB();

  /** The MTU of the underlay's links. */
  protected abstract int underlayMtu();

  /**
   * A valid spec on {@code host} for this environment, without VPC; the suite sets the VPC. Specs of different
   * {@code index} (1..9), on either host, must be able to exist at once with distinct private addresses inside
   * {@link #VPC_RANGE}.
   */
  protected abstract NetworkSpec.Builder spec(NetworkDriver host, String instanceId, int index);

  /** The owner label of the networks this suite creates. */
  protected abstract String owner();

  /**
   * Whether a TCP connection from the VM of {@code from} (on {@code fromHost}) to the private address of {@code to}
   * (on {@code toHost}), port {@code port}, opens. Every VM listens on ports 80 and 8080.
   */
  protected abstract boolean reaches(NetworkDriver fromHost, NetworkInstance from, NetworkDriver toHost,
      NetworkInstance to, int port) throws Exception;

  /** The interface MTU the VM of {@code n} got by DHCP, or empty when DHCP gave none. */
  protected abstract OptionalInt dhcpMtu(NetworkDriver host, NetworkInstance n) throws Exception;

  /**
   * Breaks, as a hand would behind the driver's back, what joins the VPC of {@code member} on {@code host} to the
   * peers (on Linux: deletes the VPC's VXLAN link), leaving the VPC on that host as it is.
   */
  protected abstract void breakFabricBehindItsBack(NetworkDriver host, NetworkInstance member) throws Exception;

  /** The range of the suite's VPCs. */
  protected static final Cidr VPC_RANGE = Cidr.parse("10.96.0.0/16");

  private NetworkInstance create(NetworkDriver host, String id, int index, String vpc, NetworkFirewall fw) {
    NetworkSpec.Builder b = spec(host, id, index).owner(owner()).firewall(fw);
    if (vpc != null) {
      b.vpc(new NetworkVpc(vpc, VPC_RANGE));
    }
    NetworkInstance n = host.create(b.build());
    cleanups.add(() -> host.delete(n.instanceId()));
    return n;
  }

  private VpcFabric a() {
    return hostA().fabric().orElseThrow();
  }

  private VpcFabric b() {
    return hostB().fabric().orElseThrow();
  }

  @BeforeEach
  void peerTheHosts() {
    a().peers(Set.of(b().underlay()));
    b().peers(Set.of(a().underlay()));
  }

  @AfterEach
  void deleteWhatWasCreated() {
    for (int i = cleanups.size() - 1; i >= 0; i--) {
      cleanups.get(i).run();
    }
    cleanups.clear();
  }

  @Test
  void aFabricHasItsUnderlayTheReducedMtuAndThePeersLastSet() {
    assertThat(a().underlay()).isNotEqualTo(b().underlay());
    assertThat(a().mtu()).isEqualTo(underlayMtu() - VpcFabric.OVERHEAD);
    assertThat(a().peers()).containsExactly(b().underlay());
    Inet4Address self = a().underlay();
    assertThatThrownBy(() -> a().peers(Set.of(self, b().underlay()))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Cidr.dotted(self));
    assertThat(a().peers()).as("a refused set changes nothing").containsExactly(b().underlay());
    a().peers(Set.of(b().underlay()));
    assertThat(a().peers()).as("idempotent").containsExactly(b().underlay());
  }

  @Test
  void instancesOfOneVpcOnTwoHostsReachEachOtherAndTheFirewallStillApplies() throws Exception {
    NetworkInstance web = create(hostA(), "fweb", 1, "shop", NetworkFirewall.open());
    NetworkInstance db = create(hostB(), "fdb", 2, "shop",
        NetworkFirewall.rules(FirewallRuleSpec.tcp(80, Cidr.host(web.spec().privateAddress()))));
    NetworkInstance spy = create(hostB(), "fspy", 3, "shop", NetworkFirewall.open());
    NetworkInstance other = create(hostB(), "fother", 4, "other", NetworkFirewall.open());
    assertThat(reaches(hostA(), web, hostB(), db, 80)).as("web -> db:80 across hosts").isTrue();
    assertThat(reaches(hostB(), db, hostA(), web, 8080)).as("db -> web:8080 across hosts").isTrue();
    assertThat(reaches(hostA(), web, hostB(), db, 8080)).as("db admits port 80 only").isFalse();
    assertThat(reaches(hostB(), spy, hostB(), db, 80)).as("db admits web only, on its own host too").isFalse();
    assertThat(reaches(hostB(), spy, hostA(), web, 80)).as("spy -> web across hosts").isTrue();
    assertThat(reaches(hostA(), web, hostB(), other, 80)).as("another VPC of the same range").isFalse();
  }

  @Test
  void removingAPeerCutsTheVpcAcrossHostsAndAddingItBackRestoresIt() throws Exception {
    NetworkInstance x = create(hostA(), "fx", 5, "cut", NetworkFirewall.open());
    NetworkInstance y = create(hostB(), "fy", 6, "cut", NetworkFirewall.open());
    NetworkInstance z = create(hostA(), "fz", 7, "cut", NetworkFirewall.open());
    assertThat(reaches(hostA(), x, hostB(), y, 80)).isTrue();
    a().peers(Set.of());
    assertThat(reaches(hostA(), x, hostB(), y, 80)).as("A dropped B").isFalse();
    assertThat(reaches(hostB(), y, hostA(), x, 80)).as("B still lists A, but A does not answer B").isFalse();
    assertThat(reaches(hostA(), z, hostA(), x, 80)).as("the VPC on one host is untouched").isTrue();
    assertThat(hostA().find(x.instanceId())).as("the instance's network is untouched").contains(x);
    a().peers(Set.of(b().underlay()));
    assertThat(reaches(hostA(), x, hostB(), y, 80)).as("B added back").isTrue();
    assertThat(reaches(hostB(), y, hostA(), x, 80)).isTrue();
  }

  @Test
  void aVpcCutFromTheFabricBehindTheDriversBackProbesBrokenForEachMemberThereAndCreateOfOneMendsIt()
      throws Exception {
    NetworkInstance x = create(hostA(), "fk1", 1, "mend", NetworkFirewall.open());
    NetworkInstance z = create(hostA(), "fk2", 2, "mend", NetworkFirewall.open());
    NetworkInstance y = create(hostB(), "fk3", 3, "mend", NetworkFirewall.open());
    NetworkInstance elsewhere = create(hostA(), "fk4", 4, "apart", NetworkFirewall.open());
    assertThat(reaches(hostA(), x, hostB(), y, 80)).as("before").isTrue();
    breakFabricBehindItsBack(hostA(), x);
    assertThat(reaches(hostA(), x, hostB(), y, 80)).as("cut from host B").isFalse();
    assertThat(reaches(hostA(), z, hostA(), x, 80)).as("the VPC on host A itself").isTrue();
    assertThat(hostA().probe(x.instanceId())).as("x").isNotEmpty();
    assertThat(hostA().probe(z.instanceId())).as("the other member on host A").isNotEmpty();
    assertThat(hostA().probe(elsewhere.instanceId())).as("another VPC").isEmpty();
    assertThat(hostB().probe(y.instanceId())).as("host B").isEmpty();
    // the runtime's periodic check: probe, then create with the spec found, here for the other member
    hostA().create(hostA().find(z.instanceId()).orElseThrow().spec());
    assertThat(hostA().probe(x.instanceId())).as("mended for x too").isEmpty();
    assertThat(hostA().probe(z.instanceId())).isEmpty();
    assertThat(hostA().find(x.instanceId())).as("x's network untouched").contains(x);
    assertThat(reachesAgain(hostA(), x, hostB(), y)).as("x -> y again").isTrue();
    assertThat(reachesAgain(hostB(), y, hostA(), z)).as("y -> z again").isTrue();
  }

  /**
   * Whether a connection from {@code from} to {@code to} opens, asked up to five times while it does not: a real
   * network may drop the first attempts after a repair, while neighbours are resolved again.
   */
  private boolean reachesAgain(NetworkDriver fromHost, NetworkInstance from, NetworkDriver toHost, NetworkInstance to)
      throws Exception {
    for (int attempt = 0; attempt < 5; attempt++) {
      if (reaches(fromHost, from, toHost, to, 80)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void instancesOfVpcsGetTheFabricMtuByDhcpAndOthersNone() throws Exception {
    NetworkInstance inVpc = create(hostA(), "fm", 8, "mtu", NetworkFirewall.open());
    NetworkInstance alone = create(hostA(), "fn", 9, null, NetworkFirewall.open());
    assertThat(dhcpMtu(hostA(), inVpc)).hasValue(underlayMtu() - VpcFabric.OVERHEAD);
    assertThat(dhcpMtu(hostA(), alone)).isEmpty();
  }
}
