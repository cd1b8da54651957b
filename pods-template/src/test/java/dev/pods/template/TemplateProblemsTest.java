package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.pods.Problem;
import dev.pods.Problem.Severity;
import dev.pods.TemplateException;
import dev.pods.Unit;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** Each rule of the format, with the exact problems: file, line, column, severity, field and message. */
class TemplateProblemsTest {

  private static final String INSTANCE = "name: web\nkind: instance\nimage: debian12\n";

  private static List<Problem> problems(String markdown) {
    return Templates.read("t.md", markdown).problems();
  }

  private static Tuple error(int line, int column, String field, String message) {
    return tuple("t.md", line, column, Severity.ERROR, field, message);
  }

  private static Tuple warning(int line, int column, String field, String message) {
    return tuple("t.md", line, column, Severity.WARNING, field, message);
  }

  private static org.assertj.core.api.ListAssert<Tuple> assertProblems(String markdown) {
    List<Tuple> tuples =
        problems(markdown).stream()
            .map(
                p ->
                    tuple(
                        p.location().source(), p.location().line(), p.location().column(), p.severity(), p.field(),
                        p.message()))
            .toList();
    return assertThat(tuples);
  }

  private static String yaml(String body) {
    return "# T\n\n```yaml\n" + body + "```\n";
  }

