package dev.pods.kvm.internal;

import dev.pods.spi.Acceleration;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainFilesystem;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainNic;
import dev.pods.spi.DomainSpec;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.jspecify.annotations.Nullable;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/**
 * Writes libvirt domain XML from a {@link DomainSpec} and reads it back. Pure functions, thread-safe.
 *
 * <p>Every value is escaped, so no name, path or metadata value can change the document's structure. The pods
 * metadata lives in {@code <metadata>} in the {@link #NAMESPACE} namespace. Reading uses a namespace-aware DOM
 * parser with DTDs and external entities disabled.
 */
public final class DomainXml {
  /** Namespace of the pods metadata element. */
  public static final String NAMESPACE = "urn:dev.pods:instance:1";
  /** The element name (and libvirt metadata key) of the pods metadata. */
  public static final String ELEMENT = "instance";
  /** Prefix used when writing the metadata element. */
  public static final String PREFIX = "pods";

  private DomainXml() {}

  /** Options of the writer that are not part of the spec. */
  public record Options(int tbCacheMib, @Nullable String uuid) {
    /** Default options: 64 MiB TCG translation cache, no UUID. */
    public static Options defaults() {
      return new Options(64, null);
    }
  }

  /**
   * The domain XML for {@code spec}.
   *
   * @param spec the domain; its acceleration must be resolved (KVM or TCG)
   * @param options writer options (TCG cache size, the UUID of a domain being redefined)
   */
  public static String write(DomainSpec spec, Options options) {
    if (spec.acceleration() == Acceleration.AUTO) {
      throw new IllegalArgumentException("acceleration must be resolved before writing XML");
    }
    boolean tcg = spec.acceleration() == Acceleration.TCG;
    StringBuilder x = new StringBuilder(2048);
    x.append("<domain type='").append(tcg ? "qemu" : "kvm").append("'>\n");
    el(x, 1, "name", spec.name());
    if (options.uuid() != null) {
      el(x, 1, "uuid", options.uuid());
    }
    x.append(metadata(spec.metadata()));
    x.append("  <memory unit='MiB'>").append(spec.memoryMib()).append("</memory>\n");
    if (!spec.filesystems().isEmpty()) {
      // virtiofs: the guest's memory is shared with virtiofsd
      x.append("  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>\n");
    }
    x.append("  <vcpu>").append(spec.vcpus()).append("</vcpu>\n");
    x.append("  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n");
    if (spec.boot() instanceof DomainBoot.Kernel k) {
      el(x, 2, "kernel", k.kernel().toString());
      if (k.initrd() != null) {
        el(x, 2, "initrd", k.initrd().toString());
      }
      el(x, 2, "cmdline", k.cmdline());
    } else {
      x.append("    <boot dev='hd'/>\n");
    }
    x.append("  </os>\n");
    x.append("  <features>\n    <acpi/>\n");
    if (tcg) {
      // QEMU's default translation cache is 1 GiB and a busy guest fills it: bound it.
      x.append("    <tcg><tb-cache unit='MiB'>").append(options.tbCacheMib()).append("</tb-cache></tcg>\n");
    }
    x.append("  </features>\n");
    if (!tcg) {
      x.append("  <cpu mode='host-passthrough'/>\n");
    }
    x.append("  <clock offset='utc'/>\n");
    x.append("  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n");
    x.append("  <on_crash>destroy</on_crash>\n");
    x.append("  <devices>\n");
    int i = 0;
    for (DomainDisk d : spec.disks()) {
      x.append("    <disk type='file' device='disk'>\n");
      x.append("      <driver name='qemu' type='").append(d.format() == DomainDisk.Format.QCOW2 ? "qcow2" : "raw")
          .append("'/>\n");
      x.append("      <source file='").append(attr(d.path().toString())).append("'/>\n");
      x.append("      <target dev='").append(diskTarget(i++)).append("' bus='virtio'/>\n");
      if (d.readOnly()) {
        x.append("      <readonly/>\n");
      }
      if (d.serial() != null) {
        x.append("      <serial>").append(attr(d.serial())).append("</serial>\n");
      }
      x.append("    </disk>\n");
    }
    if (spec.seedIso() != null) {
      // IDE on machine 'pc': the Debian cloud kernel has no AHCI, so a SATA cdrom would be invisible.
      x.append("    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n");
      x.append("      <source file='").append(attr(spec.seedIso().toString())).append("'/>\n");
      x.append("      <target dev='hdc' bus='ide'/>\n      <readonly/>\n    </disk>\n");
    }
    for (DomainNic n : spec.nics()) {
      if (n.attachment() == DomainNic.Attachment.TAP) {
        x.append("    <interface type='ethernet'>\n");
        x.append("      <mac address='").append(attr(n.mac())).append("'/>\n");
        x.append("      <target dev='").append(attr(n.device())).append("' managed='no'/>\n");
      } else {
        x.append("    <interface type='bridge'>\n");
        x.append("      <mac address='").append(attr(n.mac())).append("'/>\n");
        x.append("      <source bridge='").append(attr(n.device())).append("'/>\n");
      }
      x.append("      <model type='virtio'/>\n    </interface>\n");
    }
    for (DomainFilesystem f : spec.filesystems()) {
      x.append("    <filesystem type='mount' accessmode='passthrough'>\n      <driver type='virtiofs'/>\n");
      x.append("      <source dir='").append(attr(f.source().toString())).append("'/>\n");
      x.append("      <target dir='").append(attr(f.tag())).append("'/>\n    </filesystem>\n");
    }
    if (spec.serialLog() != null) {
      // A pty with a log: virtlogd (root) writes the file, and an interactive console stays possible.
      x.append("    <serial type='pty'>\n");
      x.append("      <log file='").append(attr(spec.serialLog().toString())).append("' append='off'/>\n");
      x.append("      <target port='0'/>\n    </serial>\n");
      x.append("    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n");
    }
    if (spec.vncListen() != null) {
      String a = attr(spec.vncListen());
      x.append("    <graphics type='vnc' autoport='yes' listen='").append(a).append('\'');
      if (spec.vncPassword() != null) {
        x.append(" passwd='").append(attr(spec.vncPassword())).append('\'');
      }
      x.append(">\n");
      x.append("      <listen type='address' address='").append(a).append("'/>\n    </graphics>\n");
    }
    // no USB controller and no balloon: nothing for the guest to probe that pods does not use
    x.append("    <controller type='usb' model='none'/>\n");
    x.append("    <memballoon model='none'/>\n");
    x.append("  </devices>\n</domain>\n");
    return x.toString();
  }

