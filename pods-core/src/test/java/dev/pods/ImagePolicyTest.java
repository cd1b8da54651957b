package dev.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The image policy's rules, as pure functions. */
class ImagePolicyTest {
  private static final ImagePolicy DEFAULT = ImagePolicy.catalogueOnly();
  private static final ImagePolicy HOST = ImagePolicy.builder()
      .allowFolder(Path.of("/srv/images"))
      .allowUrlPrefix("https://images.example.org/pods/")
      .build();

  @Test
  void byDefaultOnlyCatalogueNamesAndImageReferencesPass() {
    for (String ok : List.of("tiny", "debian12", "Debian12:2024", "+/image/debian12", "+/image/almalinux9:v1")) {
      assertThat(DEFAULT.refusal(ok)).as(ok).isEmpty();
    }
    assertThat(DEFAULT.refusal("/etc/shadow")).contains(
        "disk image paths are not allowed (rule: no host folder is allowed for images)");
    assertThat(DEFAULT.refusal("http://169.254.169.254/latest")).contains(
        "image URLs are not allowed (rule: no URL prefix is allowed for images)");
    assertThat(DEFAULT.refusal("+/build/img:v1")).contains(
        "only +/image/NAME[:tag] references are allowed (rule: catalogue images only)");
    assertThat(DEFAULT.refusal("file:///etc/shadow")).get().asString().contains("rule: catalogue images only");
    assertThat(DEFAULT.refusal("../etc/shadow")).get().asString().contains("rule: catalogue images only");
    assertThat(DEFAULT.refusal("tiny\nfile:1:1: error: forged")).contains(
        "the image contains a control character (U+000A), which no image name, path or URL may");
  }

  @Test
  void aPolicyThatKnowsTheCatalogueRefusesOtherNames() {
    ImagePolicy p = ImagePolicy.builder().catalogue(java.util.List.of("tiny", "debian12")).build();
    assertThat(p.catalogue()).contains(java.util.List.of("tiny", "debian12"));
    assertThat(p.refusal("tiny")).isEmpty();
    assertThat(p.refusal(" TINY ")).isEmpty();
    // as the catalogue resolves it: a tag belongs to +/image/NAME:tag, a bare name's ':' is part of the name
    assertThat(p.refusal("tiny:1.0")).get().asString().contains("'tiny:1.0' is not in this host's catalogue");
    assertThat(p.refusal("+/image/debian12:2")).isEmpty();
    assertThat(p.refusal("nonexistent")).get().asString()
        .isEqualTo("'nonexistent' is not in this host's catalogue, which has tiny, debian12 (rule: catalogue names)");
    assertThat(p.refusal("+/image/ubuntu")).get().asString().contains("'ubuntu' is not in this host's catalogue");
    assertThat(DEFAULT.catalogue()).isEmpty();
    assertThat(DEFAULT.refusal("nonexistent")).as("without a catalogue the resolver decides at deploy").isEmpty();
    assertThatThrownBy(() -> ImagePolicy.builder().catalogue(java.util.List.of("Tiny")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ImagePolicy.builder().catalogue(java.util.List.of("a:b")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void pathsMustBeNormalizedAndUnderAnAllowedFolder() {
    assertThat(HOST.refusal("/srv/images/debian.qcow2")).isEmpty();
    assertThat(HOST.refusal("/srv/images/sub/debian.qcow2")).isEmpty();
    assertThat(HOST.refusal("/srv/images/../../etc/shadow")).contains(
        "an image path must be absolute and normalized (no '.', '..' or '//')");
    assertThat(HOST.refusal("/srv/images//x")).get().asString().contains("normalized");
    assertThat(HOST.refusal("/srv/images")).get().asString().contains("(rule: allowed host folders)");
    assertThat(HOST.refusal("/srv/images-other/x.qcow2")).contains(
        "disk image paths are allowed only under [/srv/images] (rule: allowed host folders)");
    assertThat(HOST.refusal(Path.of("/etc/shadow"))).get().asString().contains("allowed host folders");
  }

  @Test
  void urlsMustBeUnderAnAllowedPrefixOfTheSameSchemeHostAndPort() {
    assertThat(HOST.refusal("https://images.example.org/pods/debian.qcow2")).isEmpty();
    assertThat(HOST.refusal("https://IMAGES.example.org:443/pods/a/b.qcow2#sha256=00")).isEmpty();
    for (String bad : List.of("http://images.example.org/pods/debian.qcow2", "https://images.example.org:8443/pods/x",
        "https://images.example.org.evil.net/pods/x", "https://images.example.org/podsx/y",
        "https://images.example.org/other/x")) {
      assertThat(HOST.refusal(bad)).as(bad).get().asString().contains("(rule: allowed URL prefixes)");
    }
    assertThat(HOST.refusal("https://images.example.org/pods/../secret")).get().asString()
        .contains("must be normalized");
    assertThat(HOST.refusal("https://user:pw@images.example.org/pods/x")).get().asString()
        .contains("no user name or password");
    assertThat(HOST.refusal(URI.create("ftp://images.example.org/pods/x"))).contains(
        "only http and https image URLs are allowed (rule: URL schemes)");
  }

  @Test
  void urlPrefixesAndFoldersAreCheckedWhenGiven() {
    for (String bad : List.of("https://images.example.org", "https://images.example.org/pods", "file:///srv/",
        "https://u@h/x/", "https://h/x/?q", "https://h/a/../b/")) {
      assertThatThrownBy(() -> ImagePolicy.builder().allowUrlPrefix(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    for (String bad : List.of("relative", "/", "/srv/../etc")) {
      assertThatThrownBy(() -> ImagePolicy.builder().allowFolder(Path.of(bad))).as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> ImagePolicy.builder().maxImageBytes(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void onlyPublicDestinationsUnlessAllowed() throws Exception {
    for (String priv : List.of("127.0.0.1", "127.8.9.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.1", "198.51.100.1", "::1", "::", "fe80::1",
        "fd00::1", "fc00::5", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "::ffff:127.0.0.1", "::127.0.0.1",
        "2001:db8::1")) {
      InetAddress a = InetAddress.getByName(priv);
      assertThat(ImagePolicy.isPublic(a)).as(priv).isFalse();
      assertThat(DEFAULT.refusal(a)).as(priv).get().asString()
          .contains("(rule: no loopback, link-local or private download destinations)");
      assertThat(ImagePolicy.builder().allowPrivateDestinations(true).build().refusal(a)).isEmpty();
    }
    for (String pub : List.of("93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::101:101")) {
      assertThat(ImagePolicy.isPublic(InetAddress.getByName(pub))).as(pub).isTrue();
    }
  }

  @Test
  void aPodsProblemsNameTheUnitImageAndRule() {
    Pod pod = Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("/etc/shadow").build())
        .unit(Unit.builder().name("db").image("debian12").build())
        .build();

    assertThat(DEFAULT.problems(pod)).extracting(Problem::toString).containsExactly(
        "error: units[web].image: image '/etc/shadow' is refused by the host's image policy: disk image paths are"
            + " not allowed (rule: no host folder is allowed for images)");
    assertThat(ImagePolicy.builder().allowFolder(Path.of("/etc")).build().problems(pod)).isEmpty();
  }
}
