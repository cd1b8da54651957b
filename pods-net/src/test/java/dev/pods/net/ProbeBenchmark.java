package dev.pods.net;

import dev.pods.spi.NetworkInstance;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark (a main, not a test): the cost of the runtime's periodic check of one intact instance network, as it
 * was (a task in the namespace to see that it is there, {@code find}, and the idempotent {@code create}, which runs
 * {@code ip -j addr show}) against {@link LinuxNetworkDriver#probe} (no process), in the same run, alternating rounds
 * over the same networks; and the probe of a driver without fabric against the probe of one with a fabric (its VPC's
 * VXLAN link, one peer, the guard: netlink reads), both drivers with the same specs (VPC instances) in the same host
 * namespace. Needs root; everything lives in this run's namespaces (the VM side and the fabric's host side in named
 * namespaces, as in the tests, which costs each probe one thread that the JVM's own namespace would not; the fabric
 * side is read on that thread too, the two being one namespace here).
 *
 * <p>Run as {@link NetworkBenchmark} (same class path): {@code dev.pods.net.ProbeBenchmark [networks] [rounds]}.
 */
public final class ProbeBenchmark {
  private ProbeBenchmark() {}

  /** Prints the medians per instance check and their ratio; defaults: 10 networks, 40 rounds. */
  public static void main(String[] args) throws Exception {
    int networks = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    NetTestEnv env = new NetTestEnv();
    String owner = "bench-" + env.prefix;
    String fabricOwner = "benchf-" + env.prefix;
    TwoHosts hosts = new TwoHosts(env);
    LinuxNetworkDriver withFabric = hosts.a;
    withFabric.fabric().orElseThrow().peers(java.util.Set.of(dev.pods.spi.Cidr.parseAddress(TwoHosts.UNDERLAY_B)));
    try (LinuxNetworkDriver driver = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("state"))
        .prefix(env.prefix + "p").vmNamespace(env.hostNs).build()) { // not the fabric driver's prefix
      try {
        List<NetworkInstance> nets = new java.util.ArrayList<>();
        List<NetworkInstance> fabricNets = new java.util.ArrayList<>();
        for (int i = 0; i < networks; i++) {
          nets.add(driver.create(NetworkBenchmark.spec(env, owner, "pb" + i, i)));
          fabricNets.add(withFabric.create(NetworkBenchmark.spec(env, fabricOwner, "pf" + i, networks + i)));
        }
        long[] old = new long[rounds * networks];
        long[] probe = new long[rounds * networks];
        long[] fabricProbe = new long[rounds * networks];
        for (int w = 0; w < 5; w++) { // warm-up: JIT, page cache
          for (int i = 0; i < networks; i++) {
            oldCheck(driver, nets.get(i));
            require(driver.probe(nets.get(i).instanceId()).isEmpty(), nets.get(i));
            require(withFabric.probe(fabricNets.get(i).instanceId()).isEmpty(), fabricNets.get(i));
          }
        }
        int k = 0;
        for (int r = 0; r < rounds; r++) {
          for (int i = 0; i < networks; i++) {
            NetworkInstance n = nets.get(i);
            NetworkInstance f = fabricNets.get(i);
            long t0 = System.nanoTime();
            oldCheck(driver, n);
            long t1 = System.nanoTime();
            boolean intact = driver.probe(n.instanceId()).isEmpty();
            long t2 = System.nanoTime();
            boolean fabricIntact = withFabric.probe(f.instanceId()).isEmpty();
            long t3 = System.nanoTime();
            require(intact, n);
            require(fabricIntact, f);
            old[k] = t1 - t0;
            probe[k] = t2 - t1;
            fabricProbe[k] = t3 - t2;
            k++;
          }
        }
        System.out.printf(Locale.ROOT, "check of one intact network, %d networks x %d rounds:%n", networks, rounds);
        System.out.printf(Locale.ROOT, "  old (task in namespace + find + create): median %.3f ms, p90 %.3f ms%n",
            pct(old, 50), pct(old, 90));
        System.out.printf(Locale.ROOT, "  probe:                                   median %.3f ms, p90 %.3f ms%n",
            pct(probe, 50), pct(probe, 90));
        System.out.printf(Locale.ROOT, "  ratio old / probe: %.1fx (median), %.1fx (p90)%n",
            pct(old, 50) / pct(probe, 50), pct(old, 90) / pct(probe, 90));
        System.out.printf(Locale.ROOT, "  probe with a fabric (one peer):         median %.3f ms, p90 %.3f ms%n",
            pct(fabricProbe, 50), pct(fabricProbe, 90));
        System.out.printf(Locale.ROOT, "  ratio probe with fabric / without: %.2fx (median), %.2fx (p90)%n",
            pct(fabricProbe, 50) / pct(probe, 50), pct(fabricProbe, 90) / pct(probe, 90));
      } finally {
        driver.reap(owner);
        withFabric.reap(fabricOwner);
      }
    } finally {
      hosts.remove();
      env.destroy();
    }
  }

  /** The runtime's check before the probe: the namespace is there, the network is found, create sees it whole. */
  private static void oldCheck(LinuxNetworkDriver driver, NetworkInstance n) {
    driver.callInNamespace(n.instanceId(), () -> Boolean.TRUE);
    NetworkInstance found = driver.find(n.instanceId()).orElseThrow();
    driver.create(found.spec());
  }

  private static void require(boolean intact, NetworkInstance n) {
    if (!intact) {
      throw new IllegalStateException("the network of " + n.instanceId() + " probes broken");
    }
  }

  private static double pct(long[] ns, int p) {
    long[] s = ns.clone();
    Arrays.sort(s);
    return s[Math.min(s.length - 1, s.length * p / 100)] / 1e6;
  }
}