  /**
   * The {@code <metadata>} element (indented for a direct child of {@code <domain>}) carrying {@code m} in the
   * {@link #NAMESPACE} namespace, as {@link #write} puts it and {@link #read} reads it back.
   */
  public static String metadata(DomainMetadata m) {
    StringBuilder x = new StringBuilder(256);
    x.append("  <metadata>\n");
    x.append("    <").append(PREFIX).append(':').append(ELEMENT).append(" xmlns:").append(PREFIX).append("='")
        .append(NAMESPACE).append("'>\n");
    el(x, 3, PREFIX + ":owner", m.owner());
    el(x, 3, PREFIX + ":pod", m.pod());
    el(x, 3, PREFIX + ":unit", m.unit());
    el(x, 3, PREFIX + ":index", Integer.toString(m.index()));
    el(x, 3, PREFIX + ":spec-hash", m.specHash());
    x.append("    </").append(PREFIX).append(':').append(ELEMENT).append(">\n");
    x.append("  </metadata>\n");
    return x.toString();
  }

  /** {@code vda}, {@code vdb}, ..., {@code vdz}, {@code vdaa}, ... */
  static String diskTarget(int index) {
    StringBuilder s = new StringBuilder();
    int n = index;
    do {
      s.insert(0, (char) ('a' + n % 26));
      n = n / 26 - 1;
    } while (n >= 0);
    return "vd" + s;
  }

  /** A domain XML read back: the spec when the domain carries pods metadata, plus libvirt's identity. */
  public record Parsed(String name, @Nullable String uuid, Optional<DomainSpec> spec, Live live) {}

  /**
   * Device names of a running domain, for statistics, and the port its VNC display listens on ({@code -1}: none,
   * or the domain does not run).
   */
  public record Live(List<String> diskTargets, List<String> interfaceTargets, int vncPort) {}

