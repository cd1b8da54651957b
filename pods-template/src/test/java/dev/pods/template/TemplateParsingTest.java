package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Block;
import dev.pods.Phase;
import dev.pods.Problem;
import dev.pods.Prose;
import dev.pods.ResourceBlock;
import dev.pods.Script;
import dev.pods.Script.Language;
import dev.pods.Unit;
import dev.pods.spec.DomainRecord;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.InstanceOptions;
import dev.pods.spec.Journal;
import dev.pods.spec.JournalInput;
import dev.pods.spec.Mount;
import dev.pods.spec.NodePort;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spec.RecordType;
import dev.pods.spec.Reference;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Valid templates and the units they give, field by field. */
class TemplateParsingTest {

  @Test
  void pritunlsOwnExampleParsesWithWarningsForCloudOnlyFields() {
    ParseResult r = Templates.read(Fixtures.path("pritunl-example.md"));

    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings())
        .filteredOn(p -> !p.message().contains(NoEffectWarningsTest.NOT_YET))
        .extracting(p -> p.location().line() + ":" + p.location().column() + " " + p.field())
        .containsExactly("8:1 instance.zone", "9:1 instance.shape", "13:1 instance.plan", "15:1 instance.certificates",
            "17:1 instance.pods");
    assertThat(r.warnings())
        .allSatisfy(p -> assertThat(p.location().source()).endsWith("pritunl-example.md"));