  @Test
  void everyErrorOfAFileIsReportedTogetherInSourceOrder() {
    ParseResult r = Templates.read("many-errors.md", Fixtures.text("many-errors.md"));

    assertThat(r.unit()).isEmpty();
    assertThat(r.problems()).extracting(p -> p.location().line() + ":" + p.location().column() + " " + p.severity()
            + " " + p.field() + ": " + p.message())
        .containsExactly(
            "4:1 ERROR instance.image: 'image' is required: a catalogue name, +/image/NAME[:tag], a path or a URL",
            "4:7 ERROR instance.name: 'Web' is invalid: a name is 1-63 lower-case letters, digits or inner '-' (a DNS label)",
            "6:8 ERROR instance.count: expected a whole number, not the string \"3\"",
            "7:9 ERROR instance.memory: 10 is out of range 64-4194304",
            "8:11 ERROR instance.diskSize: expected a whole number, not 'big'",
            "9:1 ERROR instance.imagee: unknown key 'imagee' in an instance (did you mean 'image'?)",
            "10:13 ERROR instance.roles[1]: 'bad role' is not a valid role",
            "11:23 ERROR instance.secrets[1]: expected a reference +/secret/NAME, not '+/instance/self/id'",
            "11:43 ERROR instance.secrets[2]: unknown reference kind 'nope': expected one of build, certificate, disk,"
                + " domain, image, instance, node, plan, pod, secret, shape, subnet, unit, vpc, zone",
            "11:53 ERROR instance.secrets[3]: malformed reference '+/secret/': expected +/kind/name[:tag][/selector]",
            "14:5 ERROR instance.nodePorts[1]: external tcp port 80 is used twice",
            "15:5 ERROR instance.nodePorts[2].internalPort: 'internalPort' is required",
            "15:16 ERROR instance.nodePorts[2].protocol: a node port's protocol is tcp or udp, not 'icmp'",
            "16:6 ERROR instance.vpc: a vpc reference is +/vpc/NAME, without tag or selector: '+/vpc/main:tag'",
            "17:9 ERROR instance.subnet: 'not_a_subnet' is neither a subnet name nor a CIDR",
            "18:16 ERROR instance.publicAddress: expected true or false, not 'yes'",
            "19:1 WARNING instance.zone: 'zone' has no effect on a pods host; it is kept for Pritunl Cloud compatibility",
            "20:1 WARNING instance.uefi: 'uefi' has no effect on a pods host; it is kept for Pritunl Cloud compatibility",
            "25:5 ERROR firewall[fw].ingress[0]: tcp rules need a port or port range",
            "26:16 ERROR firewall[fw].ingress[1].protocol: unknown protocol 'tcpx': expected all, icmp, tcp, udp,"
                + " multicast, broadcast",
            "26:41 ERROR firewall[fw].ingress[1].source[0]: unknown selector 'bogus' in '+/unit/lb/bogus': expected"
                + " one of cloud_private_ips, cloud_public_ips, cloud_public_ips6, host_ips, private_ips, private_ips6,"
                + " public_ips, public_ips6",
            "27:27 ERROR firewall[fw].ingress[2].port: invalid port '0-5': expected N or N-M, ports 1-65535",
            "27:41 ERROR firewall[fw].ingress[2].source[0]: '10.0.0.300' is not an IP address",
            "29:7 ERROR firewall[fw].name: resource name 'fw' is already used at line 22",
            "32:7 ERROR instance: a unit has one instance resource; the first is at line 4",
            "36:7 ERROR kind: unknown kind 'cluster': expected instance, firewall, domain or journal",
            "39:7 ERROR kind: kind 'image' (Pritunl Cloud's image-build units) is not supported: pods units run"
                + " instances",
            "42:1 ERROR kind: 'kind' is required: instance, firewall, domain or journal",
            "47:25 ERROR domain[dns].records[0].domain: expected a reference +/domain/NAME, not '+/zone/x'",
            "47:41 ERROR domain[dns].records[0].type: unknown record type 'privat': expected public, public6, private,"
                + " private6, host, cloud_public, cloud_public6, cloud_private",
            "52:5 ERROR journal[logs].inputs[0]: a systemd input names a unit and no path",
            "53:5 ERROR journal[logs].inputs[1]: a file input names an absolute path and no unit",
            "54:20 ERROR journal[logs].inputs[2].type: unknown input type 'socket': expected systemd or file",
            "57:16 ERROR script.phase: unknown phase 'reloadd': expected one of initial, reboot, reload",
            "57:33 ERROR script.timeout: invalid timeout '1y': expected whole numbers with units h, m, s, ms, us or"
                + " ns, e.g. 30s or 1h30m",
            "57:37 ERROR script: unknown attribute 'color': expected phase or timeout",
            "61:21 ERROR script.phase: attribute 'phase' is given twice",
            "65:1 ERROR script: the python script is empty",
            "69:4 WARNING script: a fence named 'Bash' is documentation: resource and script fences are named in"
                + " lower case ('bash')",
            "75:3 WARNING script: this bash fence is inside a list or quote, so it is documentation and never runs;"
                + " only top-level fences are resources or scripts",
            "81:4 ERROR yaml: invalid YAML: mapping values are not allowed here",
            "85:1 ERROR kind: 'kind' is required: instance, firewall, domain or journal",
            "86:1 ERROR resource.name: duplicate key 'name' (first at line 85)");
    assertThat(r.problems()).allSatisfy(p -> assertThat(p.location().source()).isEqualTo("many-errors.md"));
  }

  @Test
  void parseThrowsATemplateExceptionWithEveryProblem() {
    String md = yaml("name: web\nkind: instance\nimage: debian12\nzone: +/zone/a\ncount: -1\n");

    assertThatThrownBy(() -> Templates.parse("t.md", md))
        .isInstanceOfSatisfying(
            TemplateException.class,
            e -> {
              assertThat(e.source()).isEqualTo("t.md");
              assertThat(e.problems()).extracting(Problem::severity).containsExactly(Severity.WARNING, Severity.ERROR);
              assertThat(e.getMessage())
                  .contains("t.md:7:1: warning: instance.zone:")
                  .contains("t.md:8:8: error: instance.count: -1 is out of range 0-1000");
            });
  }