  /**
   * Parses a libvirt domain XML (live or inactive).
   *
   * @throws IllegalArgumentException when the text is not well-formed XML or not a domain
   */
  public static Parsed read(String xml) {
    Document doc = parse(xml);
    Element root = doc.getDocumentElement();
    if (!"domain".equals(root.getLocalName())) {
      throw new IllegalArgumentException("not a domain XML: <" + root.getLocalName() + ">");
    }
    String name = text(child(root, "name"));
    Element uuidEl = child(root, "uuid");
    String uuid = uuidEl == null ? null : text(uuidEl);
    Element devices = child(root, "devices");
    List<String> diskTargets = new ArrayList<>();
    List<String> ifTargets = new ArrayList<>();
    List<DomainDisk> disks = new ArrayList<>();
    Path seed = null;
    Path log = null;
    List<DomainNic> nics = new ArrayList<>();
    List<DomainFilesystem> filesystems = new ArrayList<>();
    String vnc = null;
    String vncPassword = null;
    int vncPort = -1;
    if (devices != null) {
      for (Element d : children(devices, "disk")) {
        Element target = child(d, "target");
        if (target != null && !target.getAttribute("dev").isEmpty()) {
          diskTargets.add(target.getAttribute("dev"));
        }
        Element src = child(d, "source");
        String file = src == null ? "" : src.getAttribute("file");
        if (file.isEmpty()) {
          continue;
        }
        if ("cdrom".equals(d.getAttribute("device"))) {
          seed = Path.of(file);
        } else if ("disk".equals(d.getAttribute("device"))) {
          Element driver = child(d, "driver");
          DomainDisk.Format f = driver != null && "raw".equals(driver.getAttribute("type"))
              ? DomainDisk.Format.RAW : DomainDisk.Format.QCOW2;
          Element serial = child(d, "serial");
          String sn = serial == null ? "" : serial.getTextContent().strip();
          disks.add(new DomainDisk(Path.of(file), f, child(d, "readonly") != null, sn.isEmpty() ? null : sn));
        }
      }
      for (Element n : children(devices, "interface")) {
        Element mac = child(n, "mac");
        Element target = child(n, "target");
        String tdev = target == null ? "" : target.getAttribute("dev");
        if (!tdev.isEmpty()) {
          ifTargets.add(tdev);
        }
        if (mac == null) {
          continue;
        }
        if ("ethernet".equals(n.getAttribute("type")) && !tdev.isEmpty()) {
          nics.add(DomainNic.tap(tdev, mac.getAttribute("address")));
        } else if ("bridge".equals(n.getAttribute("type"))) {
          Element src = child(n, "source");
          if (src != null && !src.getAttribute("bridge").isEmpty()) {
            nics.add(DomainNic.bridge(src.getAttribute("bridge"), mac.getAttribute("address")));
          }
        }
      }
      for (Element f : children(devices, "filesystem")) {
        Element src = child(f, "source");
        Element target = child(f, "target");
        if (src != null && target != null && !src.getAttribute("dir").isEmpty()) {
          filesystems.add(new DomainFilesystem(Path.of(src.getAttribute("dir")), target.getAttribute("dir")));
        }
      }
      for (Element s : children(devices, "serial")) {
        Element l = child(s, "log");
        if (l != null && !l.getAttribute("file").isEmpty()) {
          log = Path.of(l.getAttribute("file"));
          break;
        }
        Element src = child(s, "source");
        if ("file".equals(s.getAttribute("type")) && src != null && !src.getAttribute("path").isEmpty()) {
          log = Path.of(src.getAttribute("path"));
          break;
        }
      }
      for (Element g : children(devices, "graphics")) {
        if ("vnc".equals(g.getAttribute("type"))) {
          Element l = child(g, "listen");
          String a = l != null && !l.getAttribute("address").isEmpty() ? l.getAttribute("address")
              : g.getAttribute("listen");
          vnc = a.isEmpty() ? null : a;
          vncPassword = g.getAttribute("passwd").isEmpty() ? null : g.getAttribute("passwd");
          try {
            vncPort = Integer.parseInt(g.getAttribute("port"));
          } catch (NumberFormatException e) {
            vncPort = -1; // inactive XML: no port yet
          }
        }
      }
    }
    Live live = new Live(List.copyOf(diskTargets), List.copyOf(ifTargets), vncPort);
    DomainMetadata meta = readMetadata(root);
    if (meta == null) {
      return new Parsed(name, uuid, Optional.empty(), live);
    }
    String type = root.getAttribute("type");
    Acceleration acc = "kvm".equals(type) ? Acceleration.KVM : Acceleration.TCG;
    long memoryMib = memoryMib(child(root, "memory"));
    Element vcpuEl = child(root, "vcpu");
    int vcpus = vcpuEl == null ? 1 : Integer.parseInt(text(vcpuEl).trim());
    Element os = child(root, "os");
    DomainBoot boot = DomainBoot.disk();
    Element kernel = os == null ? null : child(os, "kernel");
    if (kernel != null) {
      Element initrd = child(os, "initrd");
      Element cmdline = child(os, "cmdline");
      boot = DomainBoot.kernel(Path.of(text(kernel)), initrd == null ? null : Path.of(text(initrd)),
          cmdline == null ? "" : text(cmdline));
    }
    DomainSpec spec = new DomainSpec(name, meta, vcpus, memoryMib, boot, disks, seed, log, nics, vnc, acc,
        vncPassword, filesystems);
    return new Parsed(name, uuid, Optional.of(spec), live);
  }

