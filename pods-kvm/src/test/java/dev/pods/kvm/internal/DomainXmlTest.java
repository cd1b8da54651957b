package dev.pods.kvm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.spi.Acceleration;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainFilesystem;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainNic;
import dev.pods.spi.DomainSpec;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;

class DomainXmlTest {
  private static final Path KERNEL = Path.of("/var/cache/pods/images/t/vmlinuz");
  private static final Path INITRD = Path.of("/var/cache/pods/images/t/initrd.img");

  private static DomainSpec.Builder spec(String name, DomainMetadata m) {
    return DomainSpec.builder(name)
        .metadata(m)
        .memoryMib(256)
        .vcpus(2)
        .boot(DomainBoot.kernel(KERNEL, INITRD, "console=ttyS0 quiet pods.x='1'"))
        .disk(DomainDisk.qcow2(Path.of("/var/lib/pods/i/root.qcow2")))
        .disk(new DomainDisk(Path.of("/var/lib/pods/data/db.qcow2"), DomainDisk.Format.RAW, true, "pods-m0"))
        .seedIso(Path.of("/var/lib/pods/i/seed.iso"))
        .serialLog(Path.of("/var/lib/pods/i/console.log"))
        .acceleration(Acceleration.TCG);
  }

  @Test
  void aSharedFolderIsVirtiofsWithSharedMemoryAndRoundTrips() throws Exception {
    DomainSpec withFs = spec("t", meta("u")).filesystem(new DomainFilesystem(Path.of("/srv/share"), "podsfs0")).build();
    String xml = DomainXml.write(withFs, DomainXml.Options.defaults());
    Document d = dom(xml);
    assertThat(((Element) d.getElementsByTagName("access").item(0)).getAttribute("mode")).isEqualTo("shared");
    assertThat(((Element) ((Element) d.getElementsByTagName("filesystem").item(0)).getElementsByTagName("driver")
        .item(0)).getAttribute("type")).isEqualTo("virtiofs");
    assertThat(DomainXml.read(xml).spec().orElseThrow()).isEqualTo(withFs);
    assertThat(DomainXml.write(spec("t", meta("u")).build(), DomainXml.Options.defaults()))
        .doesNotContain("memoryBacking").doesNotContain("filesystem");
  }

  private static DomainMetadata meta(String unit) {
    return new DomainMetadata("session-1", "shop", unit, 3, "sha256:abc");
  }