  @Test
  void restartAndLivenessTimeoutAreReadAndBadValuesAreErrorsAtTheValue() {
    Unit u = Templates.parse("t.md", yaml(INSTANCE + "restart: on-failure\nlivenessTimeout: 12\n"));
    assertThat(u.restart()).isEqualTo(dev.pods.RestartPolicy.ON_FAILURE);
    assertThat(u.livenessTimeout()).isEqualTo(java.time.Duration.ofSeconds(12));
    assertThat(Templates.parse("t.md", yaml(INSTANCE)).restart()).isEqualTo(dev.pods.RestartPolicy.ALWAYS);
    assertProblems(yaml(INSTANCE + "restart: sometimes\nlivenessTimeout: 2\n"))
        .containsExactly(
            error(7, 10, "instance.restart", "'sometimes' is not a valid restart: expected always or on-failure or never"),
            error(8, 18, "instance.livenessTimeout", "2 s is out of range 3-3600 s (whole seconds)"));
  }

  @Test
  void healthChecksAreReadAndRenderedBack() {
    String body = INSTANCE + "readiness:\n  - {http: /healthz, port: 8080, interval: 2, failures: 2}\n"
        + "  - {tcp: 22}\nliveness:\n  - {exec: [test, -f, /tmp/alive], timeout: 3, grace: 30}\n";
    Unit u = Templates.parse("t.md", yaml(body));
    assertThat(u.readinessChecks()).containsExactly(
        dev.pods.spec.HealthCheck.http("/healthz", 8080).interval(java.time.Duration.ofSeconds(2)).failures(2),
        dev.pods.spec.HealthCheck.tcp(22));
    assertThat(u.readinessChecks().get(0).timeout()).isEqualTo(java.time.Duration.ofSeconds(2)); // the interval
    assertThat(u.livenessChecks()).containsExactly(dev.pods.spec.HealthCheck.exec("test", "-f", "/tmp/alive")
        .timeout(java.time.Duration.ofSeconds(3)).grace(java.time.Duration.ofSeconds(30)));
    String rendered = Templates.render(u);
    assertThat(rendered).contains("readiness:\n  - {http: /healthz, port: 8080, interval: 2, timeout: 2, failures: 2}\n"
        + "  - {tcp: 22}\nliveness:\n  - {exec: [test, \"-f\", /tmp/alive], timeout: 3, grace: 30}\n");
    assertThat(Templates.parse("t.md", rendered)).isEqualTo(u);
    assertThat(Templates.parse("t.md", yaml(INSTANCE)).readinessChecks()).isEmpty();
  }

  @Test
  void badHealthChecksAreErrorsAtTheValue() {
    assertProblems(yaml(INSTANCE + "readiness:\n  - {tcp: 0}\n  - {http: healthz, port: 80}\n  - {port: 80}\n"
            + "  - {tcp: 22, exec: [true]}\nliveness:\n  - {tcp: 22, interval: 5, timeout: 6}\n"
            + "  - {exec: [true], failures: 0}\n  - {http: /, port: 80, grace: -1}\n  - {tcp: 22, every: 5}\n"
            + "  - {http: /}\n"))
        .containsExactly(
            error(8, 11, "instance.readiness[0].tcp", "the port of a tcp check is 1-65535, not 0"),
            error(9, 12, "instance.readiness[1].http",
                "the path of an http check starts with / and has no spaces or control characters, not 'healthz'"),
            error(10, 5, "instance.readiness[2]", "a health check needs one of exec, tcp or http"),
            error(11, 5, "instance.readiness[3]", "a health check has one of exec, tcp or http, not exec and tcp"),
            error(13, 37, "instance.liveness[0].timeout", "timeout is whole seconds from 1 s to the interval (5 s), not 6 s"),
            error(14, 30, "instance.liveness[1].failures", "failures is 1-100, not 0"),
            error(15, 32, "instance.liveness[2].grace", "grace is whole seconds from 0 s to 1 h, not -1 s"),
            error(16, 15, "instance.liveness[3].every", "unknown key 'every' in a health check"),
            error(17, 5, "instance.liveness[4].port", "'port' is required"));
  }

  @Test
  void unknownKindIsAnErrorAtTheKindValue() {
    assertProblems(yaml(INSTANCE + "---\nname: x\nkind: pod\n"))
        .containsExactly(error(9, 7, "kind", "unknown kind 'pod': expected instance, firewall, domain or journal"));
  }

