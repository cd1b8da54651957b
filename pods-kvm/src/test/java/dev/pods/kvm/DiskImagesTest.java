package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.pods.BackendException;
import dev.pods.ImagePolicy;
import dev.pods.kvm.internal.Exec;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Base-image cache, overlays and data disks with the real qemu-img; downloads from a loopback server. */
class DiskImagesTest {
  @TempDir Path dir;
  private DiskImages disks;
  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();
  private byte[] served;

  @BeforeAll
  static void tools() {
    Tools.assumeInstalled("qemu-img", "qemu-utils");
  }

  @BeforeEach
  void setUp() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/img.qcow2", ex -> {
      requests.incrementAndGet();
      ex.sendResponseHeaders(200, served.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(served);
      }
    });
    server.createContext("/missing", ex -> {
      ex.sendResponseHeaders(404, -1);
      ex.close();
    });
    server.start();
    // the loopback test server is a private destination: allowed explicitly, as a host with a local mirror would
    disks = DiskImages.at(dir.resolve("pods"), ImagePolicy.builder()
        .allowUrlPrefix("http://127.0.0.1:" + server.getAddress().getPort() + "/").allowPrivateDestinations(true)
        .build());
  }

  @AfterEach
  void tearDown() {
    server.stop(0);
  }

  private URI url(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  private Path qcow2(String name, String size) {
    Path p = dir.resolve(name);
    Exec.run("test", List.of("qemu-img", "create", "-q", "-f", "qcow2", p.toString(), size), null,
        Duration.ofSeconds(30));
    return p;
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private static String info(Path p) {
    return Exec.run("test", List.of("qemu-img", "info", "-U", "--output=json", p.toString()), null,
        Duration.ofSeconds(30)).stdout();
  }

  @Test
  void aLocalBaseIsCachedOnceUnderItsDigest() throws Exception {
    Path src = qcow2("src.qcow2", "64M");
    List<ImageProgress> events = new CopyOnWriteArrayList<>();
    Path base = disks.base(ImageSource.file(src), events::add);
    assertThat(base.getFileName().toString()).isEqualTo(sha256(Files.readAllBytes(src)) + ".qcow2");
    assertThat(base.getParent()).isEqualTo(disks.root().resolve("base"));
    assertThat(Files.getPosixFilePermissions(base)).extracting(Object::toString)
        .containsExactlyInAnyOrder("OWNER_READ", "GROUP_READ");
    assertThat(Files.getPosixFilePermissions(disks.root()).toString()).contains("OTHERS_EXECUTE");
    assertThat(events).last().matches(ImageProgress::done);
    assertThat(disks.base(ImageSource.file(src), e -> {})).isEqualTo(base);
  }

  @Test
  void anOverlayIsBackedByTheBaseAndResized() {
    Path base = disks.base(ImageSource.file(qcow2("src.qcow2", "64M")), e -> {});
    Path overlay = disks.overlay(base, disks.instanceDir("podst-x'><y").resolve("root.qcow2"), 1L << 30);
    String json = info(overlay);
    assertThat(json).contains("\"backing-filename\": \"" + base + "\"");
    assertThat(json).contains("\"backing-filename-format\": \"qcow2\"");
    assertThat(DiskImages.info(overlay).virtualSize()).isEqualTo(1L << 30);
    Path same = disks.overlay(base, overlay, 1024);
    assertThat(DiskImages.info(same).virtualSize()).isEqualTo(64L << 20);
    disks.deleteInstance("podst-x'><y");
    assertThat(Files.exists(overlay)).isFalse();
    assertThat(Files.exists(base)).isTrue();
  }

  @Test
  void theOverlayCommandNamesBaseAndFormat() {
    assertThat(DiskImages.overlayCommand(Path.of("/b/base.qcow2"), "qcow2", Path.of("/i/o.qcow2"), 0))
        .containsExactly("qemu-img", "create", "-q", "-f", "qcow2", "-b", "/b/base.qcow2", "-F", "qcow2",
            "/i/o.qcow2");
    assertThat(DiskImages.overlayCommand(Path.of("/b/x.raw"), "raw", Path.of("/o"), 10))
        .endsWith("-F", "raw", "/o", "10");
  }

  @Test
  void aMissingBaseFailsClearlyAndLeavesNothing() throws Exception {
    Path missing = dir.resolve("no-such-base.qcow2");
    assertThatThrownBy(() -> disks.base(ImageSource.file(missing), e -> {}))
        .isInstanceOf(BackendException.class).hasMessageContaining("no-such-base.qcow2");
    Path overlay = dir.resolve("inst").resolve("o.qcow2");
    assertThatThrownBy(() -> disks.overlay(missing, overlay, 0))
        .isInstanceOf(BackendException.class).hasMessageContaining("does not exist");
    assertThat(Files.exists(overlay)).isFalse();
  }

  @Test
  void aUrlIsDownloadedOnceWithProgressAndDigestCheck() throws Exception {
    Path src = qcow2("dl.qcow2", "3G");
    served = Files.readAllBytes(src);
    List<ImageProgress> events = new CopyOnWriteArrayList<>();
    String digest = sha256(served);
    Path base = disks.base(ImageSource.url(url("/img.qcow2"), digest), events::add);
    assertThat(base.getFileName().toString()).isEqualTo(digest + ".qcow2");
    assertThat(events).first().matches(e -> e.bytes() == 0 && !e.done());
    assertThat(events).last().matches(e -> e.done() && e.bytes() == served.length);
    assertThat(events).allMatch(e -> e.totalBytes() == served.length);
    assertThat(disks.base(ImageSource.url(url("/img.qcow2"), digest), e -> {})).isEqualTo(base);
    assertThat(requests.get()).isEqualTo(1);
    assertThat(DiskImages.info(base).virtualSize()).isEqualTo(3L << 30);
  }

  @Test
  void aDigestMismatchOrHttpErrorCachesNothing() throws Exception {
    served = Files.readAllBytes(qcow2("dl.qcow2", "1M"));
    String wrong = "0".repeat(64);
    assertThatThrownBy(() -> disks.base(ImageSource.url(url("/img.qcow2"), wrong), e -> {}))
        .isInstanceOf(BackendException.class).hasMessageContaining("sha256");
    assertThatThrownBy(() -> disks.base(ImageSource.url(url("/missing")), e -> {}))
        .isInstanceOf(BackendException.class).hasMessageContaining("404");
    try (var s = Files.list(disks.root().resolve("base"))) {
      assertThat(s.map(p -> p.getFileName().toString())).allMatch(n -> n.startsWith(".lock-"));
    }
  }

  @Test
  void dataDisksPersistUntilDeleted() throws Exception {
    Path d = disks.dataDisk("db-data", 256L << 20);
    Exec.run("test", List.of("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", d.toString()), null,
        Duration.ofSeconds(30));
    long size = Files.size(d);
    Path again = disks.dataDisk("db-data", 512L << 20);
    assertThat(again).isEqualTo(d);
    assertThat(Files.size(again)).isEqualTo(size);
    assertThat(DiskImages.info(again).virtualSize()).isEqualTo(256L << 20);
    String read = Exec.run("test", List.of("qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 0 64k", d.toString()),
        null, Duration.ofSeconds(30)).stdout();
    assertThat(read).contains("read 65536/65536 bytes");
    disks.deleteDataDisk("db-data");
    assertThat(Files.exists(d)).isFalse();
    assertThatThrownBy(() -> disks.dataDisk("../x", 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void instanceFolderNamesAreEncoded() {
    assertThat(DiskImages.encode("podst-1-web-0")).isEqualTo("podst-1-web-0");
    assertThat(DiskImages.encode("a'><x/..")).isEqualTo("a_27_3e_3cx_2f..");
    assertThat(DiskImages.encode("..")).isEqualTo("_2e.");
    for (String n : List.of("podst-1-web-0", "a'><x/..", "..", "\u00e9t\u00e9", "_x_")) {
      assertThat(DiskImages.decode(DiskImages.encode(n))).isEqualTo(n);
    }
    assertThat(DiskImages.decode("_zz")).isNull();
    assertThat(DiskImages.decode("a_2")).isNull();
  }
}
