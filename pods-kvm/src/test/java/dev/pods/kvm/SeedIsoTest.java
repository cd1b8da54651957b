package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.kvm.internal.Exec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Builds real seed ISOs with genisoimage and reads them back with isoinfo. */
class SeedIsoTest {
  @TempDir Path dir;

  @BeforeAll
  static void tools() {
    Tools.assumeInstalled("genisoimage", "genisoimage");
    Tools.assumeInstalled("isoinfo", "genisoimage");
  }

  private static String extract(Path iso, String name) {
    return Exec.run("isoinfo", List.of("isoinfo", "-i", iso.toString(), "-R", "-x", "/" + name), null,
        Duration.ofSeconds(30)).stdout();
  }

  @Test
  void theSeedIsANoCloudVolumeWithItsFiles() {
    Path iso = SeedIso.builder("podst-1-web-0")
        .hostname("web-0")
        .userData("#cloud-config\nruncmd:\n  - echo hi\n")
        .file("pods-marker", "hello from the seed")
        .file(SeedIso.AGENT_FILE, "echo agent\n".getBytes(StandardCharsets.UTF_8), true)
        .build()
        .writeTo(dir.resolve("seed.iso"));
    String pvd = Exec.run("isoinfo", List.of("isoinfo", "-d", "-i", iso.toString()), null,
        Duration.ofSeconds(30)).stdout();
    assertThat(pvd).contains("Volume id: cidata").contains("Rock Ridge");
    assertThat(extract(iso, "meta-data")).isEqualTo("instance-id: \"podst-1-web-0\"\nlocal-hostname: \"web-0\"\n");
    assertThat(extract(iso, "user-data")).isEqualTo("#cloud-config\nruncmd:\n  - echo hi\n");
    assertThat(extract(iso, "network-config")).isEqualTo(SeedIso.NETWORK_DISABLED);
    assertThat(extract(iso, "pods-marker")).isEqualTo("hello from the seed");
    String listing = Exec.run("isoinfo", List.of("isoinfo", "-i", iso.toString(), "-R", "-l"), null,
        Duration.ofSeconds(30)).stdout();
    assertThat(listing).containsPattern("-rwxr-xr-x .* pods-agent");
    assertThat(dir.toFile().list()).containsExactly("seed.iso");
  }

  @Test
  void theAgentTravelsAsAnExecutableProgramAndAPrivateConfiguration() {
    Path iso = SeedIso.builder("podst-1-web-0")
        .agent("#!/bin/sh\necho agent\n".getBytes(StandardCharsets.UTF_8), "url=http://169.254.169.254\ntoken=t\n")
        .build()
        .writeTo(dir.resolve("seed.iso"));
    assertThat(extract(iso, SeedIso.AGENT_FILE)).isEqualTo("#!/bin/sh\necho agent\n");
    assertThat(extract(iso, SeedIso.AGENT_CONFIG_FILE)).isEqualTo("url=http://169.254.169.254\ntoken=t\n");
    String listing = Exec.run("isoinfo", List.of("isoinfo", "-i", iso.toString(), "-R", "-l"), null,
        Duration.ofSeconds(30)).stdout();
    assertThat(listing).containsPattern("-rwxr-xr-x .* pods-agent\\s").containsPattern("-rw-r--r-- .* pods-agent.conf");
  }

  @Test
  void metaDataValuesAreQuoted() {
    SeedIso s = SeedIso.builder("id: \"x\"\nevil: 1").build();
    String meta = new String(s.files().get("meta-data"), StandardCharsets.UTF_8);
    assertThat(meta).isEqualTo(
        "instance-id: \"id: \\\"x\\\"\\nevil: 1\"\nlocal-hostname: \"id: \\\"x\\\"\\nevil: 1\"\n");
    assertThat(meta.lines()).hasSize(2);
  }

  @Test
  void reservedAndUnsafeFileNamesAreRefused() {
    assertThatThrownBy(() -> SeedIso.builder("i").file("user-data", "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SeedIso.builder("i").file("../etc/passwd", "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aFailedBuildLeavesNothing() throws Exception {
    Path missing = dir.resolve("no-such-dir").resolve("seed.iso");
    assertThatThrownBy(() -> SeedIso.builder("i").build().writeTo(missing))
        .isInstanceOf(dev.pods.BackendException.class);
    assertThat(Files.list(dir)).isEmpty();
  }

  @Test
  void theCommandIsGenisoimageWithVolumeIdCidata() {
    assertThat(SeedIso.command(Path.of("/s"), Path.of("/o.iso"))).containsExactly(
        "genisoimage", "-quiet", "-output", "/o.iso", "-volid", "cidata", "-joliet", "-rock", "/s");
  }
}
