package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.Script;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The state's JSON form of the model: exact round trips of every field, and clear errors for bad input. */
class PodJsonTest {

  /** A unit with every field set to something other than its default, and every kind of block. */
  static Unit everything() {
    return Unit.builder().name("web").count(3).image("debian12").processors(2).memoryMib(2048).diskSizeGib(20)
        .vpc("backend").subnet("10.7.0.0/24").publicAddress(true)
        .restart(dev.pods.RestartPolicy.ON_FAILURE).livenessTimeout(Duration.ofSeconds(42))
        .readinessCheck(dev.pods.spec.HealthCheck.http("/healthz", 8080).interval(Duration.ofSeconds(5)).failures(2))
        .livenessCheck(dev.pods.spec.HealthCheck.exec("test", "-f", "/x").grace(Duration.ofSeconds(30)))
        .livenessCheck(dev.pods.spec.HealthCheck.tcp(22).timeout(Duration.ofSeconds(1)))
        .nodePort(new NodePort(Protocol.TCP, 8080, 80))
        .nodePort(new NodePort(Protocol.UDP, 5353, 53))
        .mount(new Mount("data", Mount.Type.DISK, "/var/data", null, List.of(Reference.of("disk", "data-1"))))
        .mount(new Mount(null, Mount.Type.HOST_PATH, "/srv", "/export/srv", List.of()))
        .role("frontend").role("edge.v2")
        .secret(Reference.of("secret", "db-creds"))
        .options(new InstanceOptions(Reference.of("zone", "z1"), Reference.of("node", "n1"),
            Reference.of("shape", "s1"), Reference.of("plan", "p1"), true, false, "linux", true, false, true, false,
            true, false, true, false, List.of(Reference.of("certificate", "tls")), List.of(Reference.of("pod", "x")),
            "primary"))
        .firewall(new Firewall("fw", List.of(
            new IngressRule(Protocol.TCP, new PortRange(80, 90),
                List.of(IngressSource.parse("0.0.0.0/0"), IngressSource.parse("+/unit/db/public_ips"))),
            new IngressRule(Protocol.ICMP, null, List.of(IngressSource.parse("10.0.0.0/8"))))))
        .domain(new DomainRecords("dns", List.of(
            new DomainRecord("www", Reference.of("domain", "example.com"), RecordType.PUBLIC, "primary"),
            new DomainRecord("*", Reference.of("domain", "example.com"), RecordType.PRIVATE6, null))))
        .journal(new Journal("logs", List.of(
            new JournalInput("app", JournalInput.Type.SYSTEMD, "app.service", null),
            new JournalInput("nginx", JournalInput.Type.FILE, null, "/var/log/nginx/access.log"))))
        .prose("# Web\n\nServes the *shop* (ünïcode, \"quotes\", 'single', `ticks`).")
        .resourceBlock(List.of("web", "fw", "dns", "logs"))
        .script(Script.shell("apt-get install -y nginx\necho 'done'"))
        .prose("Reloads follow.")
        .script(Script.bash(Phase.RELOAD, "nginx -s reload").withTimeout(Duration.ofSeconds(90)))
        .script(Script.python(Phase.REBOOT, "print('x')\n"))
        .script(new Script(Script.Language.SH, Phase.INITIAL, "true", Duration.ofMillis(1500)))
        .build();
  }

  @Test
  void aRecordOfAnEarlierVersionWithoutRestartOrLivenessGetsTheDefaults() {
    ObjectNode o = PodJson.encode(Pod.builder().name("shop").unit(everything())
        .unit(Unit.builder().name("db").image("i").build()).build());
    ObjectNode u = null;
    for (com.fasterxml.jackson.databind.JsonNode n : o.get("units")) {
      if (n.get("name").asText().equals("web")) {
        u = (ObjectNode) n;
      }
    }
    assertThat(u).isNotNull();
    u.remove("restart");
    u.remove("livenessTimeoutSeconds");
    u.remove("readinessChecks");
    u.remove("livenessChecks");
    Unit back = PodJson.decode(o).unit("web").orElseThrow();
    assertThat(back.restart()).isEqualTo(Unit.DEFAULT_RESTART);
    assertThat(back.livenessTimeout()).isEqualTo(Unit.DEFAULT_LIVENESS_TIMEOUT);
    assertThat(back.readinessChecks()).isEmpty();
    assertThat(back.livenessChecks()).isEmpty();
    assertThat(back.toBuilder().restart(dev.pods.RestartPolicy.ON_FAILURE).livenessTimeout(Duration.ofSeconds(42))
        .readinessChecks(everything().readinessChecks()).livenessChecks(everything().livenessChecks())
        .build()).isEqualTo(everything());
  }

  @Test
  void everyFieldAndBlockSurvivesTheRoundTripExactly() {
    Pod pod = Pod.builder().name("shop")
        .unit(everything())
        .unit(Unit.builder().name("db").image("tiny").count(0).build())
        .build();
    Pod back = PodJson.decode(PodJson.encode(pod));
    assertThat(back).isEqualTo(pod);
    assertThat(back.units()).extracting(Unit::toString)
        .containsExactlyElementsOf(pod.units().stream().map(Unit::toString).toList());
    assertThat(PodDocuments.decode(PodDocuments.encode(pod), "test")).isEqualTo(pod);
  }

  @Test
  void badInputIsRefusedWithWhatIsWrong() {
    ObjectNode o = PodJson.encode(Pod.builder().name("shop").unit(Unit.builder().name("a").image("i").build())
        .build());
    o.put("format", 99);
    assertThatThrownBy(() -> PodJson.decode(o)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown pod format 99");
    ObjectNode noImage = PodJson.encode(Pod.builder().name("shop").unit(Unit.builder().name("a").image("i").build())
        .build());
    ((ObjectNode) noImage.get("units").get(0)).remove("image");
    assertThatThrownBy(() -> PodJson.decode(noImage)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing field 'image'");
    ObjectNode badCount = PodJson.encode(Pod.builder().name("shop")
        .unit(Unit.builder().name("a").image("i").build()).build());
    ((ObjectNode) badCount.get("units").get(0)).put("count", -1);
    assertThatThrownBy(() -> PodJson.decode(badCount)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("count");
    assertThatThrownBy(() -> PodDocuments.decode("{\"format\":1".getBytes(StandardCharsets.UTF_8), "key k"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key k: not JSON");
  }
}
