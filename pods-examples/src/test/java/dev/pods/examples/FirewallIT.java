package dev.pods.examples;

import static dev.pods.examples.HostTools.assumeVmHost;
import static dev.pods.examples.HostTools.check;
import static dev.pods.examples.HostTools.reapDeadRuns;
import static dev.pods.examples.HostTools.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.ExecResult;
import dev.pods.kvm.GuestImages;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.NodePort;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spi.Cidr;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Firewalls on real tiny guests ({@link RuntimeRig}: libvirt under TCG here, the Linux network driver, the IMDS in
 * each instance's namespace): {@code web} has a public address and admits only tcp/80 from anywhere, though its
 * guest also listens on 8080; {@code db} admits tcp/7000 only from {@code +/unit/web}, though it also listens on
 * 7001; {@code lb} has no firewall. Scaling web adds web-1 to db's rule; a template change of db's rule applies
 * live (same domain, no new initial phase). web's node port 30080 forwards to port 80 of its ready instances, in
 * turn, and follows the scale.
 *
 * <p>Where things are: the run's host namespace {@code <p>x-host} holds the VPC bridge and the uplink bridge
 * {@code uplink0} with the public gateway 198.51.100.1/24 and the node address 10.77.0.1 (on its loopback), and
 * plays the outside world: the test's own requests to the public address and the node port start there; the others run in the guests ({@code exec}). Every name starts with the per-run
 * prefix {@code fw????}; leftovers of runs whose JVM died are reaped first. Four tiny guests at most.
 */
@Tag("system")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FirewallIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-fw-it");
  private static final String OWNER_PREFIX = "podsfw-owner-";
  private static final String UPLINK = "uplink0";
  private static final String NODE = "10.77.0.1";
  private static final Duration READY = Duration.ofMinutes(4);
  /** A denied connection gives up after this long (the guests' and curl's connect timeout). */
  private static final int DENIED_SECONDS = 2;

  private static Firewall firewall(String name, int port, String source) {
    return new Firewall(name, List.of(new IngressRule(Protocol.TCP, PortRange.of(port),
        List.of(IngressSource.parse(source)))));
  }

  private static Script serve(int... ports) {
    StringBuilder b = new StringBuilder("mkdir -p /srv\nhostname >/srv/index.html\n");
    for (int port : ports) {
      b.append("busybox httpd -p ").append(port).append(" -h /srv </dev/null >/dev/null 2>&1\n");
    }
    return Script.shell(Phase.INITIAL, b.append("echo serving\n").toString());
  }

  private static Pod pod(int webs, String dbSource) {
    return Pod.builder().name("fw")
        .unit(Unit.builder().name("web").image("tiny").memoryMib(192).count(webs).publicAddress(true)
            .nodePort(new NodePort(Protocol.TCP, 30080, 80))
            .firewall(firewall("web-fw", 80, "0.0.0.0/0")).script(serve(80, 8080)).build())
        .unit(Unit.builder().name("db").image("tiny").memoryMib(192)
            .firewall(firewall("db-fw", 7000, dbSource)).script(serve(7000, 7001)).build())
        .unit(Unit.builder().name("lb").image("tiny").memoryMib(192)
            .script(Script.shell(Phase.INITIAL, "echo lb up\n")).build())
        .build();
  }

  /** An HTTP GET from inside {@code from}'s guest; its body, or null when it did not connect in time. */
  private static String fetch(Instance from, Instance to, int port) {
    ExecResult r = from.exec("busybox", "timeout", Integer.toString(DENIED_SECONDS), "busybox", "wget", "-q", "-O",
        "-", "http://" + to.privateAddress().getHostAddress() + ":" + port + "/");
    return r.exitCode() == 0 ? r.stdoutText().strip() : null;
  }

  /** An HTTP GET from the outside world (the host namespace); curl's exit code and output. */
  private static HostTools.Result curl(String ns, String address, int port) throws Exception {
    return run("ip", "netns", "exec", ns, "curl", "-sS", "--connect-timeout", Integer.toString(DENIED_SECONDS),
        "-m", "5", "http://" + address + ":" + port + "/");
  }

  private static long millisSince(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  @Test
  void theFirewallAdmitsOnlyItsRulesFollowsScaleAndChangesLive() throws Exception {
    assumeVmHost();
    reapDeadRuns(RUN_ROOT, "fw", OWNER_PREFIX, "fw-it");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    String cmdline = tiny.cmdline("");
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "fw", OWNER_PREFIX,
        image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), cmdline),
        new PodRuntime.PublicNetwork(UPLINK, Cidr.parse("198.51.100.0/24"), Cidr.parseAddress("198.51.100.1")),
        Cidr.parseAddress(NODE));
    List<String> domains = new ArrayList<>();
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    try {
      check(run("ip", "-n", rig.hostNs, "link", "add", UPLINK, "type", "bridge"));
      check(run("ip", "-n", rig.hostNs, "addr", "add", "198.51.100.1/24", "dev", UPLINK));
      check(run("ip", "-n", rig.hostNs, "link", "set", UPLINK, "up"));
      check(run("ip", "-n", rig.hostNs, "addr", "add", NODE + "/32", "dev", "lo"));
      long t0 = System.nanoTime();
      Deployment d = rig.runtime.deploy(pod(1, "+/unit/web"));
      d.events().subscribe(events::add);
      try {
        d.awaitReady(READY);
        System.out.printf("fw-it: deploy -> ready %d ms (3 tiny guests, TCG)%n", millisSince(t0));
        d.instances().forEach(i -> domains.add(i.domainName()));
        Instance web0 = d.instance("web", 0);
        Instance db0 = d.instance("db", 0);
        Instance lb0 = d.instance("lb", 0);
        String dbDomain = db0.domainName();

        // from the outside world: port 80 answers, 8080 (listening too) does not
        String pub = web0.publicAddress().orElseThrow().getHostAddress();
        HostTools.Result ok = curl(rig.hostNs, pub, 80);
        assertThat(ok.out()).as("curl: %s", ok).isEqualTo("web-0\n");
        long c0 = System.nanoTime();
        HostTools.Result denied = curl(rig.hostNs, pub, 8080);
        long deniedMs = millisSince(c0);
        assertThat(denied.code()).as("curl timed out connecting: %s", denied).isEqualTo(28);
        assertThat(deniedMs).isLessThan(5000);
        System.out.printf("fw-it: denied connect from outside gave up after %d ms%n", deniedMs);
        // the node port forwards to web-0's port 80
        assertThat(curl(rig.hostNs, NODE, 30080).out()).isEqualTo("web-0\n");

        // the runtime's own ways in still work: port waits and endpoints
        web0.await(Wait.forPort(8080), Duration.ofSeconds(30));
        assertThat(get(web0.endpoint(8080))).isEqualTo("web-0");

        // db admits 7000 from web only
        assertThat(fetch(web0, db0, 7000)).isEqualTo("db-0");
        long f0 = System.nanoTime();
        assertThat(fetch(lb0, db0, 7000)).as("lb is not in db's rule").isNull();
        assertThat(millisSince(f0)).isLessThan(5000);
        assertThat(fetch(web0, db0, 7001)).as("no rule for 7001").isNull();
        assertThat(fetch(lb0, web0, 8080)).as("web's rule is for port 80 only, also from its VPC").isNull();
        assertThat(fetch(lb0, web0, 80)).isEqualTo("web-0");

        // scaling web adds web-1 to db's rule
        d.scale("web", 2);
        d.awaitReady(READY);
        Instance web1 = d.instance("web", 1);
        domains.add(web1.domainName());
        assertThat(fetch(web1, db0, 7000)).isEqualTo("db-0");
        // and the node port spreads over both
        List<String> answers = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
          answers.add(curl(rig.hostNs, NODE, 30080).out().strip());
        }
        assertThat(answers).containsExactlyInAnyOrder("web-0", "web-1", "web-0", "web-1");

        // a template change of db's rule is live: lb in, web out, same domain, no new initial phase
        MigrationPlan plan = d.plan(pod(2, "+/unit/lb"));
        assertThat(plan.steps()).filteredOn(s -> s.instance().equals("db-0")).singleElement()
            .satisfies(s -> assertThat(s.action()).isEqualTo(MigrationPlan.Action.LIVE));
        assertThat(plan.steps()).allSatisfy(s -> assertThat(s.action())
            .isIn(MigrationPlan.Action.LIVE, MigrationPlan.Action.KEEP));
        int mark = events.size();
        long a0 = System.nanoTime();
        plan.apply();
        System.out.printf("fw-it: live firewall change applied in %d ms%n", millisSince(a0));
        assertThat(fetch(lb0, db0, 7000)).isEqualTo("db-0");
        assertThat(fetch(web0, db0, 7000)).isNull();
        assertThat(fetch(web1, db0, 7000)).isNull();
        assertThat(d.instance("db", 0).domainName()).isEqualTo(dbDomain);
        assertThat(rig.hv.find(dbDomain)).isPresent();
        assertThat(events).filteredOn(e -> e instanceof PodEvent.PhaseStarted s && s.instance().equals("db-0")
            && s.trigger() == Trigger.FIRST_BOOT).as("db-0 booted once").hasSize(1);
        assertThat(events.subList(mark, events.size())).filteredOn(e -> e instanceof PodEvent.StateChanged s
            && s.instance().equals("db-0")).as("db-0 stayed READY through the change").isEmpty();
        assertThat(d.instance("db", 0).state()).isEqualTo(InstanceState.READY);
        System.out.printf("fw-it: whole test %d ms%n", millisSince(t0));
      } finally {
        d.destroy();
      }
    } finally {
      rig.close();
    }
    assertThat(rig.leftovers(domains)).isEmpty();
  }

  private static String get(InetSocketAddress a) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(a, 5000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String resp = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return resp.substring(resp.indexOf("\r\n\r\n") + 4).strip();
    }
  }
}
