package dev.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pods.spec.Firewall;
import dev.pods.spec.IngressRule;
import dev.pods.spec.IngressSource;
import dev.pods.spec.NodePort;
import dev.pods.spec.PortRange;
import dev.pods.spec.Protocol;
import dev.pods.spec.Reference;
import java.util.List;
import org.junit.jupiter.api.Test;

class UnitTest {
  private static Firewall webFw() {
    return new Firewall(
        "web-fw",
        List.of(new IngressRule(Protocol.TCP, PortRange.of(80), List.of(IngressSource.parse("+/unit/lb")))));
  }

  @Test
  void appliesStatedDefaults() {
    Unit u = Unit.builder().name("web").image("debian12").build();
    assertThat(u.count()).isEqualTo(1);
    assertThat(u.processors()).isEqualTo(1);
    assertThat(u.memoryMib()).isEqualTo(1024);
    assertThat(u.diskSizeGib()).isEqualTo(10);
    assertThat(u.vpc()).isEqualTo("default");
    assertThat(u.subnet()).isNull();
    assertThat(u.publicAddress()).isFalse();
    assertThat(u.blocks()).containsExactly(new ResourceBlock(List.of("web")));
  }

  @Test
  void reportsEveryProblemAtOnce() {
    PodSpecException e =
        catchThrowableOfType(PodSpecException.class, () ->
                Unit.builder()
                    .name("Web_1")
                    .count(-1)
                    .processors(0)
                    .memoryMib(10)
                    .diskSizeGib(0)
                    .vpc("no such")
                    .subnet("10.0.0.0/99")
                    .role("bad role")
                    .secret(Reference.parse("+/disk/x"))
                    .nodePort(new NodePort(Protocol.TCP, 8080, 80))
                    .nodePort(new NodePort(Protocol.TCP, 8080, 81))
                    .build());
    assertThat(e.errors())
        .extracting(Problem::field)
        .containsExactly(
            "name", "image", "count", "processors", "memory", "diskSize", "vpc", "subnet", "roles[0]", "secrets[0]",
            "nodePorts[1]");
    assertThat(e.getMessage())
        .startsWith("invalid unit 'Web_1' (11 errors):")
        .contains("error: memory: 10 is out of range 64-4194304")
        .contains("error: nodePorts[1]: external tcp port 8080 is used twice");
  }

  @Test
  void rejectsDuplicateResourceNames() {
    PodSpecException e =
        catchThrowableOfType(PodSpecException.class, () ->
                Unit.builder()
                    .name("web")
                    .image("x")
                    .firewall(new Firewall("web", List.of()))
                    .firewall(webFw())
                    .firewall(webFw())
                    .build());
    assertThat(e.errors())
        .extracting(Problem::message)
        .containsExactly("resource name 'web' is used twice", "resource name 'web-fw' is used twice");
  }

  @Test
  void keepsDocumentOrderOfProseResourcesAndScripts() {
    Script install = Script.shell("apt-get install -y nginx");
    Unit u =
        Unit.builder()
            .name("web")
            .image("debian12")
            .prose("# Web\n\nServes the shop.")
            .resourceBlock(List.of("web"))
            .prose("## Install")
            .script(install)
            .firewall(webFw())
            .build();
    assertThat(u.blocks())
        .containsExactly(
            new Prose("# Web\n\nServes the shop."),
            new ResourceBlock(List.of("web", "web-fw")),
            new Prose("## Install"),
            install);
    assertThat(u.scripts()).containsExactly(install);
  }

  @Test
  void layoutDropsRemovedResourcesAndEmptyBlocks() {
    Unit u =
        Unit.builder()
            .name("web")
            .image("debian12")
            .resourceBlock(List.of("web"))
            .prose("Firewall:")
            .resourceBlock(List.of("web-fw"))
            .firewall(webFw())
            .build();
    assertThat(u.blocks()).hasSize(3);
    Unit without = u.toBuilder().firewalls(List.of()).build();
    assertThat(without.blocks()).containsExactly(new ResourceBlock(List.of("web")), new Prose("Firewall:"));
  }

  @Test
  void adjacentProseBecomesOneBlock() {
    Unit u =
        Unit.builder()
            .name("web")
            .image("debian12")
            .prose("# Web")
            .resourceBlock(List.of("web"))
            .prose("The firewall:")
            .resourceBlock(List.of("web-fw"))
            .prose("More.")
            .firewall(webFw())
            .build();
    assertThat(u.blocks()).hasSize(5);
    Unit without = u.toBuilder().firewalls(List.of()).build();
    assertThat(without.blocks())
        .containsExactly(
            new Prose("# Web"), new ResourceBlock(List.of("web")), new Prose("The firewall:\n\nMore."));
    assertThat(Unit.builder().name("a").image("b").prose("x").prose("y").build().blocks())
        .containsExactly(new ResourceBlock(List.of("a")), new Prose("x\n\ny"));
  }

  @Test
  void toBuilderRoundTripsAndDerivesCopies() {
    Unit u =
        Unit.builder()
            .name("web")
            .image("debian12")
            .count(3)
            .script(Phase.RELOAD, Script.shell("nginx -s reload"))
            .build();
    assertThat(u.toBuilder().build()).isEqualTo(u).hasSameHashCodeAs(u);
    Unit bigger = u.toBuilder().memoryMib(2048).build();
    assertThat(bigger).isNotEqualTo(u);
    assertThat(bigger.memoryMib()).isEqualTo(2048);
    assertThat(bigger.scripts()).isEqualTo(u.scripts());
    assertThat(u.scripts(Trigger.CLUSTER_CHANGE)).hasSize(1);
    assertThat(u.toBuilder().clearScripts().build().scripts()).isEmpty();
  }
}
