package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Problem;
import dev.pods.template.internal.Limits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile and oversized input: each bound is an error that names it, reached quickly, never an exception. */
class TemplateBoundsTest {
  private static final String INSTANCE = "```yaml\nname: web\nkind: instance\nimage: debian12\n```\n";

  /**
   * Runs a read with a time limit far above what the largest input here takes on a quiet core (under a second,
   * cold), so that only a hang or a super-linear path fails, not a busy build machine.
   */
  private static ParseResult timed(Supplier<ParseResult> read) {
    long start = System.nanoTime();
    ParseResult r = read.get();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    TotalityProperties.checkResult(r);
    return r;
  }

  private static ParseResult read(String markdown) {
    return timed(() -> Templates.read("t.md", markdown));
  }

  @Test
  void aTemplateOverOneMebibyteIsRejectedBeforeParsing() {
    String big = INSTANCE + "x".repeat(Limits.MAX_TEMPLATE_BYTES);

    assertThat(read(big).problems())
        .extracting(Problem::toString)
        .containsExactly("t.md:1:1: error: template: the template is larger than 1048576 bytes (1 MiB, the limit)");
    // Counted in UTF-8 bytes: 600,000 two-byte characters are over the bound.
    assertThat(read(INSTANCE + "é".repeat(600_000)).errors()).hasSize(1);
  }

  @Test
  void aTemplateOfAlmostOneMebibyteParses() {
    String prose = ("Some prose, a line of documentation that goes on for a while.\n\n").repeat(16_000);
    String md = INSTANCE + prose;
    assertThat(md.length()).isLessThan(Limits.MAX_TEMPLATE_BYTES);

    assertThat(read(md).unit()).isPresent();
  }

  @Test
  void aFileOverTheBoundIsReadOnlyUpToTheBound(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("big.md");
    Files.write(file, new byte[Limits.MAX_TEMPLATE_BYTES + 1]);

    assertThat(timed(() -> Templates.read(file)).problems())
        .extracting(Problem::message)
        .containsExactly("the template is larger than 1048576 bytes (1 MiB, the limit)");
    Path zero = Path.of("/dev/zero");
    if (Files.isReadable(zero)) {
      assertThat(timed(() -> Templates.read(zero)).problems())
          .extracting(Problem::message)
          .containsExactly("the template is larger than 1048576 bytes (1 MiB, the limit)");
    }
  }

  @Test
  void aDirectoryIsAProblem(@TempDir Path dir) {
    assertThat(Templates.read(dir).problems())
        .singleElement()
        .satisfies(p -> assertThat(p.message()).startsWith("cannot read the template: "));
  }

  @Test
  void deepMarkdownNestingOnOneLineIsBounded() {
    String quotes = INSTANCE + "\n" + "> ".repeat(40) + "deep\n";
    String lists = INSTANCE + "\n" + "- ".repeat(500_000) + "x\n";

    assertThat(read(quotes).problems())
        .extracting(Problem::toString)
        .containsExactly("t.md:7:65: error: template: this line opens more than 32 block quotes or list items (the limit)");
    assertThat(read(lists).errors()).extracting(Problem::message)
        .containsExactly("this line opens more than 32 block quotes or list items (the limit)");
  }

  @Test
  void listsNestedByIndentationAreBounded() {
    StringBuilder deep = new StringBuilder(INSTANCE);
    for (int i = 0; i < 1000; i++) {
      deep.append(" ".repeat(i * 2)).append("- item\n");
    }
    StringBuilder allowed = new StringBuilder(INSTANCE);
    for (int i = 0; i <= Limits.MAX_MARKER_INDENT / 2; i++) {
      allowed.append(" ".repeat(i * 2)).append("- item\n");
    }

    assertThat(read(deep.toString()).problems())
        .extracting(Problem::toString)
        .containsExactly("t.md:71:131: error: template: a list item or quote indented more than 128 columns (the limit)");
    assertThat(read(allowed.toString()).unit()).isPresent();
  }

  @Test
  void deeplyNestedYamlIsBounded() {
    String md = "```yaml\nname: web\nkind: instance\nimage: debian12\nroles: " + "[".repeat(100_000) + "\n```\n";

    assertThat(read(md).problems())
        .extracting(Problem::toString)
        .containsExactly("t.md:5:39: error: yaml: invalid YAML: collections nested more than 32 deep (the limit)");
  }

  @Test
  void aliasBombsAreBounded() {
    StringBuilder y = new StringBuilder("name: web\nkind: instance\nimage: debian12\n---\nname: lol\nkind: journal\n");
    y.append("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
      y.append("a").append(i).append(": &a").append(i).append(" [");
      for (int k = 0; k < 9; k++) {
        y.append(k > 0 ? ", " : "").append("*a").append(i - 1);
      }
      y.append("]\n");
    }
    ParseResult r = read("```yaml\n" + y + "```\n");

    assertThat(r.errors())
        .extracting(Problem::toString)
        .containsExactly("t.md:14:35: error: yaml: invalid YAML: more than 50 aliases to collections in one fence (the limit)");
  }

