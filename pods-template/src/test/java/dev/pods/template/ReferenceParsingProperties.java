package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.pods.spec.Reference;
import dev.pods.internal.Names;
import dev.pods.template.internal.References;
import dev.pods.template.internal.ResourceDecoder;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The template's hand-written checks agree with the model's regular expressions: references (result and error
 * message alike) and names.
 */
class ReferenceParsingProperties {

  @Provide
  Arbitrary<String> referenceLike() {
    Arbitrary<String> piece =
        Arbitraries.oneOf(
            Arbitraries.of("+/", "/", ":", "unit", "secret", "instance", "self", "id", "Unit", "x", "-", ".", "_",
                "9", "private_ips", "", "+", "é", " "),
            Arbitraries.strings().withChars("+/:abcXYZ09._- ").ofMaxLength(4));
    return piece.list().ofMaxSize(8).map(l -> String.join("", l));
  }

  @Property(tries = 5000)
  void agreesWithTheModel(@ForAll("referenceLike") String text) {
    Reference expected = null;
    Throwable expectedError = catchThrowable(() -> Reference.parse(text));
    if (expectedError == null) {
      expected = Reference.parse(text);
    }

    Throwable error = catchThrowable(() -> References.parse(text));

    if (expected != null) {
      assertThat(error).isNull();
      assertThat(References.parse(text)).isEqualTo(expected);
    } else {
      assertThat(error).isInstanceOf(IllegalArgumentException.class).hasMessage(expectedError.getMessage());
    }
  }

  @Property(tries = 1000)
  void validReferencesRoundTrip(@ForAll("valid") Reference r) {
    assertThat(References.parse(r.toString())).isEqualTo(r);
  }

  @Provide
  Arbitrary<Reference> valid() {
    return Arbitraries.of(Reference.KINDS)
        .flatMap(kind -> UnitArbitraries.refs(kind));
  }

  @Provide
  Arbitrary<String> nameLike() {
    return Arbitraries.oneOf(
        Arbitraries.strings().withChars("az09-A_.").ofMaxLength(70),
        Arbitraries.strings().withChars("abc-").ofMinLength(60).ofMaxLength(66),
        Arbitraries.of("", "-", "a-", "-a", "a", "0", "a-b", "web", "Web", "a".repeat(63), "a".repeat(64)));
  }

  @Property(tries = 5000)
  void namesAgreeWithTheModel(@ForAll("nameLike") String name) {
    assertThat(ResourceDecoder.isName(name)).isEqualTo(Names.isValid(name));
  }
}
