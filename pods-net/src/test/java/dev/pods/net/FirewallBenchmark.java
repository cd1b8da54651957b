package dev.pods.net;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Unit;
import dev.pods.net.internal.Exec;
import dev.pods.net.internal.Netns;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spi.Cidr;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkSpec;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark (a main, not a test) of firewall updates, everything in this run's namespaces:
 *
 * <ol>
 *   <li>the cost of {@link LinuxNetworkDriver#update} of a firewall whose unit source holds 100 addresses (one
 *       address changed per round, as when a peer moves), median of 20, against a hand {@code ip netns exec NS nft -f}
 *       of the same table in the same namespace, same run;
 *   <li>the time from a peer's address change (a scale of the source unit up or down, through the runtime on the
 *       Linux driver and the in-memory hypervisor) to the rule in force in the referring instance's namespace
 *       (checked by listing its nft table), median and maximum of 10 each way, against the target of 1 s: for an
 *       addition from the call of {@code scale} until the address is in the table (looked at once {@code scale}
 *       returned: it is there by then), for a removal from the call until a watcher sees it gone.
 * </ol>
 *
 * <p>Run as {@link NetworkBenchmark} (same class path), main class {@code dev.pods.net.FirewallBenchmark}.
 */
public final class FirewallBenchmark {
  private FirewallBenchmark() {}

