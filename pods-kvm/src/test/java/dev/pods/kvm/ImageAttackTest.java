package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.pods.BackendException;
import dev.pods.ImagePolicy;
import dev.pods.PodsException;
import dev.pods.kvm.internal.Exec;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a template author who is not the host's operator gets for an image that reaches into the host: a clear
 * refusal naming the rule, and nothing of the host in the image cache. Real qemu-img; a test server on loopback.
 */
class ImageAttackTest {
  @TempDir Path tmp;
  private HttpServer server;
  private int port;
  private final AtomicInteger secretRequests = new AtomicInteger();
  private final AtomicInteger imageRequests = new AtomicInteger();
  private byte[] image;

  @BeforeAll
  static void tools() {
    Tools.assumeInstalled("qemu-img", "qemu-utils");
  }

  @BeforeEach
  void setUp() throws IOException {
    image = Files.readAllBytes(qcow2(tmp.resolve("served.qcow2")));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    port = server.getAddress().getPort();
    server.createContext("/ok/img.qcow2", ex -> {
      imageRequests.incrementAndGet();
      ex.sendResponseHeaders(200, image.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(image);
      }
    });
    server.createContext("/ok/chunked.qcow2", ex -> {
      ex.sendResponseHeaders(200, 0); // chunked: the length is not announced
      try (OutputStream o = ex.getResponseBody()) {
        o.write(image);
      }
    });
    server.createContext("/secret/", ex -> {
      secretRequests.incrementAndGet();
      byte[] b = "the host's secret".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, b.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(b);
      }
    });
    redirect("/ok/to-secret", "/secret/x");
    redirect("/ok/to-metadata", "http://169.254.169.254/latest/meta-data/");
    redirect("/ok/to-file", "file:///etc/shadow");
    redirect("/ok/loop", "/ok/loop");
    server.start();
  }

  private void redirect(String from, String to) {
    server.createContext(from, ex -> {
      ex.getResponseHeaders().add("Location", to);
      ex.sendResponseHeaders(302, -1);
      ex.close();
    });
  }

  @AfterEach
  void tearDown() {
    server.stop(0);
  }

  private static Path qcow2(Path p) {
    Exec.run("test", List.of("qemu-img", "create", "-q", "-f", "qcow2", p.toString(), "1M"), null,
        Duration.ofSeconds(30));
    return p;
  }

  private Path allowed() throws IOException {
    return Files.createDirectories(tmp.resolve("allowed"));
  }

  private DiskImages disks(ImagePolicy policy) {
    return DiskImages.at(tmp.resolve("data"), policy);
  }

  private GuestCatalog catalog(ImagePolicy policy) {
    return GuestCatalog.of(GuestImages.at(tmp.resolve("guests")), disks(policy));
  }

  private String ok() {
    return "http://127.0.0.1:" + port + "/ok/";
  }

  /** Loopback URLs under /ok/ allowed, as for a local mirror; anything else as by default. */
  private ImagePolicy mirror() {
    return ImagePolicy.builder().allowUrlPrefix(ok()).allowPrivateDestinations(true).build();
  }

  /** Nothing but lock and index files in the image cache: no image, no partial copy. */
  private void assertCacheHoldsNoImage() throws IOException {
    Path base = tmp.resolve("data").resolve("base");
    if (!Files.exists(base)) {
      return;
    }
    try (Stream<Path> s = Files.list(base)) {
      assertThat(s.map(p -> p.getFileName().toString())).allMatch(n -> n.startsWith(".lock-"));
    }
  }

  @Test
  void hostFilesAreRefusedByDefault() throws IOException {
    GuestCatalog c = catalog(ImagePolicy.catalogueOnly());
    for (String file : List.of("/etc/shadow", "/proc/self/environ", "/dev/sda")) {
      assertThatThrownBy(() -> c.resolve(file))
          .isInstanceOf(PodsException.class)
          .hasMessage("image '" + file + "' is refused by the host's image policy: disk image paths are not allowed"
              + " (rule: no host folder is allowed for images)");
    }
    assertCacheHoldsNoImage();
  }

  @Test
  void pathsThatLeaveAnAllowedFolderAreRefused() throws IOException {
    Path allowed = allowed();
    Files.createSymbolicLink(allowed.resolve("shadow.raw"), Path.of("/etc/shadow"));
    Files.createSymbolicLink(allowed.resolve("env.raw"), Path.of("/proc/self/environ"));
    GuestCatalog c = catalog(ImagePolicy.builder().allowFolder(allowed).build());

    assertThatThrownBy(() -> c.resolve(allowed + "/../../../etc/shadow"))
        .hasMessageContaining("must be absolute and normalized");
    assertThatThrownBy(() -> c.resolve(allowed.resolve("shadow.raw").toString()))
        .hasMessageContaining("it resolves to /etc/shadow")
        .hasMessageContaining("(rule: allowed host folders)");
    assertThatThrownBy(() -> c.resolve(allowed.resolve("env.raw").toString()))
        .hasMessageContaining("(rule: allowed host folders)");
    assertThatThrownBy(() -> c.resolve("/etc/shadow")).hasMessageContaining("(rule: allowed host folders)");
    assertCacheHoldsNoImage();
  }

  @Test
  void anotherPodsDiskIsRefusedEvenUnderAnAllowedFolder() throws IOException {
    ImagePolicy everythingHere = ImagePolicy.builder().allowFolder(tmp).build();
    GuestCatalog c = catalog(everythingHere);
    Path otherDisk = qcow2(disks(everythingHere).instanceDir("pods-other-db-0").resolve("root.qcow2"));

    assertThatThrownBy(() -> c.resolve(otherDisk.toString()))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("inside the pods disk folder")
        .hasMessageContaining("(rule: never the disks of instances or the image cache)");
    assertThatThrownBy(() -> catalog(ImagePolicy.catalogueOnly()).resolve(otherDisk.toString()))
        .hasMessageContaining("(rule: no host folder is allowed for images)");
    assertCacheHoldsNoImage();
  }

  @Test
  void aQcow2BackedByAHostFileIsRefused() throws IOException {
    Path allowed = allowed();
    Path evil = allowed.resolve("evil.qcow2");
    Exec.run("test", List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw",
        evil.toString()), null, Duration.ofSeconds(30));
    Path json = allowed.resolve("json.qcow2");
    Exec.run("test", List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b",
        "json:{\"driver\":\"raw\",\"file\":{\"driver\":\"file\",\"filename\":\"/etc/hostname\"}}", "-F", "raw",
        json.toString(), "1M"), null, Duration.ofSeconds(30));
    GuestCatalog c = catalog(ImagePolicy.builder().allowFolder(allowed).build());

    assertThatThrownBy(() -> c.resolve(evil.toString()))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("is refused: it names a backing file ('/etc/shadow'); a base image must stand alone");
    assertThatThrownBy(() -> c.resolve(json.toString()))
        .hasMessageContaining("it names a backing file ('json:");
    assertCacheHoldsNoImage();
  }

  @Test
  void aCachedBaseWhoseChainLeavesTheCacheIsRefused() throws IOException {
    // a file planted in the cache by other means (an older pods, a hand copy) is inspected on every use
    Path base = Files.createDirectories(tmp.resolve("data").resolve("base"));
    Path planted = base.resolve("a".repeat(64) + ".qcow2");
    Exec.run("test", List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw",
        planted.toString()), null, Duration.ofSeconds(30));

    assertThatThrownBy(() -> disks(ImagePolicy.catalogueOnly()).base(ImageSource.file(planted), e -> {}))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("the backing chain of " + planted + " is refused: '/etc/hostname' is outside the"
            + " image cache");
  }

  @Test
  void aWorldReadableCopyLeftByAnOlderCacheIsRestrictedOnUse() throws IOException {
    DiskImages d = disks(ImagePolicy.catalogueOnly());
    Path base = Files.createDirectories(tmp.resolve("data").resolve("base"));
    Path old = qcow2(base.resolve("b".repeat(64) + ".qcow2"));
    Files.setPosixFilePermissions(old, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));

    assertThat(d.base(ImageSource.file(old), e -> {})).isEqualTo(old);

    assertThat(Files.getPosixFilePermissions(old)).extracting(Object::toString)
        .containsExactlyInAnyOrder("OWNER_READ", "GROUP_READ");
  }

  @Test
  void theMetadataAddressIsNeverFetched() throws IOException {
    ImagePolicy p = ImagePolicy.builder().allowUrlPrefix("http://169.254.169.254/").build();

    assertThatThrownBy(() -> catalog(p).resolve("http://169.254.169.254/latest/meta-data/iam"))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("169.254.169.254 resolves to 169.254.169.254: address 169.254.169.254 is not a"
            + " public address (rule: no loopback, link-local or private download destinations)");
    assertThatThrownBy(() -> catalog(ImagePolicy.catalogueOnly()).resolve("http://169.254.169.254/latest/"))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("(rule: no URL prefix is allowed for images)");
    assertCacheHoldsNoImage();
  }

  @Test
  void loopbackIsRefusedUnlessAllowedAndNoConnectionIsMade() throws IOException {
    ImagePolicy prefixOnly = ImagePolicy.builder().allowUrlPrefix(ok()).build();
    ImagePolicy byName = ImagePolicy.builder().allowUrlPrefix("http://localhost:" + port + "/ok/").build();

    assertThatThrownBy(() -> catalog(prefixOnly).resolve(ok() + "img.qcow2"))
        .hasMessageContaining("address 127.0.0.1 is not a public address");
    assertThatThrownBy(() -> catalog(byName).resolve("http://localhost:" + port + "/ok/img.qcow2"))
        .hasMessageContaining("localhost resolves to ")
        .hasMessageContaining("is not a public address");
    assertThat(imageRequests).hasValue(0);
    assertCacheHoldsNoImage();
  }

  @Test
  void aRedirectIsCheckedLikeTheFirstUrl() throws IOException {
    GuestCatalog c = catalog(mirror());

    assertThatThrownBy(() -> c.resolve(ok() + "to-secret"))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("redirect to http://127.0.0.1:" + port + "/secret/x: image URLs are allowed only under")
        .hasMessageContaining("(rule: allowed URL prefixes)");
    assertThatThrownBy(() -> c.resolve(ok() + "to-metadata"))
        .hasMessageContaining("redirect to http://169.254.169.254/latest/meta-data/");
    assertThatThrownBy(() -> c.resolve(ok() + "to-file"))
        .hasMessageContaining("redirect to file:///etc/shadow: only http and https image URLs are allowed");
    assertThatThrownBy(() -> c.resolve(ok() + "loop")).hasMessageContaining("redirected more than 5 times");
    assertThat(secretRequests).hasValue(0);
    assertCacheHoldsNoImage();
  }

  @Test
  void downloadsAreBoundedAndPinned() throws Exception {
    ImagePolicy small = ImagePolicy.builder().allowUrlPrefix(ok()).allowPrivateDestinations(true)
        .maxImageBytes(image.length - 1).build();
    String digest = java.util.HexFormat.of().formatHex(
        java.security.MessageDigest.getInstance("SHA-256").digest(image));

    assertThatThrownBy(() -> catalog(small).resolve(ok() + "img.qcow2"))
        .hasMessageContaining("over the image size bound of " + (image.length - 1) + " bytes");
    assertThatThrownBy(() -> catalog(small).resolve(ok() + "chunked.qcow2"))
        .hasMessageContaining("larger than the image size bound");
    assertThatThrownBy(() -> catalog(mirror()).resolve(ok() + "img.qcow2#sha256=" + "0".repeat(64)))
        .hasMessageContaining("sha256");
    assertCacheHoldsNoImage();

    Path cached = catalog(mirror()).resolve(ok() + "img.qcow2#sha256=" + digest).baseDisk();
    assertThat(cached.getFileName().toString()).isEqualTo(digest + ".qcow2");
    assertThat(Files.getPosixFilePermissions(cached)).extracting(Object::toString)
        .containsExactlyInAnyOrder("OWNER_READ", "GROUP_READ");
  }
}
