package dev.pods.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class ReferenceTest {
  @Test
  void parsesEveryPart() {
    assertThat(Reference.parse("+/unit/db/private_ips")).isEqualTo(new Reference("unit", "db", null, "private_ips"));
    assertThat(Reference.parse("+/image/almalinux9:2026.1")).isEqualTo(new Reference("image", "almalinux9", "2026.1", null));
    assertThat(Reference.parse("+/instance/self/id")).isEqualTo(new Reference("instance", "self", null, "id"));
    assertThat(Reference.parse("+/secret/db-creds/data.password").selector()).isEqualTo("data.password");
    assertThat(Reference.parse("+/build/img:v1/x")).isEqualTo(new Reference("build", "img", "v1", "x"));
  }

  @Test
  void rejectsMalformedReferencesWithTheReason() {
    assertThatThrownBy(() -> Reference.parse("+/unit"))
        .hasMessage("malformed reference '+/unit': expected +/kind/name[:tag][/selector]");
    assertThatThrownBy(() -> Reference.parse("+/unit/db/a/b")).hasMessageStartingWith("malformed reference");
    assertThatThrownBy(() -> Reference.parse("/unit/db")).hasMessageStartingWith("malformed reference");
    assertThatThrownBy(() -> Reference.parse("+/gadget/x")).hasMessageStartingWith("unknown reference kind 'gadget'");
  }

  @Property
  void textFormRoundTrips(@ForAll("references") Reference r) {
    assertThat(Reference.parse(r.toString())).isEqualTo(r);
  }

  @Provide
  Arbitrary<Reference> references() {
    Arbitrary<String> part =
        Arbitraries.strings().withChars("abcXYZ019._-").ofMinLength(1).ofMaxLength(12)
            .filter(s -> Character.isLetterOrDigit(s.charAt(0)));
    return Combinators.combine(
            Arbitraries.of(Reference.KINDS), part, part.injectNull(0.5), part.injectNull(0.5))
        .as(Reference::new);
  }

  @Test
  void sourcesAreCidrsOrUnits() {
    assertThat(IngressSource.parse("10.0.0.1")).isEqualTo(new IngressSource.Cidr("10.0.0.1/32"));
    assertThat(IngressSource.parse("fd00::1").text()).isEqualTo("fd00::1/128");
    assertThat(IngressSource.parse("10.0.0.0/8").text()).isEqualTo("10.0.0.0/8");
    IngressSource.Unit u = (IngressSource.Unit) IngressSource.parse("+/unit/lb");
    assertThat(u.selector()).isEqualTo("private_ips");
    assertThat(u.unitName()).isEqualTo("lb");
    assertThatThrownBy(() -> IngressSource.parse("example.com")).hasMessage("'example.com' is not an IP address");
    assertThatThrownBy(() -> IngressSource.parse("10.0.0.0/33")).hasMessageContaining("invalid prefix length");
    assertThatThrownBy(() -> IngressSource.parse("+/vpc/x")).hasMessageStartingWith("a firewall source refers to a unit");
    assertThatThrownBy(() -> IngressSource.parse("+/unit/lb/healthy")).hasMessageStartingWith("unknown selector 'healthy'");
  }

  @Test
  void portsAndRules() {
    assertThat(PortRange.parse("8000-8080")).isEqualTo(new PortRange(8000, 8080));
    assertThat(PortRange.parse("22").toString()).isEqualTo("22");
    assertThatThrownBy(() -> PortRange.parse("80-22")).hasMessageStartingWith("invalid port range 80-22");
    assertThatThrownBy(() -> PortRange.parse("http")).hasMessage("invalid port 'http': expected N or N-M");
    assertThatThrownBy(() -> new IngressRule(Protocol.TCP, null, java.util.List.of(IngressSource.parse("0.0.0.0/0"))))
        .hasMessage("tcp rules need a port or port range");
    assertThatThrownBy(() -> new IngressRule(Protocol.ICMP, PortRange.of(1), java.util.List.of(IngressSource.parse("0.0.0.0/0"))))
        .hasMessage("icmp rules have no ports (only tcp and udp do)");
  }
}