  @Test
  void pritunlImageKindIsNotSupported() {
    assertProblems(yaml("name: img\nkind: image\n"))
        .containsExactly(
            error(3, 1, "instance", "no instance resource: a template needs one resource of 'kind: instance'"),
            error(5, 7, "kind", "kind 'image' (Pritunl Cloud's image-build units) is not supported: pods units run instances"));
  }

  @Test
  void unknownKeysAreErrorsWithASuggestion() {
    assertProblems(yaml(INSTANCE + "disk_size: 20\nfoo: 1\n"))
        .containsExactly(
            error(7, 1, "instance.disk_size", "unknown key 'disk_size' in an instance (did you mean 'diskSize'?)"),
            error(8, 1, "instance.foo", "unknown key 'foo' in an instance"));
  }

  @Test
  void mergeKeysAreUnknownKeysWithAReason() {
    assertProblems(yaml(INSTANCE + "<<: {count: 2}\n"))
        .containsExactly(error(7, 1, "instance.<<", "unknown key '<<' in an instance (YAML merge keys are not supported)"));
  }

  @Test
  void malformedReferencesAreErrorsAtTheirNode() {
    assertProblems(yaml(INSTANCE + "secrets: [+/secret]\nzone: zone-a\n"))
        .containsExactly(
            error(7, 11, "instance.secrets[0]", "malformed reference '+/secret': expected +/kind/name[:tag][/selector]"),
            warning(8, 1, "instance.zone", "'zone' has no effect on a pods host; it is kept for Pritunl Cloud compatibility"),
            error(8, 7, "instance.zone", "expected a reference +/zone/NAME, not 'zone-a'"));
  }

  @Test
  void theNodeKeyWarnsThatItPinsOnlyInACluster() {
    assertProblems(yaml(INSTANCE + "node: +/node/h2\n"))
        .containsExactly(warning(7, 1, "instance.node", "'node' has no effect on a single pods host; it pins the"
            + " unit's instances to that node only in a cluster of nodes on etcd (pods-etcd)"));
  }

  @Test
  void instanceSelfIdIsAValidReferenceAndNamesItsKindWhenMisplaced() {
    assertProblems(yaml(INSTANCE + "pods: [+/instance/self/id]\n"))
        .containsExactly(
            warning(7, 1, "instance.pods", "'pods' has no effect on a pods host; it is kept for Pritunl Cloud compatibility"),
            error(7, 8, "instance.pods[0]", "expected a reference +/pod/NAME, not '+/instance/self/id'"));
  }

  @Test
  void wrongTypesAreErrors() {
    assertProblems(yaml("name: [web]\nkind: instance\nimage: {a: 1}\nroles: api\nvnc: 1\nprocessors: 2.5\n"))
        .containsExactly(
            error(4, 7, "instance.name", "expected a string, not a list"),
            error(6, 8, "instance.image", "expected a string, not a mapping"),
            error(7, 8, "instance.roles", "expected a list, not 'api'"),
            error(8, 6, "instance.vnc", "expected true or false, not '1'"),
            error(9, 13, "instance.processors", "expected a whole number, not '2.5'"));
  }

  @Test
  void aResourceIsAMapping() {
    assertProblems(yaml(INSTANCE + "---\n- a\n- b\n"))
        .containsExactly(error(8, 1, "resource", "expected a mapping of keys to values, not a list"));
  }

  @Test
  void yamlTagsAreNotSupported() {
    assertProblems(yaml("name: web\nkind: instance\nimage: !!binary aGk=\ncount: !!int 3\n"))
        .containsExactly(
            error(6, 8, "instance.image", "YAML tags such as 'tag:yaml.org,2002:binary' are not supported"),
            error(7, 8, "instance.count", "expected a whole number, not '3'"));
  }