  /** Prints the figures. */
  public static void main(String[] args) throws Exception {
    NetTestEnv env = new NetTestEnv();
    try {
      try (LinuxNetworkDriver driver = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("state"))
          .prefix(env.prefix).vmNamespace(env.hostNs).build()) {
        updateCost(env, driver);
      }
      peerChange(env);
    } finally {
      env.destroy();
    }
  }

  private static NetworkFirewall hundred(int round) {
    List<Cidr> sources = new ArrayList<>();
    for (int k = 0; k < 100; k++) {
      sources.add(Cidr.parse("10.98." + (1 + k / 60) + "." + (4 * (k % 60) + 2) + "/32"));
    }
    sources.set(round % 100, Cidr.parse("10.97." + (round / 60) + "." + (4 * (round % 60) + 2) + "/32"));
    return NetworkFirewall.rules(new FirewallRuleSpec(dev.pods.spi.NetworkProtocol.TCP, 5432, 5432, sources),
        FirewallRuleSpec.tcp(80, Cidr.parse("0.0.0.0/0")), FirewallRuleSpec.icmp(Cidr.parse("0.0.0.0/0")));
  }

  private static void updateCost(NetTestEnv env, LinuxNetworkDriver driver) throws Exception {
    NetworkSpec base = NetworkBenchmark.spec(env, "bench-" + env.prefix, "fwb", 0);
    String ns = driver.create(base).namespace();
    try {
      int n = 20;
      long[] upd = new long[n];
      long[] hand = new long[n];
      Path file = env.dir.resolve("hand.nft");
      for (int i = -3; i < n; i++) {
        NetworkSpec s = base.withFirewall(hundred(100 + i));
        long t0 = System.nanoTime();
        driver.update(s);
        long t1 = System.nanoTime();
        String table = nft(ns, "list", "tables").lines().filter(l -> l.startsWith("table ip ")).findFirst()
            .orElseThrow().substring("table ip ".length()).strip();
        String listed = nft(ns, "list", "table", "ip", table);
        if (!listed.contains("10.97.")) {
          throw new IllegalStateException("the update is not in force: " + listed);
        }
        Files.writeString(file, "table ip " + table + " {}\ndelete table ip " + table + "\n" + listed);
        long t2 = System.nanoTime();
        Exec.check(List.of("ip", "netns", "exec", ns, "nft", "-f", file.toString()), null, Duration.ofSeconds(10));
        long t3 = System.nanoTime();
        if (i >= 0) {
          upd[i] = t1 - t0;
          hand[i] = t3 - t2;
        }
      }
      double u = median(upd);
      double h = median(hand);
      System.out.printf(Locale.ROOT, "firewall update, unit source of 100 addresses: driver.update median %.2f ms"
          + " (min %.2f, max %.2f)%n", u, ms(Arrays.stream(upd).min().orElseThrow()),
          ms(Arrays.stream(upd).max().orElseThrow()));
      System.out.printf(Locale.ROOT, "same table by hand, ip netns exec NS nft -f: median %.2f ms (min %.2f, max"
          + " %.2f)%n", h, ms(Arrays.stream(hand).min().orElseThrow()), ms(Arrays.stream(hand).max().orElseThrow()));
      System.out.printf(Locale.ROOT, "ratio driver / hand nft -f: %.2f%n", u / h);
    } finally {
      driver.delete("fwb");
    }
  }

  private static void peerChange(NetTestEnv env) throws Exception {
    Path tmp = env.dir.resolve("rt");
    Files.createDirectories(tmp);
    BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
    Unit db = Unit.builder().name("db").image("fake").firewall(new Firewall("db-fw", List.of(new IngressRule(
        Protocol.TCP, PortRange.of(5432), List.of(IngressSource.parse("+/unit/web")))))).build();
    Unit web = Unit.builder().name("web").image("fake").count(1).build();
    try (InMemoryHypervisor hv = InMemoryHypervisor.create();
        LinuxNetworkDriver driver = LinuxNetworkDriver.builder().stateDir(env.dir.resolve("rt-net"))
            .prefix(env.prefix).vmNamespace(env.hostNs).build();
        PodRuntime runtime = PodRuntime.builder().hypervisor(hv).networkDriver(driver)
            .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("files"))).images(name -> image)
            .stateDir(tmp.resolve("state")).hostNamespace(env.hostNs).owner("bench-rt-" + env.prefix)
            .namePrefix(env.prefix + "-").build()) {
      Deployment d = runtime.deploy(Pod.builder().name("fwb").unit(db).unit(web).build());
      try {
        await(d, 2);
        String dbNs = driver.find(d.instance("db", 0).id()).orElseThrow().namespace();
        int rounds = 10;
        long[] up = new long[rounds];
        long[] down = new long[rounds];
        int notYet = 0;
        for (int r = 0; r < rounds; r++) {
          long t0 = System.nanoTime();
          d.scale("web", 2);
          String added = d.instance("web", 1).privateAddress().getHostAddress();
          notYet += awaitRule(dbNs, added, true);
          up[r] = System.nanoTime() - t0;
          await(d, 3);
          // the removal is watched while the scale runs (it goes on to remove web-1's VM and network)
          java.util.concurrent.CompletableFuture<Void> scaling =
              java.util.concurrent.CompletableFuture.runAsync(() -> d.scale("web", 1));
          long t1 = System.nanoTime();
          awaitRule(dbNs, added, false);
          down[r] = System.nanoTime() - t1;
          scaling.join();
        }
        System.out.printf(Locale.ROOT, "peer added (scale web 1 -> 2) to rule in force: median %.1f ms, max %.1f ms"
            + "%n", median(up), ms(Arrays.stream(up).max().orElseThrow()));
        System.out.printf(Locale.ROOT, "peer removed (scale web 2 -> 1) to rule in force: median %.1f ms, max %.1f"
            + " ms%n", median(down), ms(Arrays.stream(down).max().orElseThrow()));
        System.out.printf(Locale.ROOT, "ratio to the 1 s target: added %.3f, removed %.3f; looks at the table"
            + " after scale returned and before it was in force: %d%n", median(up) / 1000, median(down) / 1000, notYet);
      } finally {
        d.destroy();
      }
    }
  }

  /** Waits until {@code n} instances have their network; the runtime builds them on its own threads. */
  private static void await(Deployment d, int n) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < end) {
      List<Instance> l = d.instances();
      if (l.size() == n && l.stream().allMatch(i -> i.state() == dev.pods.InstanceState.BOOTING)) {
        return;
      }
      Thread.sleep(5);
    }
    throw new IllegalStateException("instances not built: " + d.instances());
  }

  /** Looks at the table until {@code address} is (or is not) in it; returns how many looks found it not yet so. */
  private static int awaitRule(String ns, String address, boolean present) throws Exception {
    int misses = 0;
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < end) {
      String rules = nft(ns, "list", "ruleset");
      boolean in = rules.contains(address + " ") || rules.contains(address + ",") || rules.contains(address + "}");
      if (in == present) {
        return misses;
      }
      misses++;
    }
    throw new IllegalStateException(address + (present ? " never entered" : " never left") + " the rules in " + ns);
  }

  private static String nft(String ns, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("nft"));
    cmd.addAll(List.of(args));
    return Netns.call(Netns.path(ns), () -> Exec.check(cmd, null, Duration.ofSeconds(10)).stdout());
  }

  private static double median(long[] a) {
    long[] s = a.clone();
    Arrays.sort(s);
    return ms(s[s.length / 2]);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