    Unit u = r.orThrow();
    assertThat(u.name()).isEqualTo("api");
    assertThat(u.count()).isEqualTo(3);
    assertThat(u.vpc()).isEqualTo("main");
    assertThat(u.subnet()).isEqualTo("app");
    assertThat(u.image()).isEqualTo("+/image/almalinux9");
    assertThat(u.roles()).containsExactly("api");
    assertThat(u.secrets()).containsExactly(Reference.of("secret", "db-creds"));
    assertThat(u.nodePorts()).containsExactly(new NodePort(Protocol.TCP, 32080, 8080));
    assertThat(u.mounts())
        .containsExactly(new Mount(null, Mount.Type.DISK, "/data", null, List.of(Reference.of("disk", "api-data"))));
    assertThat(u.options())
        .isEqualTo(
            new InstanceOptions(
                Reference.of("zone", "zone-a"), null, Reference.of("shape", "m-small"), Reference.of("plan", "autoheal"),
                null, null, null, null, null, null, null, null, null, null, null,
                List.of(Reference.of("certificate", "api-cert")), List.of(Reference.of("pod", "shop")), null));
    assertThat(u.firewalls())
        .containsExactly(
            new Firewall(
                "api-fw",
                List.of(
                    new IngressRule(Protocol.TCP, PortRange.of(8080), List.of(new IngressSource.Unit(Reference.unit("lb")))),
                    new IngressRule(Protocol.TCP, PortRange.of(22), List.of(new IngressSource.Cidr("10.0.0.0/8"))))));
    assertThat(u.domains())
        .containsExactly(
            new DomainRecords(
                "api-dns", List.of(new DomainRecord("api", Reference.of("domain", "example-com"), RecordType.PRIVATE, null))));
    assertThat(u.journals())
        .containsExactly(
            new Journal(
                "api-logs",
                List.of(
                    new JournalInput("app", JournalInput.Type.SYSTEMD, "api.service", null),
                    new JournalInput("audit", JournalInput.Type.FILE, null, "/var/log/api/audit.log"))));
    assertThat(u.blocks())
        .extracting(TemplateParsingTest::describe)
        .containsExactly(
            "prose # API tier",
            "resources [api, api-fw, api-dns, api-logs]",
            "prose ## Shared settings (reload: runs at first boot, every boot, every change)",
            "shell reload",
            "prose ## Install (initial: runs once)",
            "shell initial",
            "prose ## Configure (reload: every cluster change)",
            "python reload",
            "shell reload",
            "prose ## Boot (reboot: every later boot)",
            "shell reboot");
    assertThat(u.scripts().get(1).source())
        .isEqualTo(
            "set -e                          # needed! see 2.4\ndnf -y install python3 podman\nmkdir -p \"$APP_HOME\"");
  }

  private static String describe(Block b) {
    if (b instanceof Prose p) {
      return "prose " + p.markdown();
    }
    if (b instanceof ResourceBlock rb) {
      return "resources " + rb.names();
    }
    Script s = (Script) b;
    return s.language().id() + " " + s.phase().id() + (s.timeout() == null ? "" : " " + s.timeout());
  }

  @Test
  void bashAndShFencesAreScriptsWithPhasesAndTimeouts() {
    Unit u = Templates.parse(Fixtures.path("bash-sh.md"));

    assertThat(u.scripts())
        .containsExactly(
            new Script(Language.BASH, Phase.INITIAL, "set -euo pipefail\napt-get install -y redis-server", null),
            new Script(Language.SH, Phase.REBOOT, "systemctl start redis-server", null),
            new Script(Language.BASH, Phase.RELOAD, "redis-cli ping", Duration.ofSeconds(10)));
    assertThat(u.memoryMib()).isEqualTo(512);
    assertThat(Templates.read(Fixtures.path("bash-sh.md")).problems()).isEmpty();
  }

  @Test
  void theTypicalTemplateParsesCleanly() {
    ParseResult r = Templates.read(Fixtures.path("typical.md"));

    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings()).allSatisfy(p -> assertThat(p.message()).contains(NoEffectWarningsTest.NOT_YET));
    Unit u = r.orThrow();
    assertThat(u.blocks()).extracting(b -> describe(b).split("\n")[0])
        .containsExactly(
            "prose # Web tier",
            "resources [web, web-fw, web-dns, web-logs]",
            "prose ## Shared settings",
            "bash reload",
            "prose ## Install",
            "bash initial",
            "prose ## Configure",
            "python reload PT2M",
            "sh reload",
            "prose ## Boot",
            "shell reboot PT30S",
            "prose ## Notes");
    assertThat(u.firewalls().get(0).ingress().get(2)).isEqualTo(
        new IngressRule(Protocol.ICMP, null, List.of(new IngressSource.Cidr("0.0.0.0/0"))));
  }

  @Test
  void proseIsKeptAsTheExactSourceLinesBetweenFences() {
    String md =
        "\n\n# Title  \n\nSome *text* with `code`.\n\n```text\n```bash\nnot a script\n```\n\n"
            + "```yaml\nname: web\nkind: instance\nimage: debian12\n```\n\n\n"
            + "  - list\n\n    ```yaml\n    indented: code\n\n<!-- comment -->\n\n";

    Unit u = Templates.parse("t.md", md);

    assertThat(u.blocks())
        .containsExactly(
            new Prose("# Title  \n\nSome *text* with `code`.\n\n```text\n```bash\nnot a script\n```"),
            new ResourceBlock(List.of("web")),
            new Prose("  - list\n\n    ```yaml\n    indented: code\n\n<!-- comment -->"));
  }

  @Test
  void severalYamlFencesAndResourcesPerFenceKeepTheirLayout() {
    String md =
        "```yaml\nname: fw\nkind: firewall\ningress: []\n---\nname: web\nkind: instance\nimage: debian12\n---\n```\n"
            + "text\n"
            + "```yaml\n---\nname: logs\nkind: journal\n---\n---\nname: dns\nkind: domain\n```\n";

    Unit u = Templates.parse("t.md", md);

    assertThat(u.blocks())
        .containsExactly(
            new ResourceBlock(List.of("fw", "web")), new Prose("text"), new ResourceBlock(List.of("logs", "dns")));
    assertThat(u.resourceNames()).containsExactly("web", "fw", "dns", "logs");
  }

  @Test
  void attributesAcceptQuotesSpacesAndAnyOrder() {
    String md =
        "```yaml\nname: web\nkind: instance\nimage: debian12\n```\n"
            + "```python{timeout=\"1h30m\" , phase = \"reboot\" }\nprint(1)\n```\n"
            + "~~~~ shell {phase=initial}\necho ~~~\n~~~~\n"
            + "```sh {}\necho\n```\n";

    assertThat(Templates.parse("t.md", md).scripts())
        .containsExactly(
            new Script(Language.PYTHON, Phase.REBOOT, "print(1)", Duration.ofMinutes(90)),
            new Script(Language.SHELL, Phase.INITIAL, "echo ~~~", null),
            new Script(Language.SH, Phase.INITIAL, "echo", null));
  }

  @Test
  void scriptSourceIsKeptExactlyIncludingLeadingBlankLinesAndBacktickRuns() {
    String md =
        "```yaml\nname: web\nkind: instance\nimage: debian12\n```\n\n"
            + "`````bash\n\n  echo '```'\n```\n\tdone\n\n`````\n";

    assertThat(Templates.parse("t.md", md).scripts())
        .singleElement()
        .extracting(Script::source)
        .isEqualTo("\n  echo '```'\n```\n\tdone");
  }

  @Test
  void crlfAndCrLineEndsAreLines() {
    String md = "# T\r\n\r\n```yaml\r\nname: web\r\nkind: instance\r\nimage: debian12\r\ncount: x\r\n```\r\n";

    assertThat(Templates.read("t.md", md).problems())
        .extracting(Problem::toString)
        .containsExactly("t.md:7:8: error: instance.count: expected a whole number, not 'x'");
    assertThat(Templates.read("t.md", md.replace("\r\n", "\r")).problems())
        .extracting(Problem::toString)
        .containsExactly("t.md:7:8: error: instance.count: expected a whole number, not 'x'");
  }

  @Test
  void aByteOrderMarkIsSkippedInFiles() {
    byte[] body = "```yaml\nname: web\nkind: instance\nimage: debian12\n```\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] withBom = new byte[body.length + 3];
    withBom[0] = (byte) 0xEF;
    withBom[1] = (byte) 0xBB;
    withBom[2] = (byte) 0xBF;
    System.arraycopy(body, 0, withBom, 3, body.length);

    assertThat(TemplateParser.read("t.md", withBom).orThrow().blocks()).containsExactly(new ResourceBlock(List.of("web")));
  }

  @Test
  void valuesFollowTheModelsDefaultsAndPritunlsSpellings() {
    String md =
        "```yaml\nname: web\nkind: instance\nimage: /var/lib/images/base.qcow2\nvpc: shop\nsubnet: 10.8.0.0/24\n"
            + "publicAddress: True\nnodePorts:\n  - {protocol: udp, externalPort: +5353, internalPort: 53}\n"
            + "mounts:\n  - {type: host_path, path: /srv, hostPath: /home/me/srv}\n"
            + "  - {type: host_path, path: /out, hostPath: /home/me/out, readOnly: false}\n"
            + "---\nname: dns\nkind: domain\nrecords:\n  - {name: \"*\", domain: +/domain/d, type: cloud_public6, select: primary}\n"
            + "---\nname: fw\nkind: firewall\ningress:\n  - {protocol: udp, port: \"8000-8080\", source: [192.168.1.7, +/unit/db/public_ips6]}\n"
            + "```\n";

    Unit u = Templates.parse("t.md", md);

    assertThat(u.count()).isEqualTo(Unit.DEFAULT_COUNT);
    assertThat(u.memoryMib()).isEqualTo(Unit.DEFAULT_MEMORY_MIB);
    assertThat(u.vpc()).isEqualTo("shop");
    assertThat(u.subnet()).isEqualTo("10.8.0.0/24");
    assertThat(u.publicAddress()).isTrue();
    assertThat(u.nodePorts()).containsExactly(new NodePort(Protocol.UDP, 5353, 53));
    // a host folder is read-only unless the mount says readOnly: false
    assertThat(u.mounts()).containsExactly(
        new Mount(null, Mount.Type.HOST_PATH, "/srv", "/home/me/srv", List.of(), true),
        new Mount(null, Mount.Type.HOST_PATH, "/out", "/home/me/out", List.of(), false));
    assertThat(Templates.render(u)).contains("hostPath: /home/me/out, readOnly: false}")
        .doesNotContain("/home/me/srv, readOnly");
    assertThat(u.domains().get(0).records())
        .containsExactly(new DomainRecord("*", Reference.of("domain", "d"), RecordType.CLOUD_PUBLIC6, "primary"));
    assertThat(u.firewalls().get(0).ingress().get(0).ports()).isEqualTo(new PortRange(8000, 8080));
    assertThat(u.firewalls().get(0).ingress().get(0).sources())
        .extracting(IngressSource::text)
        .containsExactly("192.168.1.7/32", "+/unit/db/public_ips6");
  }

  @Test
  void yamlAnchorsAndAliasesWork() {
    String md =
        "```yaml\nname: web\nkind: instance\nimage: debian12\nroles: &r [a, b]\n---\nname: fw\nkind: firewall\n"
            + "ingress:\n  - &rule {protocol: tcp, port: 80, source: [10.0.0.0/8]}\n  - *rule\n```\n";

    Unit u = Templates.parse("t.md", md);

    assertThat(u.roles()).containsExactly("a", "b");
    assertThat(u.firewalls().get(0).ingress()).hasSize(2).containsOnly(u.firewalls().get(0).ingress().get(0));
  }

  @Test
  void readingAMissingFileIsAProblemNotAnException() {
    ParseResult r = Templates.read(java.nio.file.Path.of("/nonexistent/dir/web.md"));

    assertThat(r.problems())
        .extracting(Problem::toString)
        .containsExactly("/nonexistent/dir/web.md:1:1: error: template: cannot read the template: no such file");
  }

  @Test
  void readingIsThreadSafe() throws Exception {
    String typical = Fixtures.text("typical.md");
    String pritunl = Fixtures.text("pritunl-example.md");
    Unit expectedTypical = Templates.parse("a.md", typical);
    Unit expectedPritunl = Templates.parse("b.md", pritunl);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
      for (int t = 0; t < 8; t++) {
        results.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    if (!Templates.parse("a.md", typical).equals(expectedTypical)
                        || !Templates.parse("b.md", pritunl).equals(expectedPritunl)
                        || !Templates.render(expectedTypical).equals(Templates.render(expectedTypical))) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (var f : results) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