  @Test
  void requiredFieldsAreNamed() {
    assertProblems(yaml("kind: instance\n---\nname: fw\n---\nname: j\nkind: journal\ninputs:\n  - {type: file}\n"))
        .containsExactly(
            error(4, 1, "instance.name", "'name' is required"),
            error(4, 1, "instance.image", "'image' is required: a catalogue name, +/image/NAME[:tag], a path or a URL"),
            error(6, 1, "kind", "'kind' is required: instance, firewall, domain or journal"),
            error(11, 5, "journal[j].inputs[0].key", "'key' is required"));
  }

  @Test
  void duplicateResourceNamesAreErrorsAtTheSecondName() {
    assertProblems(yaml(INSTANCE + "---\nname: web\nkind: firewall\n"))
        .containsExactly(error(8, 7, "firewall[web].name", "resource name 'web' is already used at line 4"));
  }

  @Test
  void duplicateKeysAreErrors() {
    assertProblems(yaml(INSTANCE + "count: 1\ncount: 2\n"))
        .containsExactly(error(8, 1, "instance.count", "duplicate key 'count' (first at line 7)"));
  }

  @Test
  void aSecondInstanceIsAnError() {
    assertProblems(yaml(INSTANCE) + "\n" + yaml("name: other\nkind: instance\nimage: x\n"))
        .containsExactly(error(13, 7, "instance", "a unit has one instance resource; the first is at line 4"));
  }

  @Test
  void aTemplateWithoutInstanceIsAnError() {
    assertProblems(yaml("name: fw\nkind: firewall\n"))
        .containsExactly(error(3, 1, "instance", "no instance resource: a template needs one resource of 'kind: instance'"));
    assertProblems("# Only prose\n\n```bash\necho\n```\n")
        .containsExactly(
            error(1, 1, "instance", "no resources: a template needs a ```yaml fence with a 'kind: instance' resource"));
  }

  @Test
  void emptyScriptsAreErrors() {
    assertProblems(yaml(INSTANCE) + "\n```bash {phase=reload}\n\n   \n```\n\n```sh\n```\n")
        .containsExactly(
            error(9, 1, "script", "the bash script is empty"), error(14, 1, "script", "the sh script is empty"));
  }

  @Test
  void scriptAttributesAreStrict() {
    assertProblems(
            yaml(INSTANCE)
                + "\n```bash {phase=boot}\necho\n```\n"
                + "\n```bash {when=reload}\necho\n```\n"
                + "\n```bash phase=reload\necho\n```\n"
                + "\n```bash {phase=reload\necho\n```\n"
                + "\n```bash {phase=reload,}\necho\n```\n"
                + "\n```bash {timeout=0s}\necho\n```\n"
                + "\n```bash {timeout=25h}\necho\n```\n"
                + "\n```bash {phase}\necho\n```\n")
        .containsExactly(
            error(9, 16, "script.phase", "unknown phase 'boot': expected one of initial, reboot, reload"),
            error(13, 10, "script", "unknown attribute 'when': expected phase or timeout"),
            error(17, 9, "script", "unexpected text after 'bash': attributes are written {phase=reload, timeout=30s}"),
            error(21, 9, "script", "the attributes opened by '{' are not closed by a '}' at the end of the line"),
            error(25, 22, "script", "empty attribute after ','"),
            error(29, 18, "script.timeout", "timeout must be more than 0"),
            error(33, 18, "script.timeout", "timeout '25h' is longer than 24h"),
            error(37, 10, "script", "attribute 'phase' has no '=value'"));
  }

  @Test
  void aYamlFenceTakesNoAttributes() {
    assertProblems("```yaml {phase=reload}\n" + INSTANCE + "```\n")
        .containsExactly(error(1, 9, "yaml", "a yaml fence takes no attributes"));
  }

