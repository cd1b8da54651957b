package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.pods.Problem;
import dev.pods.TemplateException;
import dev.pods.Unit;
import dev.pods.internal.SafeText;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/**
 * Templates from an untrusted author: valid templates mutated by byte flips, splices of other templates,
 * truncations and Unicode insertions (multi-byte characters and surrogate pairs, control characters, line
 * separators, escape sequences, bidi overrides), also right at SnakeYAML's 1024-character buffer boundaries. Whatever
 * comes in: reading never throws, parsing throws only {@link TemplateException}, a unit that parses renders and reads
 * back equal, and every problem is one line free of control characters (so no template can forge a
 * {@code file:line:col: error:} line or drive a terminal).
 */
class HostileTemplateProperties {
  private static final List<byte[]> FIXTURES = List.of(fixture("typical.md"), fixture("pritunl-example.md"),
      fixture("bash-sh.md"), fixture("many-errors.md"));

  /** Inserted text: what a hostile or careless author might paste. */
  private static final List<String> INSERTS = List.of(
      "\u00e9", "\u4e2d", "\uD83D\uDE00", "\uD83C\uDDEB\uD83C\uDDF7", "\u0301", "\uFEFF", "\u2028", "\u2029",
      "\u202e", "\u2066", "\u0000", "\u0007", "\u001b[2J\u001b[H", "\u001b]0;title\u0007", "\r", "\r\n",
      "\nt.md:1:1: error: forged\n", "\u0085", "\u009b31m", "\t", "\"\\e[31m\"", "'\\n'", "\uFFFD", "\uFFFF",
      "\\u001b", "```", "---\n", ": ", "- ");

  private static byte[] fixture(String name) {
    try (InputStream in = HostileTemplateProperties.class.getResourceAsStream("/templates/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The whole contract for one input, as bytes (a file) and as text (a string). */
  static void check(byte[] bytes) {
    ParseResult r = TotalityProperties.checkTotal("hostile.md", bytes);
    for (Problem p : r.problems()) {
      assertThat(p.message()).as("message of %s", p).doesNotContain("\n", "\r");
      assertThat(SafeText.isSafe(p.message())).as("message of %s", p).isTrue();
      assertThat(SafeText.isSafe(p.field())).as("field of %s", p).isTrue();
      assertThat(SafeText.isSafe(p.toString())).as("%s", p).isTrue();
    }
    String text = new String(bytes, StandardCharsets.UTF_8);
    assertThatCode(() -> {
      try {
        Unit u = Templates.parse("hostile.md", text);
        assertThat(Templates.parse("again.md", Templates.render(u))).isEqualTo(u);
        Statistics.label("parse").collect("unit");
      } catch (TemplateException e) {
        assertThat(e.problems()).anyMatch(Problem::isError);
        // the exception's message: a header line, then one indented line per problem, nothing else
        List<String> lines = e.getMessage().lines().toList();
        assertThat(lines).hasSize(e.problems().size() + 1);
        assertThat(lines).allSatisfy(l -> assertThat(SafeText.isSafe(l)).isTrue());
        Statistics.label("parse").collect("template exception");
      }
    }).doesNotThrowAnyException();
  }

  @Property(tries = 2000)
  void mutatedTemplatesGiveAUnitOrSafeProblems(
      @ForAll @IntRange(min = 0, max = 3) int fixture, @ForAll @IntRange(min = 1, max = 6) int steps,
      @ForAll long seed) {
    Random random = new Random(seed);
    byte[] bytes = FIXTURES.get(fixture);
    for (int i = 0; i < steps; i++) {
      bytes = mutate(bytes, random);
    }
    check(bytes);
  }

  @Property(tries = 600)
  void multiByteCharactersAtTheYamlReadersBufferBoundariesAreHarmless(
      @ForAll("boundaries") int index, @ForAll("inserts") String insert, @ForAll boolean snakeYaml) {
    // the fence's text puts `insert` at `index`: a tag (outside the fast reader's subset) or none (fast reader)
    String head = (snakeYaml ? "name: !!str web" : "name: web") + "\nkind: instance\nimage: debian12\n# ";
    String yaml = head + "x".repeat(Math.max(0, index - head.length())) + insert + " end\nmemory: 512\n";
    String md = "# Web\n\n```yaml\n" + yaml + "```\n\n```sh\necho " + insert + "\n```\n";
    check(md.getBytes(StandardCharsets.UTF_8));
  }

  @Provide
  Arbitrary<Integer> boundaries() {
    return Arbitraries.oneOf(Arbitraries.integers().between(1014, 1030), Arbitraries.integers().between(2040, 2056),
        Arbitraries.integers().between(60, 5000));
  }

  @Provide
  Arbitrary<String> inserts() {
    return Arbitraries.oneOf(Arbitraries.of(INSERTS), Arbitraries.strings().ofMinLength(1).ofMaxLength(4));
  }

  /** One mutation: a byte flip, a splice of another template, a truncation, or an insertion of hostile text. */
  private static byte[] mutate(byte[] in, Random random) {
    int kind = random.nextInt(4);
    Statistics.label("mutation").collect(List.of("flip", "splice", "truncate", "insert").get(kind));
    if (in.length == 0) {
      return INSERTS.get(random.nextInt(INSERTS.size())).getBytes(StandardCharsets.UTF_8);
    }
    switch (kind) {
      case 0 -> {
        byte[] out = in.clone();
        int at = random.nextInt(out.length);
        out[at] = (byte) (out[at] ^ (1 << random.nextInt(8)));
        return out;
      }
      case 1 -> {
        byte[] other = FIXTURES.get(random.nextInt(FIXTURES.size()));
        int from = random.nextInt(other.length);
        int len = Math.min(other.length - from, 1 + random.nextInt(400));
        return insert(in, random.nextInt(in.length + 1), Arrays.copyOfRange(other, from, from + len));
      }
      case 2 -> {
        return Arrays.copyOf(in, random.nextInt(in.length));
      }
      default -> {
        byte[] text = INSERTS.get(random.nextInt(INSERTS.size())).getBytes(StandardCharsets.UTF_8);
        return insert(in, random.nextInt(in.length + 1), text);
      }
    }
  }

  private static byte[] insert(byte[] in, int at, byte[] what) {
    byte[] out = new byte[in.length + what.length];
    System.arraycopy(in, 0, out, 0, at);
    System.arraycopy(what, 0, out, at, what.length);
    System.arraycopy(in, at, out, at + what.length, in.length - at);
    return out;
  }
}
