package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BackendException;
import dev.pods.kvm.internal.Libvirt;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainNic;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.HypervisorContract;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;

/**
 * The libvirt backend against libvirt's test driver: real libvirt-java and libvirt.so, no daemon, no guest. Each
 * test gets a private empty host ({@code test:///ABS/node.xml}).
 */
class TestDriverHypervisorTest extends HypervisorContract {
  @Override
  protected boolean runsDisplays() {
    return false; // the test driver starts no emulator
  }

  @Override
  protected boolean sharesFolders() {
    return false; // the test driver starts no emulator and no virtiofsd
  }

  @TempDir Path dir;

  @BeforeAll
  static void libvirtIsInstalled() {
    LibvirtAvailability.assumeLibrary();
  }

  private String uri() throws Exception {
    Path node = dir.resolve("node.xml");
    if (!Files.exists(node)) {
      Files.writeString(node, "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores>"
          + "<threads>1</threads><mhz>2000</mhz></cpu><memory>8388608</memory></node>");
    }
    return "test://" + node.toAbsolutePath();
  }

  @Override
  protected Hypervisor createHypervisor() throws Exception {
    return LibvirtHypervisor.builder().uri(uri()).build();
  }

  @Override
  protected DomainSpec.Builder bootableSpec(String name, String ownerLabel) throws Exception {
    Path kernel = touch(dir.resolve("vmlinuz"));
    Path initrd = touch(dir.resolve("initrd.img"));
    return DomainSpec.builder(name)
        .metadata(new DomainMetadata(ownerLabel, "pod", "unit", 0, "hash"))
        .memoryMib(128)
        .boot(DomainBoot.kernel(kernel, initrd, "console=ttyS0 quiet"))
        .seedIso(dir.resolve("seed.iso"))
        .serialLog(dir.resolve(name.replace('/', '_') + ".log"));
  }

  @Override
  protected Path workDir() {
    return dir;
  }

  @Test
  void aDomainNotCreatedByPodsIsNeitherListedNorReplaced() throws Exception {
    // test:///default is shared by every connection of the process (a file URI is private per connection).
    String name = prefix + "foreign";
    Connect c = new Connect("test:///default");
    Hypervisor hv = LibvirtHypervisor.connect("test:///default");
    try {
      c.domainDefineXML("<domain type='test'><name>" + name + "</name><memory>65536</memory>"
          + "<os><type>hvm</type></os></domain>");
      assertThat(hv.find(name)).isEmpty();
      assertThat(hv.listAll()).extracting(i -> i.name()).doesNotContain(name);
      DomainSpec s = bootableSpec(name, owner).build();
      assertThatThrownBy(() -> hv.define(s))
          .isInstanceOf(BackendException.class)
          .hasMessageContaining("not created by pods")
          .satisfies(e -> assertThat(((BackendException) e).code()).isEqualTo(Libvirt.DOM_EXIST));
      assertThat(hv.state(name)).isEqualTo(DomainState.SHUT_OFF);
    } finally {
      c.domainLookupByName(name).undefine();
      c.close();
      hv.close();
    }
  }

  @Test
  void nicsAndVncSurviveTheRoundTrip() throws Exception {
    DomainSpec s = bootableSpec(prefix + "nics", owner)
        .nic(DomainNic.tap("podst-tap0", "52:54:00:12:34:56"))
        .nic(DomainNic.bridge("podst-br0", "52:54:00:12:34:57"))
        .vncListen("127.0.0.1")
        .build();
    var info = hv.define(s);
    assertThat(info.spec()).isEqualTo(s.withAcceleration(info.spec().acceleration()));
  }

  @Test
  void libvirtErrorsKeepTheirCode() {
    assertThatThrownBy(() -> hv.reboot(prefix + "nothing"))
        .isInstanceOf(BackendException.class)
        .satisfies(e -> {
          BackendException b = (BackendException) e;
          assertThat(b.code()).isEqualTo(Libvirt.NO_DOMAIN);
          assertThat(b.operation()).isEqualTo("reboot");
          assertThat(b.getMessage()).contains("reboot domain '" + prefix + "nothing' failed");
        });
  }

  @Test
  void aBadUriFailsWithABackendException() {
    assertThatThrownBy(() -> LibvirtHypervisor.connect("test:///" + dir.resolve("absent.xml")))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("connect");
  }

  @Test
  void manyConnectionsErrorsAndCollectionsDoNotCrashTheJvm() throws Exception {
    // Regression: the error callback given to libvirt was collectable; after a GC its JNA trampoline was reused
    // by a lifecycle callback and the next libvirt error called it with the wrong arguments (SIGSEGV).
    for (int i = 0; i < 60; i++) {
      try (Hypervisor h = createHypervisor()) {
        h.subscribe(e -> { });
        DomainSpec s = spec("gc" + i);
        h.define(s);
        assertThat(h.state(prefix + "absent" + i)).isEqualTo(DomainState.MISSING);
        h.undefine(s.name());
      }
      if (i % 5 == 0) {
        System.gc();
      }
    }
  }
}
