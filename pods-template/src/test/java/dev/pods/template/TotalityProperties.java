package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Problem;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/**
 * Any input gives a unit or problems, never another exception, and in bounded time: random text, mutated real
 * templates (byte flips, deleted, duplicated and swapped lines, truncation), and random YAML in resource fences.
 */
class TotalityProperties {
  /** Far above what any input below takes (milliseconds); a hang or a quadratic path would exceed it. */
  private static final long BUDGET_NANOS = 3_000_000_000L;

  private static final List<byte[]> FIXTURES =
      List.of(fixture("typical.md"), fixture("pritunl-example.md"), fixture("bash-sh.md"));

  private static byte[] fixture(String name) {
    try (InputStream in = TotalityProperties.class.getResourceAsStream("/templates/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The whole contract of read(): a result whose unit is present exactly when there is no error. */
  static ParseResult checkTotal(String name, byte[] bytes) {
    long start = System.nanoTime();
    ParseResult r = TemplateParser.read(name, bytes);
    long took = System.nanoTime() - start;
    checkResult(r);
    Statistics.label("outcome").collect(r.hasErrors() ? "problems" : r.warnings().isEmpty() ? "unit" : "unit+warnings");
    assertThat(took).as("nanoseconds to read %d bytes", bytes.length).isLessThan(BUDGET_NANOS);
    return r;
  }

  static void checkResult(ParseResult r) {
    assertThat(r.unit().isPresent()).isEqualTo(!r.hasErrors());
    assertThat(r.hasErrors()).isEqualTo(r.problems().stream().anyMatch(Problem::isError));
    assertThat(r.problems())
        .allSatisfy(
            p -> {
              assertThat(p.location()).isNotNull();
              assertThat(p.message()).doesNotStartWith("internal error");
              assertThat(p.message()).isNotBlank();
            });
    if (r.unit().isPresent()) {
      // A unit that was read renders, and reads back equal.
      String md = Templates.render(r.unit().get());
      assertThat(Templates.read("again.md", md).unit()).contains(r.unit().get());
    }
  }

  @Property(tries = 1000)
  void randomTextIsTotal(@ForAll("anyText") String text) {
    checkTotal("random.md", text.getBytes(StandardCharsets.UTF_8));
  }

  @Property(tries = 1000)
  void randomBytesAreTotal(@ForAll byte[] bytes) {
    checkTotal("bytes.md", bytes);
  }

  @Property(tries = 3000)
  void mutatedTemplatesAreTotal(
      @ForAll @IntRange(min = 0, max = 2) int fixture,
      @ForAll("mutations") List<int[]> mutations,
      @ForAll long seed) {
    byte[] bytes = FIXTURES.get(fixture);
    Random random = new Random(seed);
    for (int[] m : mutations) {
      bytes = mutate(bytes, m[0], random);
    }
    checkTotal("mutated.md", bytes);
  }

  @Property(tries = 1500)
  void randomYamlIsTotal(@ForAll("yamlTemplates") String template) {
    checkTotal("yaml.md", template.getBytes(StandardCharsets.UTF_8));
  }

  @Provide
  Arbitrary<String> anyText() {
    Arbitrary<String> pieces =
        Arbitraries.oneOf(
            Arbitraries.strings().ofMaxLength(200),
            Arbitraries.of(
                "```yaml\n", "```bash\n", "```\n", "~~~python {phase=reload}\n", "---\n", "kind: instance\n",
                "name: x\n", "image: y\n", "- ", "> ", "<!--", "-->", "\n", "    ", "\t", "{", "}", "&a ", "*a",
                "[", "]", "\"", "'", "\r\n", "\u0000", "\uFEFF", "```shell {phase=\"x\", timeout=}\n"));
    return pieces.list().ofMaxSize(40).map(l -> String.join("", l));
  }

  @Provide
  Arbitrary<List<int[]>> mutations() {
    return Arbitraries.integers().between(0, 5).map(k -> new int[] {k}).list().ofMinSize(1).ofMaxSize(6);
  }

  /** One mutation: flip a byte, delete, duplicate or swap lines, truncate, or insert random bytes. */
  private static byte[] mutate(byte[] in, int kind, Random random) {
    if (in.length == 0) {
      return new byte[] {(byte) random.nextInt()};
    }
    switch (kind) {
      case 0 -> {
        byte[] out = in.clone();
        out[random.nextInt(out.length)] = (byte) random.nextInt(256);
        return out;
      }
      case 1, 2, 3 -> {
        List<String> lines =
            new ArrayList<>(Arrays.asList(new String(in, StandardCharsets.ISO_8859_1).split("\n", -1)));
        int i = random.nextInt(lines.size());
        int j = random.nextInt(lines.size());
        if (kind == 1) {
          lines.remove(i);
        } else if (kind == 2) {
          lines.add(i, lines.get(j));
        } else {
          String t = lines.get(i);
          lines.set(i, lines.get(j));
          lines.set(j, t);
        }
        return String.join("\n", lines).getBytes(StandardCharsets.ISO_8859_1);
      }
      case 4 -> {
        return Arrays.copyOf(in, random.nextInt(in.length));
      }
      default -> {
        int at = random.nextInt(in.length + 1);
        byte[] noise = new byte[1 + random.nextInt(8)];
        random.nextBytes(noise);
        byte[] out = new byte[in.length + noise.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(noise, 0, out, at, noise.length);
        System.arraycopy(in, at, out, at + noise.length, in.length - at);
        return out;
      }
    }
  }

  /** Templates whose yaml fences hold random YAML built from the format's keys, values and YAML syntax. */
  @Provide
  Arbitrary<String> yamlTemplates() {
    Arbitrary<String> key =
        Arbitraries.oneOf(
            Arbitraries.of(
                "name", "kind", "count", "image", "memory", "diskSize", "vpc", "subnet", "roles", "secrets",
                "nodePorts", "mounts", "ingress", "records", "inputs", "port", "source", "protocol", "zone",
                "publicAddress", "type", "path", "disks", "externalPort", "internalPort", "select", "domain", "key",
                "unit", "<<", "? [a]", "\"quoted\"", "uefi", "failover"),
            Arbitraries.strings().alpha().ofMaxLength(6));
    Arbitrary<String> scalar =
        Arbitraries.oneOf(
            Arbitraries.of(
                "instance", "firewall", "domain", "journal", "image", "web", "~", "null", "true", "yes", "0", "-1",
                "65536", "99999999999", "1.5", "tcp", "icmp", "\"22\"", "8000-8080", "+/unit/web",
                "+/instance/self/id", "+/secret/x", "+/vpc/", "10.0.0.0/8", "::1", "*a", "&a x", "!!int 3", "!x y",
                "'single'", "\"unterminated", "[1, [2, [3]]]", "{a: 1}", "|", ">", "\"\\x00\"", "@", "`"),
            Arbitraries.strings().ofMaxLength(10));
    Arbitrary<String> entry =
        Combinators.combine(key, scalar, Arbitraries.integers().between(0, 3))
            .as((k, v, indent) -> "  ".repeat(indent) + (indent % 2 == 1 ? "- " : "") + k + ": " + v);
    Arbitrary<String> document =
        Arbitraries.oneOf(
                entry,
                Arbitraries.of(
                    "name: web\nkind: instance\nimage: debian12",
                    "name: fw\nkind: firewall\ningress:\n  - {protocol: tcp, port: 80, source: [+/unit/lb]}",
                    "---",
                    "a: &x [1, 2]\nb: [*x, *x, *x]",
                    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
                    "\t- tab"))
            .list()
            .ofMinSize(1)
            .ofMaxSize(12)
            .map(l -> String.join("\n", l));
    return Combinators.combine(
            document.list().ofMinSize(1).ofMaxSize(4), Arbitraries.of("# T\n\n", "", "text\n"))
        .as((docs, head) -> head + "```yaml\n" + String.join("\n---\n", docs) + "\n```\n\n```sh\necho\n```\n");
  }
}
