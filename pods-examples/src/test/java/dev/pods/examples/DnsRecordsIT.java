package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.Unit;
import dev.pods.ExecResult;
import dev.pods.kvm.GuestImages;
import dev.pods.net.Bind9;
import dev.pods.spi.Cidr;
import dev.pods.template.Templates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * DNS records with real tiny guests: unit {@code api} declares {@code api} under {@code +/domain/example} (a
 * Markdown template), registered with the runtime as this run's zone and published to a real BIND 9 that the test
 * starts on loopback (RFC 2136 with TSIG). A peer's busybox {@code nslookup} resolves the name through the resolver
 * DHCP handed it (its namespace's gateway) to the live private address; after a scale to two the name lists both;
 * BIND, asked with dnsjava, holds the same addresses; after the destroy it holds none. Every name starts with the
 * per-run prefix {@code dr????}.
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class DnsRecordsIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-dns-it");
  private static final String OWNER_PREFIX = "podsdr-owner-";
  private static final Duration READY = Duration.ofMinutes(5);

  private static final String API = """
      # Api

      ```yaml
      name: api
      kind: instance
      image: tiny
      memory: 192
      ---
      name: api-dns
      kind: domain
      records:
        - {name: api, domain: +/domain/example, type: private}
      ```

      ```sh
      echo "api up as $(hostname)"
      ```
      """;

  @Test
  void aPeerResolvesTheRecordToTheLiveAddressesAndBindFollowsScaleAndDestroy() throws Exception {
    HostTools.assumeVmHost();
    Bind9.assumeInstalled();
    HostTools.reapDeadRuns(RUN_ROOT, "dr", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    String run = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    String zone = "dr" + run + ".example.test";
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    List<String> domains = new ArrayList<>();
    RuntimeRig rig;
    try (Bind9 bind = Bind9.start(zone, RUN_ROOT.resolve("bind-" + run))) {
      rig = RuntimeRig.start(RUN_ROOT, "dr", OWNER_PREFIX,
          image -> BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline("")),
          (prefix, b) -> b.domain("example", zone, bind.provider()));
      try {
        Unit api = Templates.parse("api.md", API);
        Unit client = Unit.builder().name("client").image("tiny").memoryMib(192).build();
        Deployment d = rig.runtime.deploy(Pod.builder().name("dr").unit(api).unit(client).build());
        d.events().subscribe(events::add);
        d.instances().forEach(i -> domains.add(i.domainName()));
        try {
          d.awaitReady(READY);
          Instance peer = d.instance("client", 0);
          Instance api0 = d.instance("api", 0);
          String fqdn = "api." + zone;

          ExecResult conf = peer.exec("cat", "/etc/resolv.conf");
          assertThat(conf.stdoutText()).contains("nameserver " + gateway(peer));
          assertThat(lookup(peer, fqdn)).containsExactly(ip(api0));
          assertThat(lookup(api0, fqdn)).containsExactly(ip(api0));
          assertThat(fromBind(bind, fqdn)).containsExactly(ip(api0));

          long t0 = System.nanoTime();
          d.scale("api", 2);
          Instance api1 = d.instance("api", 1);
          domains.add(api1.domainName());
          System.out.printf("dns-it: scale to 2 (names updated) in %d ms%n",
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
          assertThat(lookupUntil(peer, fqdn, 2)).containsExactlyInAnyOrder(ip(api0), ip(api1));
          assertThat(fromBind(bind, fqdn)).containsExactlyInAnyOrder(ip(api0), ip(api1));
          d.awaitReady(READY);
          assertThat(lookup(api1, fqdn)).containsExactlyInAnyOrder(ip(api0), ip(api1));
        } catch (Throwable t) {
          d.instances().forEach(i -> System.out.println("==== " + i.name() + " " + i.state() + " console ====\n"
              + i.consoleOutput()));
          System.out.println("==== events ====\n" + String.join("\n", events.stream().map(Object::toString).toList()));
          throw t;
        } finally {
          d.destroy();
        }
        assertThat(fromBind(bind, "api." + zone)).isEmpty();
      } finally {
        rig.close();
      }
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  private static String ip(Instance i) {
    return i.privateAddress().getHostAddress();
  }

  /** The instance's gateway: the first address of its /30, below its own. */
  private static String gateway(Instance i) {
    return Cidr.dotted(Cidr.toAddress(Cidr.toInt(i.privateAddress()) - 1));
  }

  /** The A records the guest's busybox nslookup gets from the server of its /etc/resolv.conf. */
  private static List<String> lookup(Instance i, String name) {
    ExecResult r = i.exec("nslookup", "-type=a", name);
    List<String> out = new ArrayList<>();
    boolean answers = false;
    for (String line : r.stdoutText().lines().toList()) {
      if (line.startsWith("Name:")) {
        answers = true;
      } else if (answers && line.startsWith("Address:")) {
        out.add(line.substring("Address:".length()).strip());
      }
    }
    return out;
  }

  /**
   * {@link #lookup} again until it lists {@code n} addresses or 5 s passed: dnsmasq re-reads its names on SIGHUP in
   * its own event loop, after the update returned (there is no event to wait for).
   */
  private static List<String> lookupUntil(Instance i, String name, int n) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    List<String> got = lookup(i, name);
    while (got.size() != n && System.nanoTime() < deadline) {
      got = lookup(i, name);
    }
    return got;
  }

  /** What BIND answers for {@code fqdn}, asked directly with dnsjava (unsigned, as any client). */
  private static List<String> fromBind(Bind9 bind, String fqdn) throws Exception {
    SimpleResolver r = new SimpleResolver(bind.address);
    r.setTCP(true);
    Message m = r.send(Message.newQuery(Record.newRecord(Name.fromString(fqdn + "."), Type.A, DClass.IN)));
    assertThat(m.getRcode()).isIn(Rcode.NOERROR, Rcode.NXDOMAIN);
    List<String> out = new ArrayList<>();
    for (Record rec : m.getSection(Section.ANSWER)) {
      if (rec instanceof ARecord a) {
        out.add(a.getAddress().getHostAddress());
      }
    }
    return out;
  }
}