  @Test
  void unclosedResourceAndScriptFencesAreErrors() {
    assertProblems(yaml(INSTANCE) + "\n````bash\necho\n```\n")
        .containsExactly(
            error(9, 1, "script", "the bash fence opened here is never closed (a closing fence of at least 4 '`' is needed)"));
    assertProblems("# T\n\n~~~yaml\n" + INSTANCE)
        .containsExactly(
            error(3, 1, "yaml", "the yaml fence opened here is never closed (a closing fence of at least 3 '~' is needed)"));
  }

  @Test
  void yamlSyntaxErrorsAreAtTheirPositionInTheTemplate() {
    assertProblems(yaml(INSTANCE + "roles: [a, b\ncount: 2\n"))
        .singleElement()
        .satisfies(t -> assertThat(t.toList()).startsWith("t.md", 8, 6, Severity.ERROR, "yaml"));
  }

  @Test
  void yamlColumnsCountTheFenceIndentation() {
    assertProblems("# T\n\n  ```yaml\n  name: web\n  kind: instance\n  image: debian12\n  count: x\n  ```\n")
        .containsExactly(error(7, 10, "instance.count", "expected a whole number, not 'x'"));
  }

  @Test
  void fieldsWithoutEffectOnAPodsHostAreWarningsAndTheUnitIsKept() {
    ParseResult r =
        Templates.read(
            "t.md",
            yaml(
                INSTANCE
                    + "zone: +/zone/a\nnode: +/node/n\nshape: +/shape/s\nplan: +/plan/p\nuefi: true\nsecureBoot: false\n"
                    + "cloudType: bsd\ntpm: true\nvnc: true\ngui: false\ndeleteProtection: true\nskipSourceDestCheck: true\n"
                    + "dhcpServer: false\nhostAddress: true\npublicAddress6: false\ncertificates: [+/certificate/c]\n"
                    + "pods: [+/pod/p]\nfailover: primary\n"));

    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings())
        .filteredOn(p -> !p.message().contains(NoEffectWarningsTest.NOT_YET))
        .extracting(p -> p.location().line() + " " + p.field())
        .containsExactly(
            "7 instance.zone", "8 instance.node", "9 instance.shape", "10 instance.plan", "11 instance.uefi",
            "12 instance.secureBoot", "13 instance.cloudType", "14 instance.tpm", "16 instance.gui",
            "17 instance.deleteProtection", "18 instance.skipSourceDestCheck", "19 instance.dhcpServer",
            "20 instance.hostAddress", "21 instance.publicAddress6", "22 instance.certificates", "23 instance.pods",
            "24 instance.failover");
    assertThat(r.unit()).isPresent();
  }

  @Test
  void nullValuesAreLikeAbsentKeysAndRequiredOnesAreMissing() {
    ParseResult r = Templates.read("t.md", yaml(INSTANCE + "count: ~\nroles:\nzone: null\n"));
    assertThat(r.problems()).isEmpty();
    assertThat(r.orThrow().count()).isEqualTo(1);

    assertProblems(yaml("name: web\nkind: instance\nimage: ~\n"))
        .containsExactly(
            error(4, 1, "instance.image", "'image' is required: a catalogue name, +/image/NAME[:tag], a path or a URL"));
  }

  @Test
  void builderRulesGetTheLocationOfTheirField() {
    assertProblems(yaml(INSTANCE + "processors: 300\ndiskSize: 0\nvpc: Bad_Vpc\nsecrets: [+/secret/a]\n"))
        .containsExactly(
            error(7, 13, "instance.processors", "300 is out of range 1-256"),
            error(8, 11, "instance.diskSize", "0 is out of range 1-65536"),
            error(9, 6, "instance.vpc", "'Bad_Vpc' is invalid: a name is 1-63 lower-case letters, digits or inner '-' (a DNS label)"));
  }

  @Test
  void mountsNeedDisksOrAHostPath() {
    assertProblems(
            yaml(
                INSTANCE
                    + "mounts:\n  - {path: /data}\n  - {path: /x, type: nfs}\n  - {path: rel, disks: [+/disk/d]}\n"
                    + "  - {path: /y, disks: [+/secret/s]}\n"))
        .containsExactly(
            error(8, 5, "instance.mounts[0]", "a mount names disks (type disk) or a hostPath (type host_path)"),
            error(9, 22, "instance.mounts[1].type", "unknown mount type 'nfs': expected disk or host_path"),
            error(10, 5, "instance.mounts[2]", "a mount path is absolute, not 'rel'"),
            error(11, 24, "instance.mounts[3].disks[0]", "expected a reference +/disk/NAME, not '+/secret/s'"));
  }

  @Test
  void pathsAndUnitsThatReachTheHostAreCheckedAtTheirValue() {
    assertProblems(
            yaml(
                INSTANCE
                    + "mounts:\n  - {path: /data/../etc, disks: [+/disk/d]}\n  - {path: /srv, hostPath: \"/srv/\\nx\"}\n"
                    + "  - {path: /x, hostPath: relative/dir}\n  - {path: /y, hostPath: /a//b}\n"
                    + "  - {name: ../up, path: /z, disks: [+/disk/e]}\n"
                    + "---\nname: logs\nkind: journal\ninputs:\n"
                    + "  - {key: a, type: systemd, unit: \"-.slice --no-pager\"}\n"
                    + "  - {key: b, type: file, path: /var/log/../../etc/shadow}\n"
                    + "  - {key: c, type: systemd, unit: \"nginx\\nx\"}\n"
                    + "  - {key: d, type: systemd, unit: nginx.service}\n"))
        .containsExactly(
            error(8, 12, "instance.mounts[0].path", "a path has no '.', '..' or empty segments, not '/data/../etc'"),
            error(9, 28, "instance.mounts[1].hostPath",
                "a path has no control characters or line breaks: '/srv/\\nx'"),
            error(10, 5, "instance.mounts[2]", "a host_path mount names an absolute hostPath and no disks"),
            error(11, 26, "instance.mounts[3].hostPath", "a path has no '.', '..' or empty segments, not '/a//b'"),
            error(12, 5, "instance.mounts[4]", "a mount name is 1-63 letters, digits and '_.-' without '..', not '../up'"),
            error(17, 35, "journal[logs].inputs[0].unit", "a systemd unit name is 1-255 of letters, digits and"
                + " ':_.@\\-', a letter or digit first, without '..', not '-.slice --no-pager'"),
            error(18, 32, "journal[logs].inputs[1].path",
                "a path has no '.', '..' or empty segments, not '/var/log/../../etc/shadow'"),
            error(19, 35, "journal[logs].inputs[2].unit",
                "a systemd unit name has no control characters or line breaks: 'nginx\\nx'"));
  }

  @Test
  void invalidUtf8InAFileIsAnErrorAtItsPosition() {
    byte[] bytes = "# T\n\nab\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] broken = java.util.Arrays.copyOf(bytes, bytes.length + 2);
    broken[bytes.length] = (byte) 0xC3;
    broken[bytes.length + 1] = (byte) 0x28;

    assertThat(TemplateParser.read("t.md", broken).problems())
        .extracting(p -> p.location().line() + ":" + p.location().column() + " " + p.message())
        .containsExactly("3:4 invalid UTF-8 (byte 0xC3): a template is UTF-8 text");
  }

  @Test
  void caseMismatchedFenceWordsAreDocumentationWithAWarning() {
    assertProblems(yaml(INSTANCE) + "\n```YAML\nname: x\n```\n\n```Python {phase=reload}\nx = 1\n```\n")
        .containsExactly(
            warning(9, 4, "script", "a fence named 'YAML' is documentation: resource and script fences are named in lower case ('yaml')"),
            warning(13, 4, "script", "a fence named 'Python' is documentation: resource and script fences are named in lower case ('python')"));
  }

  @Test
  void anEmptyYamlFenceIsAWarning() {
    assertProblems(yaml(INSTANCE) + "\n```yaml\n# nothing yet\n```\n")
        .containsExactly(warning(9, 1, "yaml", "this yaml fence declares no resource"));
  }
}