  private static @Nullable DomainMetadata readMetadata(Element root) {
    Element md = child(root, "metadata");
    if (md == null) {
      return null;
    }
    for (Node n = md.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && NAMESPACE.equals(e.getNamespaceURI()) && ELEMENT.equals(e.getLocalName())) {
        String owner = nsText(e, "owner");
        String index = nsText(e, "index");
        if (owner == null || owner.isBlank() || index == null) {
          return null;
        }
        return new DomainMetadata(owner, orEmpty(nsText(e, "pod")), orEmpty(nsText(e, "unit")),
            Integer.parseInt(index.trim()), orEmpty(nsText(e, "spec-hash")));
      }
    }
    return null;
  }

  private static String orEmpty(@Nullable String s) {
    return s == null ? "" : s;
  }

  private static @Nullable String nsText(Element parent, String local) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && NAMESPACE.equals(e.getNamespaceURI()) && local.equals(e.getLocalName())) {
        return e.getTextContent();
      }
    }
    return null;
  }

  private static long memoryMib(@Nullable Element mem) {
    if (mem == null) {
      return 0;
    }
    long v = Long.parseLong(text(mem).trim());
    String unit = mem.getAttribute("unit").toLowerCase(Locale.ROOT);
    switch (unit) {
      case "b", "bytes":
        return v / (1024 * 1024);
      case "mib", "m":
        return v;
      case "gib", "g":
        return v * 1024;
      default: // "", KiB, k
        return v / 1024;
    }
  }

  private static Document parse(String xml) {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setXIncludeAware(false);
      f.setExpandEntityReferences(false);
      DocumentBuilder b = f.newDocumentBuilder();
      b.setErrorHandler(null);
      return b.parse(new InputSource(new StringReader(xml)));
    } catch (ParserConfigurationException | SAXException | IOException e) {
      throw new IllegalArgumentException("malformed domain XML: " + e.getMessage(), e);
    }
  }

  private static @Nullable Element child(Element parent, String local) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getNamespaceURI() == null && local.equals(e.getLocalName())) {
        return e;
      }
    }
    return null;
  }

  private static List<Element> children(Element parent, String local) {
    List<Element> out = new ArrayList<>();
    NodeList nl = parent.getChildNodes();
    for (int i = 0; i < nl.getLength(); i++) {
      if (nl.item(i) instanceof Element e && e.getNamespaceURI() == null && local.equals(e.getLocalName())) {
        out.add(e);
      }
    }
    return out;
  }

  private static String text(@Nullable Element e) {
    return e == null ? "" : e.getTextContent();
  }

  private static void el(StringBuilder x, int depth, String name, String value) {
    x.append("  ".repeat(depth)).append('<').append(name).append('>').append(escape(value)).append("</")
        .append(name).append(">\n");
  }

  private static String attr(String s) {
    return escape(s);
  }

  /** Escapes the five XML special characters (valid in text and in both kinds of quoted attributes). */
  public static String escape(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String r = switch (c) {
        case '&' -> "&amp;";
        case '<' -> "&lt;";
        case '>' -> "&gt;";
        case '\'' -> "&apos;";
        case '"' -> "&quot;";
        default -> null;
      };
      if (r != null && b == null) {
        b = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (b != null) {
        if (r != null) {
          b.append(r);
        } else {
          b.append(c);
        }
      }
    }
    return b == null ? s : b.toString();
  }
}
