package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.Phase;
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
import dev.pods.template.internal.Durations;
import dev.pods.template.internal.YamlWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The canonical Markdown of a unit, and the units that cannot be written faithfully. */
class RenderTest {

  private static Unit.Builder web() {
    return Unit.builder().name("web").image("debian12");
  }

  @Test
  void rendersEveryFieldCanonically() {
    Unit u =
        web().count(3)
            .processors(2)
            .memoryMib(2048)
            .diskSizeGib(20)
            .vpc("shop")
            .subnet("10.8.0.0/24")
            .publicAddress(true)
            .roles(List.of("web", "1.5"))
            .secret(Reference.parse("+/secret/db:v2/password"))
            .nodePort(new NodePort(Protocol.TCP, 32080, 8080))
            .mount(new Mount("data", Mount.Type.DISK, "/srv/data", null, List.of(Reference.of("disk", "d1"))))
            .mount(new Mount(null, Mount.Type.HOST_PATH, "/mnt/a b", "/home/x", List.of()))
            .options(
                new InstanceOptions(
                    Reference.of("zone", "z"), null, null, null, true, null, "linux", null, true, null, null, null,
                    null, false, null, List.of(), List.of(Reference.of("pod", "shop")), "primary"))
            .firewall(
                new Firewall(
                    "web-fw",
                    List.of(
                        new IngressRule(Protocol.TCP, new PortRange(8000, 8080), List.of(new IngressSource.Unit(Reference.unit("lb")))),
                        new IngressRule(Protocol.ICMP, null, List.of(new IngressSource.Cidr("::/0"))))))
            .domain(new DomainRecords("web-dns", List.of(new DomainRecord("*", Reference.of("domain", "d"), RecordType.PRIVATE, "primary"))))
            .journal(new Journal("web-logs", List.of(new JournalInput("app", JournalInput.Type.SYSTEMD, "web.service", null))))
            .prose("# Web")
            .resourceBlock(List.of("web", "web-fw", "web-dns", "web-logs"))
            .script(new Script(Language.BASH, Phase.RELOAD, "echo ok", Duration.ofSeconds(90)))
            .script(new Script(Language.PYTHON, Phase.INITIAL, "print('```')", Duration.ofMillis(1500)))
            .script(new Script(Language.SH, Phase.INITIAL, "echo", null))
            .build();

    assertThat(Templates.render(u))
        .isEqualTo(
            """
            # Web

            ```yaml
            name: web
            kind: instance
            count: 3
            zone: +/zone/z
            vpc: +/vpc/shop
            subnet: 10.8.0.0/24
            image: debian12
            processors: 2
            memory: 2048
            diskSize: 20
            uefi: true
            cloudType: linux
            vnc: true
            hostAddress: false
            publicAddress: true
            roles: [web, "1.5"]
            secrets: ["+/secret/db:v2/password"]
            pods: [+/pod/shop]
            nodePorts:
              - {protocol: tcp, externalPort: 32080, internalPort: 8080}
            mounts:
              - {name: data, type: disk, path: /srv/data, disks: [+/disk/d1]}
              - {type: host_path, path: "/mnt/a b", hostPath: /home/x}
            failover: primary
            ---
            name: web-fw
            kind: firewall
            ingress:
              - {protocol: tcp, port: 8000-8080, source: [+/unit/lb]}
              - {protocol: icmp, source: ["::/0"]}
            ---
            name: web-dns
            kind: domain
            records:
              - {name: "*", domain: +/domain/d, type: private, select: primary}
            ---
            name: web-logs
            kind: journal
            inputs:
              - {key: app, type: systemd, unit: web.service}
            ```

            ```bash {phase=reload, timeout=1m30s}
            echo ok
            ```

            ```python {timeout=1s500ms}
            print('```')
            ```

            ```sh
            echo
            ```
            """);
    assertThat(Templates.parse("r.md", Templates.render(u))).isEqualTo(u);
  }

  @Test
  void defaultsAreLeftOut() {
    assertThat(Templates.render(web().build()))
        .isEqualTo("```yaml\nname: web\nkind: instance\nimage: debian12\n```\n");
  }

  @Test
  void fencesAreLongerThanAnyBacktickRunStartingALine() {
    Unit u = web().script(Script.shell("cat <<'EOF'\n```\n  ````bash\nEOF")).build();

    assertThat(Templates.render(u)).contains("`````shell\ncat <<'EOF'\n```\n  ````bash\nEOF\n`````\n");
  }

