package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.kvm.internal.DomainXml;
import dev.pods.kvm.internal.KvmProbe;
import dev.pods.spi.DomainMetadata;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * KVM-probe domains carry an owner label with their JVM's pid, and those of dead JVMs are reaped (by the probe
 * itself and by {@link Reaper#reapProbes}) while those of live JVMs and foreign domains are kept. Against
 * libvirt's test driver ({@code test:///default}, shared by the connections of this process): real libvirt, no
 * daemon, no guest.
 */
class ProbeReapingTest {
  private static final String URI = "test:///default";
  private final String unique = UUID.randomUUID().toString().substring(0, 6);
  private final List<String> created = new ArrayList<>();
  private Connect conn;

  @BeforeAll
  static void libvirtIsInstalled() {
    LibvirtAvailability.assumeLibrary();
  }

  @AfterEach
  void removeWhatIsLeft() throws Exception {
    if (conn == null) {
      return;
    }
    for (String n : created) {
      try {
        Domain d = conn.domainLookupByName(n);
        boolean persistent = d.isPersistent() == 1;
        if (d.isActive() == 1) {
          d.destroy();
        }
        if (persistent) {
          d.undefine();
        }
      } catch (org.libvirt.LibvirtException e) {
        // already gone: what the test expects for most of them
      }
    }
    conn.close();
  }

  /** A pid that ran on this host and no longer does. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    assertThat(ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    return p.pid();
  }

  private String probeName(long pid, String tag) {
    String n = KvmProbe.OWNER_PREFIX + pid + "-" + tag + unique;
    created.add(n);
    return n;
  }

  private String startProbe(long pid, String tag) throws Exception {
    String name = probeName(pid, tag);
    conn.domainCreateXML(KvmProbe.xml(name, "test", Path.of("/boot/vmlinuz-probe"), Path.of("/tmp/probe.log")), 0);
    return name;
  }

  private boolean exists(String name) throws Exception {
    for (Domain d : conn.listAllDomains(0)) {
      if (d.getName().equals(name)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void aProbeDomainCarriesPodsMetadataOwnedByItsJvm() {
    String name = KvmProbe.OWNER_PREFIX + ProcessHandle.current().pid() + "-abcd1234";
    DomainMetadata m = DomainXml.read(KvmProbe.xml(name, "kvm", Path.of("/k"), Path.of("/l"))).spec()
        .orElseThrow().metadata();
    assertThat(m.owner()).isEqualTo(name);
    assertThat(m.unit()).isEqualTo("kvm-probe");
    assertThat(Reaper.deadProcess(Reaper.PROBE_OWNER_PREFIX).test(m)).as("the owner (this JVM) is alive").isFalse();
  }

  @Test
  void aNameWithoutTheProbePrefixIsRefused() {
    assertThatThrownBy(() -> KvmProbe.xml("podst-web-0", "kvm", Path.of("/k"), Path.of("/l")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(KvmProbe.OWNER_PREFIX);
  }

  @Test
  void theProbeReapsProbeDomainsOfDeadJvmsOnly() throws Exception {
    conn = new Connect(URI);
    String dead = startProbe(deadPid(), "dead");
    String live = startProbe(ProcessHandle.current().pid(), "live");
    // a domain with the probe's name shape but no pods metadata: not ours to judge
    String foreign = probeName(deadPid(), "foreign");
    conn.domainCreateXML("<domain type='test'><name>" + foreign + "</name><memory>65536</memory>"
        + "<os><type>hvm</type></os></domain>", 0);

    List<String> reaped = KvmProbe.reapOrphans(conn);

    assertThat(reaped).contains(dead).doesNotContain(live, foreign);
    assertThat(exists(dead)).isFalse();
    assertThat(exists(live)).isTrue();
    assertThat(exists(foreign)).isTrue();
  }

  @Test
  void theReaperReapsProbeDomainsOfDeadJvmsThroughTheHypervisor() throws Exception {
    conn = new Connect(URI);
    String dead = startProbe(deadPid(), "rdead");
    String live = startProbe(ProcessHandle.current().pid(), "rlive");
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(URI)) {
      assertThat(Reaper.reapProbes(hv)).contains(dead).doesNotContain(live);
    }
    assertThat(exists(dead)).isFalse();
    assertThat(exists(live)).isTrue();
  }
}