  private static Document dom(String xml) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    return f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
  }

  private static List<String> structure(Node n) {
    List<String> out = new ArrayList<>();
    walk(n, "", out);
    return out;
  }

  private static void walk(Node n, String path, List<String> out) {
    for (Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
      if (c instanceof Element e) {
        String p = path + "/" + e.getLocalName();
        StringBuilder attrs = new StringBuilder();
        for (int i = 0; i < e.getAttributes().getLength(); i++) {
          attrs.append(' ').append(e.getAttributes().item(i).getNodeName());
        }
        out.add(p + attrs);
        walk(e, p, out);
      }
    }
  }

  @Test
  void hostileValuesDoNotChangeTheStructure() throws Exception {
    String plain = DomainXml.write(spec("web-0", meta("web")).build(), DomainXml.Options.defaults());
    DomainSpec hostile = spec("a'><x", meta("a'><x"))
        .serialLog(Path.of("/var/lib/pods/i/'><serial type=\"tcp\"/>.log"))
        .build();
    String xml = DomainXml.write(hostile, DomainXml.Options.defaults());
    assertThat(structure(dom(xml))).isEqualTo(structure(dom(plain)));
    Document d = dom(xml);
    assertThat(d.getElementsByTagName("name").item(0).getTextContent()).isEqualTo("a'><x");
    assertThat(DomainXml.read(xml).spec()).contains(hostile);
  }

  @Test
  void metadataIsInOurNamespaceAndRoundTrips() throws Exception {
    DomainSpec s = spec("web-3", meta("web")).build();
    String xml = DomainXml.write(s, DomainXml.Options.defaults());
    Element md = (Element) dom(xml).getElementsByTagName("metadata").item(0);
    Element inst = (Element) md.getElementsByTagNameNS(DomainXml.NAMESPACE, "instance").item(0);
    assertThat(inst).isNotNull();
    assertThat(inst.getElementsByTagNameNS(DomainXml.NAMESPACE, "unit").item(0).getTextContent()).isEqualTo("web");
    assertThat(inst.getElementsByTagNameNS(DomainXml.NAMESPACE, "index").item(0).getTextContent()).isEqualTo("3");
    DomainXml.Parsed p = DomainXml.read(xml);
    assertThat(p.name()).isEqualTo("web-3");
    assertThat(p.spec()).contains(s);
  }

  @Property(tries = 300)
  void anyMetadataRoundTrips(
      @ForAll @StringLength(min = 1, max = 40) @CharRange(from = ' ', to = '\u00ff') @Chars({'\u00e9', '\u4e2d'})
          String owner,
      @ForAll @StringLength(max = 40) @CharRange(from = ' ', to = '~') String unit,
      @ForAll @IntRange(min = 0, max = 100000) int index) {
    if (owner.isBlank()) {
      return;
    }
    DomainMetadata m = new DomainMetadata(owner, unit + "-pod", unit, index, "h" + unit);
    DomainSpec s = spec("n" + index, m).build();
    assertThat(DomainXml.read(DomainXml.write(s, DomainXml.Options.defaults())).spec()).contains(s);
  }

  @Test
  void tcgBoundsTheTranslationCacheAndKvmDoesNot() throws Exception {
    DomainSpec s = spec("t", meta("u")).build();
    Document tcg = dom(DomainXml.write(s, new DomainXml.Options(32, null)));
    assertThat(tcg.getDocumentElement().getAttribute("type")).isEqualTo("qemu");
    Element tb = (Element) tcg.getElementsByTagName("tb-cache").item(0);
    assertThat(tb.getAttribute("unit")).isEqualTo("MiB");
    assertThat(tb.getTextContent()).isEqualTo("32");
    Document kvm = dom(DomainXml.write(s.withAcceleration(Acceleration.KVM), DomainXml.Options.defaults()));
    assertThat(kvm.getDocumentElement().getAttribute("type")).isEqualTo("kvm");
    assertThat(kvm.getElementsByTagName("tcg").getLength()).isZero();
    assertThat(DomainXml.read(DomainXml.write(s.withAcceleration(Acceleration.KVM), DomainXml.Options.defaults()))
        .spec().orElseThrow().acceleration()).isEqualTo(Acceleration.KVM);
  }

  @Test
  void autoAccelerationCannotBeWritten() {
    DomainSpec s = spec("t", meta("u")).acceleration(Acceleration.AUTO).build();
    assertThatThrownBy(() -> DomainXml.write(s, DomainXml.Options.defaults()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theSeedIsAReadOnlyIdeCdromOnMachinePc() throws Exception {
    Document d = dom(DomainXml.write(spec("t", meta("u")).build(), DomainXml.Options.defaults()));
    Element type = (Element) d.getElementsByTagName("type").item(0);
    assertThat(type.getAttribute("machine")).isEqualTo("pc");
    Element cdrom = null;
    for (int i = 0; i < d.getElementsByTagName("disk").getLength(); i++) {
      Element e = (Element) d.getElementsByTagName("disk").item(i);
      if ("cdrom".equals(e.getAttribute("device"))) {
        cdrom = e;
      }
    }
    assertThat(cdrom).isNotNull();
    Element target = (Element) cdrom.getElementsByTagName("target").item(0);
    assertThat(target.getAttribute("bus")).isEqualTo("ide");
    assertThat(target.getAttribute("dev")).isEqualTo("hdc");
    assertThat(cdrom.getElementsByTagName("readonly").getLength()).isEqualTo(1);
  }

  @Test
  void disksGetVirtioTargetsInOrder() throws Exception {
    Document d = dom(DomainXml.write(spec("t", meta("u")).build(), DomainXml.Options.defaults()));
    List<String> targets = new ArrayList<>();
    for (int i = 0; i < d.getElementsByTagName("target").getLength(); i++) {
      Element e = (Element) d.getElementsByTagName("target").item(i);
      if ("virtio".equals(e.getAttribute("bus"))) {
        targets.add(e.getAttribute("dev"));
      }
    }
    assertThat(targets).containsExactly("vda", "vdb");
    // the data disk's serial number (how the agent finds it) is written and read back
    assertThat(d.getElementsByTagName("serial").item(0).getTextContent()).isEqualTo("pods-m0");
    DomainSpec back = DomainXml.read(DomainXml.write(spec("t", meta("u")).build(), DomainXml.Options.defaults()))
        .spec().orElseThrow();
    assertThat(back.disks()).extracting(DomainDisk::serial).containsExactly(null, "pods-m0");
    assertThat(DomainXml.diskTarget(0)).isEqualTo("vda");
    assertThat(DomainXml.diskTarget(25)).isEqualTo("vdz");
    assertThat(DomainXml.diskTarget(26)).isEqualTo("vdaa");
  }

  @Test
  void diskBootHasNoKernel() throws Exception {
    DomainSpec s = spec("t", meta("u")).boot(DomainBoot.disk()).vncListen("127.0.0.1")
        .nic(DomainNic.tap("tap-x", "52:54:00:AA:bb:01")).build();
    String xml = DomainXml.write(s, DomainXml.Options.defaults());
    Document d = dom(xml);
    assertThat(d.getElementsByTagName("kernel").getLength()).isZero();
    assertThat(((Element) d.getElementsByTagName("boot").item(0)).getAttribute("dev")).isEqualTo("hd");
    assertThat(((Element) d.getElementsByTagName("graphics").item(0)).getAttribute("listen")).isEqualTo("127.0.0.1");
    assertThat(DomainXml.read(xml).spec()).contains(s);
  }

  @Test
  void readsWhatLibvirtReturns() {
    // Shape of `virsh dumpxml --inactive` for a domain we defined: KiB, namespace moved onto <metadata>,
    // normalised machine type, extra devices added by libvirt.
    String xml = """
        <domain type='qemu'>
          <name>podst-1-web-0</name>
          <uuid>8b0a4b4e-0d37-4a47-9b54-2a0e7f3a1c11</uuid>
          <metadata>
            <pods:instance xmlns:pods="urn:dev.pods:instance:1">
              <pods:owner>session-1</pods:owner>
              <pods:pod>shop</pods:pod>
              <pods:unit>a'&gt;&lt;x</pods:unit>
              <pods:index>0</pods:index>
              <pods:spec-hash>h</pods:spec-hash>
            </pods:instance>
          </metadata>
          <memory unit='KiB'>131072</memory>
          <currentMemory unit='KiB'>131072</currentMemory>
          <vcpu placement='static'>1</vcpu>
          <os>
            <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
            <kernel>/k/vmlinuz</kernel>
            <initrd>/k/initrd.img</initrd>
            <cmdline>console=ttyS0</cmdline>
          </os>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='/v/root.qcow2'/>
              <target dev='vda' bus='virtio'/>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
            </disk>
            <disk type='file' device='cdrom'>
              <driver name='qemu' type='raw'/>
              <source file='/v/seed.iso'/>
              <target dev='hdc' bus='ide'/>
              <readonly/>
            </disk>
            <controller type='usb' index='0' model='piix3-uhci'/>
            <serial type='pty'>
              <log file='/v/console.log' append='off'/>
              <target type='isa-serial' port='0'><model name='isa-serial'/></target>
            </serial>
            <console type='pty'><target type='serial' port='0'/></console>
            <memballoon model='none'/>
          </devices>
        </domain>
        """;
    DomainXml.Parsed p = DomainXml.read(xml);
    assertThat(p.uuid()).isEqualTo("8b0a4b4e-0d37-4a47-9b54-2a0e7f3a1c11");
    DomainSpec s = p.spec().orElseThrow();
    assertThat(s.memoryMib()).isEqualTo(128);
    assertThat(s.metadata().unit()).isEqualTo("a'><x");
    assertThat(s.disks()).containsExactly(DomainDisk.qcow2(Path.of("/v/root.qcow2")));
    assertThat(s.seedIso()).isEqualTo(Path.of("/v/seed.iso"));
    assertThat(s.serialLog()).isEqualTo(Path.of("/v/console.log"));
    assertThat(s.acceleration()).isEqualTo(Acceleration.TCG);
    assertThat(p.live().diskTargets()).containsExactly("vda", "hdc");
  }

  @Test
  void aDomainWithoutOurMetadataHasNoSpec() {
    DomainXml.Parsed p = DomainXml.read("<domain type='kvm'><name>other</name><memory>65536</memory>"
        + "<metadata><x:y xmlns:x='urn:other'/></metadata><os><type>hvm</type></os></domain>");
    assertThat(p.name()).isEqualTo("other");
    assertThat(p.spec()).isEmpty();
  }

  @Test
  void malformedXmlAndDoctypesAreRejected() {
    assertThatThrownBy(() -> DomainXml.read("<domain><name>x</domain>"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DomainXml.read(
        "<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><domain><name>&e;</name></domain>"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DomainXml.read("<network><name>x</name></network>"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