  @Test
  void proseThatHoldsAScriptFenceIsRejected() {
    Unit u = web().prose("# Setup\n\n```bash\necho\n```").build();

    assertThatThrownBy(() -> Templates.render(u))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "prose block 1 of unit 'web' has a top-level ```bash fence at its line 3, which would read back as a"
                + " script: '# Setup'");
  }

  @Test
  void proseThatLeavesAConstructOpenIsRejected() {
    Unit fence = web().blocks(List.of(new Prose("intro\n\n```text\nnever closed"), new ResourceBlock(List.of("web")))).build();
    Unit comment = web().blocks(List.of(new Prose("<!-- open"), new ResourceBlock(List.of("web")))).build();

    assertThatThrownBy(() -> Templates.render(fence))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "prose block 0 of unit 'web' leaves open a construct (a fence or an HTML block such as <!--) that would"
                + " swallow the block after it: 'intro'");
    assertThatThrownBy(() -> Templates.render(comment)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anOpenConstructInTheLastProseIsFine() {
    Unit u = web().prose("notes\n\n```text\nto the end").build();

    assertThat(Templates.parse("r.md", Templates.render(u))).isEqualTo(u);
  }

  @Test
  void adjacentProseIsOneBlockAndRoundTrips() {
    Unit u = web().prose("one").prose("two").build();

    assertThat(Templates.parse("r.md", Templates.render(u))).isEqualTo(u);
  }

  @Test
  void aUnitBeyondTheTemplateBoundsIsRejected() {
    Unit u = web().roles(java.util.Collections.nCopies(1001, "r")).build();

    assertThatThrownBy(() -> Templates.render(u))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "unit 'web' cannot be written as a template: render of unit 'web':5:8: error: instance.roles: more than"
                + " 1000 items (the limit)");
  }

  @Test
  void renderingAParsedTemplateKeepsProseAndOrder() {
    Unit typical = Templates.parse(Fixtures.path("typical.md"));

    String rendered = Templates.render(typical);

    assertThat(Templates.parse("r.md", rendered)).isEqualTo(typical);
    for (var b : typical.blocks()) {
      if (b instanceof Prose p) {
        assertThat(rendered).contains(p.markdown());
      }
    }
  }

  @Test
  void scalarsArePlainOnlyWhenEveryYamlReaderAgrees() {
    assertThat(YamlWriter.scalar("+/unit/web", true)).isEqualTo("+/unit/web");
    assertThat(YamlWriter.scalar("10.0.0.0/8", true)).isEqualTo("10.0.0.0/8");
    assertThat(YamlWriter.scalar("api.service", false)).isEqualTo("api.service");
    assertThat(YamlWriter.scalar("a:b", false)).isEqualTo("a:b");
    assertThat(YamlWriter.scalar("a:b", true)).isEqualTo("\"a:b\"");
    assertThat(List.of("null", "~", "", "true", "yes", "No", "off", "8080", "1.5", "0x1F", "2001-12-14", "1:20"))
        .allSatisfy(s -> assertThat(YamlWriter.scalar(s, false)).isEqualTo("\"" + s + "\""));
    assertThat(YamlWriter.scalar("tab\there \"q\" \\ \n\u0001\u0085\u2028\uFEFF😀é", false))
        .isEqualTo("\"tab\\there \\\"q\\\" \\\\ \\n\\x01\\x85\\u2028\\uFEFF😀é\"");
  }

  @Test
  void durationsRoundTripInTheirShortestForm() {
    assertThat(Durations.format(Duration.ofSeconds(30))).isEqualTo("30s");
    assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
    assertThat(Durations.format(Duration.ofDays(1))).isEqualTo("24h");
    assertThat(Durations.format(Duration.ofNanos(1_001_001))).isEqualTo("1ms1us1ns");
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("24h")).isEqualTo(Duration.ofDays(1));
    assertThatThrownBy(() -> Durations.parse("24h1ns")).hasMessage("timeout '24h1ns' is longer than 24h");
    assertThatThrownBy(() -> Durations.parse("99999999999999999999h")).hasMessage("timeout '99999999999999999999h' is longer than 24h");
    assertThatThrownBy(() -> Durations.parse("1.5h")).hasMessageStartingWith("invalid timeout '1.5h'");
    assertThatThrownBy(() -> Durations.parse("")).hasMessageStartingWith("invalid timeout ''");
    assertThatThrownBy(() -> Durations.parse("10")).hasMessageStartingWith("invalid timeout '10'");
  }
}
