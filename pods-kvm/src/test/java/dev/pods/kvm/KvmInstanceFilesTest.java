package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.kvm.internal.Exec;
import dev.pods.spi.InstanceFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed {@link KvmInstanceFiles} writes carries the agent for both kinds of guest: as files for the tiny
 * guest's init, and as cloud-config (write_files, runcmd) for cloud-init guests, with no network-config.
 * Real genisoimage and isoinfo; no guest (FullGuestIT boots one).
 */
class KvmInstanceFilesTest {
  private static final byte[] AGENT = "#!/bin/sh\necho 'agent' \"$@\"\n\u00e9\n".getBytes(StandardCharsets.UTF_8);
  private static final String CONFIG = "url=http://169.254.169.254\ntoken=s3cr'et\n";

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

  /** The decoded {@code content} of each write_files entry, by path. */
  private static Map<String, byte[]> writtenFiles(String userData) {
    Map<String, byte[]> out = new java.util.LinkedHashMap<>();
    String path = null;
    for (String l : userData.lines().toList()) {
      if (l.startsWith("  - path: ")) {
        path = l.substring("  - path: ".length());
      } else if (l.startsWith("    content: ")) {
        out.put(path, Base64.getDecoder().decode(l.substring("    content: ".length())));
      }
    }
    return out;
  }

  @Test
  void theSeedCarriesTheAgentAsFilesAndAsCloudConfig() {
    KvmInstanceFiles files = KvmInstanceFiles.on(DiskImages.at(dir));
    InstanceFiles.Prepared p = files.prepare("podst-x-app-0",
        new InstanceFiles.Seed("app-0", AGENT, CONFIG, Map.of()), null, 0);

    assertThat(p.disk()).isNull();
    assertThat(extract(p.seedIso(), SeedIso.AGENT_FILE).getBytes(StandardCharsets.UTF_8)).isEqualTo(AGENT);
    assertThat(extract(p.seedIso(), SeedIso.AGENT_CONFIG_FILE)).isEqualTo(CONFIG);
    // no network-config: cloud-init's fallback (DHCP on the first NIC, by MAC address) whatever the NIC's name
    String listing = Exec.run("isoinfo", List.of("isoinfo", "-i", p.seedIso().toString(), "-R", "-f"), null,
        Duration.ofSeconds(30)).stdout();
    assertThat(listing.lines().map(String::strip).toList()).contains("/meta-data", "/user-data")
        .doesNotContain("/network-config");
    String userData = extract(p.seedIso(), "user-data");
    assertThat(userData).startsWith("#cloud-config\n").isEqualTo(KvmInstanceFiles.userData(AGENT, CONFIG));

    Map<String, byte[]> written = writtenFiles(userData);
    assertThat(written.keySet()).containsExactly(KvmInstanceFiles.AGENT_PATH, KvmInstanceFiles.AGENT_CONFIG_PATH,
        "/etc/systemd/system/" + KvmInstanceFiles.AGENT_UNIT);
    assertThat(written.get(KvmInstanceFiles.AGENT_PATH)).isEqualTo(AGENT);
    assertThat(new String(written.get(KvmInstanceFiles.AGENT_CONFIG_PATH), StandardCharsets.UTF_8)).isEqualTo(CONFIG);
    String unit = new String(written.get("/etc/systemd/system/" + KvmInstanceFiles.AGENT_UNIT), StandardCharsets.UTF_8);
    assertThat(unit.lines()).contains("After=network-online.target", "WantedBy=multi-user.target",
        "ExecStart=/bin/sh " + KvmInstanceFiles.AGENT_PATH + " run");
    List<String> modes = new ArrayList<>(userData.lines().filter(l -> l.startsWith("    permissions: ")).toList());
    assertThat(modes).containsExactly("    permissions: '0755'", "    permissions: '0600'", "    permissions: '0644'");
    assertThat(userData).contains("runcmd:\n  - [systemctl, daemon-reload]\n"
        + "  - [systemctl, enable, --now, --no-block, pods-agent.service]\n");
    // the token travels encoded only: nothing of the configuration is readable as YAML text
    assertThat(userData).doesNotContain("s3cr");
    assertThat(Files.exists(p.dir())).isTrue();

    files.delete("podst-x-app-0");
    assertThat(Files.exists(p.dir())).isFalse();
  }
}