  @Test
  void tooManyFencesResourcesAndListItemsAreBounded() {
    String fences = INSTANCE + "```sh\necho\n```\n".repeat(Limits.MAX_FENCES);
    assertThat(read(fences).errors())
        .extracting(Problem::toString)
        .containsExactly("t.md:3003:1: error: template: more than 1000 resource and script fences (the limit)");

    StringBuilder resources = new StringBuilder("```yaml\nname: web\nkind: instance\nimage: debian12\n");
    for (int i = 0; i < Limits.MAX_RESOURCES; i++) {
      resources.append("---\nname: fw").append(i).append("\nkind: firewall\n");
    }
    assertThat(read(resources + "```\n").errors())
        .extracting(Problem::toString)
        .containsExactly("t.md:771:1: error: resources: more than 256 resources in one template (the limit)");

    String roles = "```yaml\nname: web\nkind: instance\nimage: debian12\nroles: [" + "r, ".repeat(1000) + "r]\n```\n";
    assertThat(read(roles).errors())
        .extracting(Problem::toString)
        .containsExactly("t.md:5:8: error: instance.roles: more than 1000 items (the limit)");
  }

  @Test
  void problemsStopAtTheCapWithANote() {
    StringBuilder y = new StringBuilder("```yaml\nname: web\nkind: instance\nimage: debian12\n");
    for (int i = 0; i < 800; i++) {
      y.append("unknown").append(i).append(": 1\n");
    }
    ParseResult r = read(y + "```\n");

    assertThat(r.problems()).hasSize(Limits.MAX_PROBLEMS + 1);
    assertThat(r.problems().get(Limits.MAX_PROBLEMS).toString())
        .isEqualTo("t.md:505:1: error: template: too many problems: stopped after 500 (the limit)");
  }

  @Test
  void reachingTheCapWithWarningsAloneIsAnError() {
    String md = INSTANCE + "```Bash\necho\n```\n".repeat(Limits.MAX_PROBLEMS + 10);

    ParseResult r = read(md);

    assertThat(r.unit()).isEmpty();
    assertThat(r.warnings()).hasSize(Limits.MAX_PROBLEMS);
    assertThat(r.errors())
        .extracting(Problem::message)
        .containsExactly("too many problems: stopped after 500 (the limit)");
  }

  @Test
  void controlCharactersInYamlAreProblemsAtTheirPosition() {
    assertThat(read("```yaml\nname: web\nkind: instance\nimage: deb\u0001ian\n```\n").problems())
        .extracting(Problem::toString)
        .containsExactly("t.md:4:11: error: yaml: invalid YAML: character U+0001 is not allowed in YAML");
  }

  @Test
  void binaryGarbageGivesProblems() {
    Random random = new Random(42);
    for (int i = 0; i < 200; i++) {
      byte[] bytes = new byte[random.nextInt(5000)];
      random.nextBytes(bytes);
      ParseResult r = timed(() -> TemplateParser.read("bin.md", bytes));
      assertThat(r.hasErrors()).isTrue();
    }
    String nuls = "```yaml\n\u0000\u0000\n```\n\u0000```bash\n\u0000\n```\n";
    assertThat(read(nuls).hasErrors()).isTrue();
  }

  @Test
  void unterminatedFencesOfEveryKindAreReported() {
    for (String open : new String[] {"```yaml\nname: x", "```bash\necho", "~~~python {phase=reload}\nx = 1"}) {
      ParseResult r = read(INSTANCE + open);
      assertThat(r.errors()).extracting(Problem::message).anySatisfy(m -> assertThat(m).contains("is never closed"));
    }
    // An unclosed documentation fence is documentation to the end of the file, as CommonMark says.
    assertThat(read(INSTANCE + "```text\n```bash\necho\n").problems()).isEmpty();
  }

  @Test
  void hugeSingleLinesAndManyLinesAreFine() {
    assertThat(read(INSTANCE + "a".repeat(900_000)).unit()).isPresent();
    assertThat(read(INSTANCE + "\n".repeat(900_000)).unit()).isPresent();
    assertThat(read(INSTANCE + "`".repeat(900_000)).unit()).isPresent();
    assertThat(read(INSTANCE + "<!--" + "\n-".repeat(200_000)).unit()).isPresent();
    assertThat(read(INSTANCE + "[a]: /u\n".repeat(100_000)).unit()).isPresent();
    byte[] longYaml =
        ("```yaml\nname: web\nkind: instance\nimage: \"" + "y".repeat(1_000_000) + "\"\n```\n")
            .getBytes(StandardCharsets.UTF_8);
    assertThat(timed(() -> TemplateParser.read("t.md", longYaml)).unit()).isPresent();
  }
}
