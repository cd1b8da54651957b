package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final Main main =
      new Main(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

  private static final String WEB =
      String.join(
          "\n",
          "# Web",
          "",
          "```yaml",
          "name: web",
          "kind: instance",
          "image: debian12",
          "count: 2",
          "```",
          "",
          "```bash {phase=reload}",
          "echo reload",
          "```",
          "");

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void validateAcceptsAValidTemplate() throws IOException {
    Path web = write("web.md", WEB.replace("count: 2\n", "count: 2\n---\nname: web-fw\nkind: firewall\ningress:\n"
        + "  - {protocol: tcp, port: 80, source: [0.0.0.0/0]}\n"));
    assertThat(main.run("validate", web.toString())).isZero();
    assertThat(out()).isEqualTo(web + ": ok (unit web)\n");
    assertThat(err()).isEmpty();
  }

  @Test
  void validateWarnsThatAUnitWithoutFirewallIsOpenAndAboutWhatHasNoEffectHere() throws IOException {
    Path web = write("web.md", WEB);
    assertThat(main.run("validate", web.toString())).isZero();
    assertThat(err()).isEqualTo(web + ":4:1: warning: firewall: unit web has no firewall: every port of its"
        + " instances is open to its VPC peers and, with a public address, to anyone; a 'kind: firewall' resource"
        + " admits only what its rules name\n");
    Path idle = write("idle.md", WEB.replace("count: 2\n", "count: 2\nnodePorts:\n"
        + "  - {protocol: udp, externalPort: 30053, internalPort: 53}\n---\nname: web-fw\nkind: firewall\n"
        + "ingress:\n  - {protocol: tcp, port: 80, source: [\"::/0\", +/unit/web/cloud_private_ips]}\n"
        + "  - {protocol: multicast, source: [0.0.0.0/0]}\n"));
    assertThat(main.run("validate", idle.toString())).isZero();
    assertThat(err())
        .contains(idle + ":14:40: warning: firewall[web-fw].ingress[0].source[0]: IPv6 source '::/0' admits nothing")
        .contains(idle + ":14:48: warning: firewall[web-fw].ingress[0].source[1]: '+/unit/web/cloud_private_ips' admits"
            + " nothing on a pods host")
        .contains(idle + ":15:16: warning: firewall[web-fw].ingress[1].protocol: 'multicast' traffic never reaches")
        .contains(idle + ":9:16: warning: instance.nodePorts[0].protocol: udp node ports are not forwarded")
        .doesNotContain(idle + ":4:1: warning: firewall:");
  }

  @Test
  void validatePrintsEveryProblemWithItsPositionAndFails() throws IOException {
    Path web = write("web.md", WEB.replace("count: 2", "count: two\nmemroy: 512").replace("phase=reload", "phase=relaod"));
    Path ok = write("ok.md", WEB);
    assertThat(main.run("validate", web.toString(), ok.toString())).isEqualTo(1);
    assertThat(err())
        .contains(web + ":7:8: error: ")
        .contains(web + ":8:1: error: ")
        .contains(web + ":8:1: error: instance.memroy: unknown key 'memroy'")
        .contains(web + ":11:16: error: script.phase: unknown phase 'relaod'")
        .contains(web + ": invalid (3 errors)");
    assertThat(out()).isEqualTo(ok + ": ok (unit web)\n");
  }

  @Test
  void validateReportsABadHealthCheckAtItsValue() throws IOException {
    Path web = write("web.md", WEB.replace("count: 2", "count: 2\nreadiness:\n  - {http: /ok, port: 80, interval: 2, "
        + "timeout: 3}\nliveness:\n  - {tcp: 70000}"));
    assertThat(main.run("validate", web.toString())).isEqualTo(1);
    assertThat(err())
        .contains(web + ":9:49: error: instance.readiness[0].timeout: timeout is whole seconds from 1 s to the "
            + "interval (2 s), not 3 s")
        .contains(web + ":11:11: error: instance.liveness[0].tcp: the port of a tcp check is 1-65535, not 70000")
        .contains(web + ": invalid (2 errors)");
  }

  @Test
  void validateRefusesAnImageThisHostsCatalogueDoesNotHaveAtTheImageLine() throws IOException {
    Path typo = write("typo.md", WEB.replace("image: debian12", "image: debain12"));
    Path ref = write("ref.md", WEB.replace("image: debian12", "image: +/image/tiny:3"));
    assertThat(main.run("validate", typo.toString(), ref.toString())).isEqualTo(1);
    assertThat(err()).contains(typo + ":6:8: error: instance.image: image 'debain12' is refused by the host's image"
        + " policy: 'debain12' is not in this host's catalogue, which has tiny, busybox, debian12, debian, full"
        + " (rule: catalogue names)");
    assertThat(out()).isEqualTo(ref + ": ok (unit web)\n");
  }

  @Test
  void validateAppliesTheHostsImagePolicyAtTheImageLine() throws IOException {
    Path shadow = write("shadow.md", WEB.replace("image: debian12", "image: /etc/shadow"));
    Path imds = write("imds.md", WEB.replace("image: debian12", "image: http://169.254.169.254/latest/user-data"));
    Path mine = write("mine.md", WEB.replace("image: debian12", "image: /srv/images/web.qcow2"));

    assertThat(main.run("validate", shadow.toString(), imds.toString(), mine.toString())).isEqualTo(1);
    assertThat(err())
        .contains(shadow + ":6:8: error: instance.image: image '/etc/shadow' is refused by the host's image policy:"
            + " disk image paths are not allowed (rule: no host folder is allowed for images)")
        .contains(imds + ":6:8: error: instance.image: image 'http://169.254.169.254/latest/user-data' is refused"
            + " by the host's image policy: image URLs are not allowed (rule: no URL prefix is allowed for images)")
        .contains(mine + ":6:8: error: instance.image: image '/srv/images/web.qcow2' is refused");

    err.reset();
    out.reset();
    assertThat(main.run("validate", "--allow-image-folder", "/srv/images", "--allow-image-url",
        "http://169.254.169.254/latest/", mine.toString(), imds.toString())).isZero();
    assertThat(out()).isEqualTo(mine + ": ok (unit web)\n" + imds + ": ok (unit web)\n");

    err.reset();
    assertThat(main.run("validate", "--allow-image-url", "http://example.org", mine.toString())).isEqualTo(2);
    assertThat(err()).startsWith("pods: validate: --allow-image-url: an image URL prefix is http(s)://HOST[:PORT]/PATH/");
  }

  @Test
  void upRefusesAnImageThePolicyRefusesBeforeTouchingTheHost() throws IOException {
    Path shadow = write("shadow.md", WEB.replace("image: debian12", "image: /etc/shadow"));
    Path data = dir.resolve("data");

    assertThat(main.run("--data-dir", data.toString(), "up", "--tiny", "--name", "evil", shadow.toString()))
        .isEqualTo(1);
    assertThat(err()).contains(shadow + ":6:8: error: instance.image: image '/etc/shadow' is refused by the host's"
        + " image policy: disk image paths are not allowed (rule: no host folder is allowed for images)");
    assertThat(data).doesNotExist();

    err.reset();
    assertThat(main.run("up", "--allow-image-folder", "etc", shadow.toString())).isEqualTo(2);
    assertThat(err()).startsWith("pods: up: --allow-image-folder: an image folder must be absolute");
  }

  @Test
  void templateTextCannotForgeProblemLines() throws IOException {
    // a double-quoted YAML value may hold newlines and escape sequences; echoed in a problem, they stay visible
    Path web = write("web.md", WEB.replace("image: debian12",
        "image: \"tiny\\nweb.md:1:1: error: forged\\e[2K\"\nvpc: \"x\\ry\""));

    assertThat(main.run("validate", web.toString())).isEqualTo(1);

    List<String> lines = err().lines().toList();
    assertThat(lines).allSatisfy(l -> assertThat(l).startsWith(web.toString()));
    assertThat(lines).noneMatch(l -> l.startsWith("web.md:1:1"));
    assertThat(err()).doesNotContain("\033").doesNotContain("\r")
        .contains(web + ":6:8: error: instance.image: image 'tiny\\nweb.md:1:1: error: forged\\e[2K' is refused"
            + " by the host's image policy: the image contains a control character (U+000A)");
  }

  @Test
  void renderPrintsCanonicalMarkdownThatParsesBack() throws IOException {
    Path web = write("web.md", WEB);
    assertThat(main.run("render", web.toString())).isZero();
    Path again = write("again.md", out());
    out.reset();
    assertThat(main.run("diff", "--exit-code", web.toString(), again.toString())).isZero();
    assertThat(out()).isEqualTo("unit web: no changes\n");
  }

  @Test
  void renderJsonPrintsTheModel() throws IOException {
    Path web = write("web.md", WEB);
    assertThat(main.run("render", "--json", web.toString())).isZero();
    JsonNode n = new ObjectMapper().readTree(out());
    assertThat(n.get("name").asText()).isEqualTo("web");
    assertThat(n.get("count").asInt()).isEqualTo(2);
    assertThat(n.get("memoryMib").asInt()).isEqualTo(1024);
    assertThat(n.get("blocks").get(0).get("type").asText()).isEqualTo("prose");
    assertThat(n.get("blocks").get(2).get("phase").asText()).isEqualTo("reload");
    assertThat(n.get("blocks").get(2).get("source").asText()).isEqualTo("echo reload");
  }

  @Test
  void diffShowsImpact() throws IOException {
    Path a = write("a.md", WEB);
    Path b = write("b.md", WEB.replace("count: 2", "count: 3\nmemory: 2048"));
    assertThat(main.run("diff", a.toString(), b.toString())).isZero();
    assertThat(out())
        .isEqualTo(
            "unit web: 2 changes (recreate)\n"
                + "  ~ count: 2 -> 3  [live]\n"
                + "  ~ memory: 1024 -> 2048  [recreate]\n");
    out.reset();
    assertThat(main.run("diff", "--exit-code", a.toString(), b.toString())).isEqualTo(1);
  }

  @Test
  void wrongUsageExitsTwo() {
    assertThat(main.run()).isEqualTo(2);
    assertThat(main.run("frobnicate")).isEqualTo(2);
    assertThat(err()).contains("pods: unknown command 'frobnicate'").contains("usage: pods");
    assertThat(main.run("diff", "one")).isEqualTo(2);
    assertThat(main.run("validate")).isEqualTo(2);
  }

  @Test
  void missingFileIsAProblemNotACrash() {
    assertThat(main.run("validate", dir.resolve("nope.md").toString())).isEqualTo(1);
    assertThat(err()).contains("nope.md");
  }

  @Test
  void validateSaysWhichDomainEachRecordNeedsRegistered() throws IOException {
    Path api = write("api.md", String.join("\n", "# Api", "", "```yaml", "name: api", "kind: instance",
        "image: tiny", "---", "name: api-dns", "kind: domain", "records:",
        "  - {name: api, domain: +/domain/example, type: private}", "```", ""));
    assertThat(main.run("validate", api.toString())).isZero();
    assertThat(out()).isEqualTo(api + ": ok (unit api)\n" + api + ":11:5: note: domains[api-dns].records[0].domain:"
        + " api is published under the zone registered for domain 'example': register it with"
        + " PodRuntime.Builder.domain(\"example\", ZONE[, provider]) or pods up --domain example=ZONE"
        + " (a deploy without it fails)\n");
  }

  @Test
  void upRefusesABadDomainOptionBeforeDeployingAnything() throws IOException {
    Path web = write("web.md", WEB);
    assertThat(main.run("--data-dir", dir.resolve("data").toString(), "up", "--domain", "example", web.toString()))
        .isEqualTo(2);
    assertThat(err()).contains("--domain takes NAME=ZONE");
    assertThat(main.run("--data-dir", dir.resolve("data").toString(), "up", "--domain", "example=bad zone",
        web.toString())).isEqualTo(2);
    assertThat(err()).contains("bad zone 'bad zone'");
    assertThat(main.run("--data-dir", dir.resolve("data").toString(), "up", "--domain", "e=a.test", "--domain",
        "e=b.test", web.toString())).isEqualTo(2);
    assertThat(err()).contains("--domain e is given twice");
    assertThat(main.run("--data-dir", dir.resolve("data").toString(), "up", "--dns-server", "one.one",
        web.toString())).isEqualTo(2);
    assertThat(err()).contains("--dns-server takes an IPv4 address");
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void optionsGoAnywhereInEitherFormAndTheDataFolderMayFollowTheCommand() throws IOException {
    Path web = write("web.md", WEB);
    Path a = write("a.md", WEB);
    Path b = write("b.md", WEB.replace("count: 2", "count: 3"));
    assertThat(main.run("diff", a.toString(), b.toString(), "--exit-code")).isEqualTo(1);
    out.reset();
    assertThat(main.run("render", web.toString(), "--json")).isZero();
    assertThat(new ObjectMapper().readTree(out()).get("name").asText()).isEqualTo("web");

    out.reset();
    assertThat(main.run("validate", "--allow-image-folder=/srv/images", write("mine.md",
        WEB.replace("image: debian12", "image: /srv/images/web.qcow2")).toString())).isZero();
    assertThat(out()).endsWith("mine.md: ok (unit web)\n");

    Path data = dir.resolve("data");
    for (String[] argv : List.of(new String[] {"ps", "--data-dir", data.toString()},
        new String[] {"ps", "--data-dir=" + data}, new String[] {"--data-dir", data.toString(), "ps"})) {
      err.reset();
      assertThat(main.run(argv)).isZero();
      assertThat(err()).isEqualTo("pods: no pod is up (no live control socket in " + data.resolve("cli") + ")\n");
    }
  }

  @Test
  void helpIsGeneratedForPodsAndEachCommand() {
    assertThat(main.run("help")).isZero();
    assertThat(out()).startsWith("usage: pods [--data-dir DIR] <command> [options] [files]\n")
        .contains("  validate ", "  up ", "  ps ", "  completion ", "exit status: 0 ok; 1 invalid template");
    out.reset();
    assertThat(main.run("up", "--help")).isZero();
    assertThat(out()).startsWith("usage: pods up ").contains("--ready-timeout=S", "--allow-image-folder=DIR",
        "--data-dir=DIR");
    out.reset();
    assertThat(main.run("help", "exec")).isZero();
    assertThat(out()).startsWith("usage: pods exec ").contains("--timeout=S");
    assertThat(main.run("help", "nope")).isEqualTo(2);
    assertThat(err()).startsWith("pods: help: unknown command 'nope'\n");
  }

  @Test
  void completionPrintsABashScriptKnowingEveryCommandAndOption() {
    assertThat(main.run("completion")).isZero();
    assertThat(out()).startsWith("#!/usr/bin/env bash").contains("complete -F", "validate", "--ready-timeout",
        "--journal", "--exit-code");
  }

  @Test
  void wrongUsageNamesTheCommandAndWhatIsWrong() {
    assertThat(main.run("up", "--tiny")).isEqualTo(2);
    assertThat(err()).startsWith("pods: up: Missing required parameter: 'FILE'\n").contains("usage: pods up ");
    err.reset();
    assertThat(main.run("ps", "--frob")).isEqualTo(2);
    assertThat(err()).startsWith("pods: ps: Unknown option: '--frob'\n");
    err.reset();
    assertThat(main.run("exec", "shop", "web-0", "--timeout", "0", "--", "true")).isEqualTo(2);
    assertThat(err()).startsWith("pods: exec: --timeout takes a positive number of seconds\n");
  }
}
