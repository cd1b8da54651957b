package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Problem;
import org.junit.jupiter.api.Test;

/**
 * The truth rule at validate time: a key or kind that the runtime does not act on yet is a warning at its own line
 * and column, never accepted silently; the same key asking for nothing (null, false, an empty list) is not; and a
 * template with errors gets its errors alone.
 */
class NoEffectWarningsTest {
  /** What every such warning says. */
  static final String NOT_YET = "has no effect on a pods host yet";

  private static ParseResult read(String yaml) {
    return Templates.read("t.md", "# t\n\n```yaml\n" + yaml + "```\n");
  }

  @Test
  void everyInstanceKeyWithoutEffectIsAWarningAtItsKey() {
    ParseResult r = read("name: web\nkind: instance\nimage: tiny\nvpc: +/vpc/v\nsubnet: +/subnet/s\nroles: [a]\n"
        + "secrets: [+/secret/s]\nnodePorts: [{protocol: tcp, externalPort: 8080, internalPort: 80}]\n"
        + "mounts: [{type: disk, path: /data, disks: [+/disk/d]}]\nvnc: true\n");

    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings())
        .extracting(p -> p.location().line() + ":" + p.location().column() + " " + p.field())
        .containsExactly("8:1 instance.subnet", "9:1 instance.roles");
    assertThat(r.warnings()).allSatisfy(p -> assertThat(p.message()).contains(NOT_YET));
    assertThat(r.unit()).isPresent();
  }

  @Test
  void everyKindTakesEffectSoNoneIsWarnedAbout() {
    ParseResult r = read("name: web\nkind: instance\nimage: tiny\n---\nname: fw\nkind: firewall\n"
        + "ingress: [{protocol: tcp, port: 80, source: [0.0.0.0/0]}]\n---\nname: dns\nkind: domain\n"
        + "records: [{name: www, domain: +/domain/example, type: private}]\n---\nname: logs\nkind: journal\n"
        + "inputs: [{key: app, type: file, path: /var/log/app.log}]\n");

    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings()).noneMatch(p -> p.message().contains(NOT_YET));
  }

  @Test
  void keysThatAskForNothingAreQuiet() {
    ParseResult r = read("name: web\nkind: instance\nimage: tiny\nvnc: false\nroles: []\nmounts: []\nsecrets: ~\n");

    assertThat(r.problems()).isEmpty();
  }

  @Test
  void aTemplateWithErrorsGetsItsErrorsAlone() {
    ParseResult r = read("name: web\nkind: instance\nimage: tiny\nvnc: true\ncount: many\n");

    assertThat(r.problems()).extracting(Problem::field).containsExactly("instance.count");
  }
}
