package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Unit;
import dev.pods.template.internal.FastYaml;
import dev.pods.template.internal.Problems;
import dev.pods.template.internal.Segment.YamlSegment;
import dev.pods.template.internal.YamlComposer;
import dev.pods.template.internal.YamlWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * The fast YAML path gives exactly SnakeYAML's nodes (kinds, tags, values, scalar styles, positions) whenever it
 * accepts a text, and never accepts a text SnakeYAML rejects.
 */
class FastYamlProperties {

  /** SnakeYAML's documents without empty ones, or {@code null} when it reports an error. */
  static List<Node> snake(String yaml) {
    Problems problems = new Problems("y");
    List<Node> docs = new ArrayList<>();
    boolean ok =
        YamlComposer.composeWithSnakeYaml(
            new YamlSegment(1, 1, 1, yaml, new int[0]),
            problems,
            n -> {
              if (!(n instanceof ScalarNode s && s.getValue().isEmpty() && s.isPlain())) {
                docs.add(n);
              }
            });
    return ok ? docs : null;
  }

  static boolean checkSame(String yaml) {
    List<Node> fast = FastYaml.compose(yaml);
    Statistics.label("path").collect(fast == null ? "snakeyaml" : "fast");
    if (fast == null) {
      return false;
    }
    List<Node> reference = snake(yaml);
    assertThat(reference).as("SnakeYAML rejects what the fast path accepted:%n%s", yaml).isNotNull();
    assertThat(fast).as(yaml).hasSameSizeAs(reference);
    for (int i = 0; i < fast.size(); i++) {
      same(fast.get(i), reference.get(i), "doc" + i, yaml);
    }
    return true;
  }

  private static void same(Node a, Node b, String path, String yaml) {
    String where = path + " in\n" + yaml;
    assertThat(a.getNodeId()).as(where).isEqualTo(b.getNodeId());
    assertThat(a.getTag()).as(where).isEqualTo(b.getTag());
    assertThat(a.getStartMark().getLine()).as("line of " + where).isEqualTo(b.getStartMark().getLine());
    assertThat(a.getStartMark().getColumn()).as("column of " + where).isEqualTo(b.getStartMark().getColumn());
    if (a instanceof ScalarNode sa) {
      ScalarNode sb = (ScalarNode) b;
      assertThat(sa.getValue()).as(where).isEqualTo(sb.getValue());
      assertThat(sa.getScalarStyle()).as(where).isEqualTo(sb.getScalarStyle());
    } else if (a instanceof SequenceNode qa) {
      List<Node> ia = qa.getValue();
      List<Node> ib = ((SequenceNode) b).getValue();
      assertThat(ia).as(where).hasSameSizeAs(ib);
      for (int i = 0; i < ia.size(); i++) {
        same(ia.get(i), ib.get(i), path + "[" + i + "]", yaml);
      }
    } else {
      MappingNode ma = (MappingNode) a;
      MappingNode mb = (MappingNode) b;
      assertThat(ma.getValue()).as(where).hasSameSizeAs(mb.getValue());
      for (int i = 0; i < ma.getValue().size(); i++) {
        same(ma.getValue().get(i).getKeyNode(), mb.getValue().get(i).getKeyNode(), path + ".key" + i, yaml);
        same(ma.getValue().get(i).getValueNode(), mb.getValue().get(i).getValueNode(), path + ".value" + i, yaml);
      }
    }
  }

  @Provide
  Arbitrary<Unit> units() {
    return UnitArbitraries.units();
  }

  /** The YAML that rendering writes, which the fast path is for. */
  static String yamlOf(Unit u) {
    StringBuilder b = new StringBuilder("---\n");
    YamlWriter.instance(u, b);
    u.firewalls().forEach(f -> YamlWriter.firewall(f, b.append("---\n")));
    u.domains().forEach(d -> YamlWriter.domain(d, b.append("---\n")));
    u.journals().forEach(j -> YamlWriter.journal(j, b.append("---\n")));
    return b.toString();
  }

  @Property(tries = 1500)
  void renderedYamlIsReadTheSameWay(@ForAll("units") Unit unit) {
    String yaml = yamlOf(unit);
    boolean fast = checkSame(yaml);
    if (!yaml.codePoints().anyMatch(c -> c > 0xFFFF || (c < 0x20 && c != '\n') || (c >= 0x7F && c < 0xA0))) {
      assertThat(fast).as("the fast path takes plain rendered YAML:%n%s", yaml).isTrue();
    }
  }

  @Property(tries = 3000)
  void mutatedYamlIsReadTheSameWayOrLeftToSnakeYaml(
      @ForAll("units") Unit unit, @ForAll("edits") List<String> edits, @ForAll long seed) {
    Random r = new Random(seed);
    List<String> lines = new ArrayList<>(Arrays.asList(yamlOf(unit).split("\n", -1)));
    for (String edit : edits) {
      int i = r.nextInt(lines.size());
      String l = lines.get(i);
      switch (edit) {
        case "indent" -> lines.set(i, " ".repeat(1 + r.nextInt(3)) + l);
        case "dedent" -> lines.set(i, l.stripLeading());
        case "delete" -> lines.remove(i);
        case "duplicate" -> lines.add(i, l);
        case "comment" -> lines.set(i, l + " # note");
        case "blank" -> lines.add(i, r.nextBoolean() ? "" : "   ");
        case "commentLine" -> lines.add(i, " ".repeat(r.nextInt(4)) + "# c");
        case "truncate" -> lines.set(i, l.substring(0, r.nextInt(l.length() + 1)));
        default -> {
          int at = r.nextInt(l.length() + 1);
          lines.set(i, l.substring(0, at) + edit + l.substring(at));
        }
      }
      if (lines.isEmpty()) {
        lines.add("");
      }
    }
    checkSame(String.join("\n", lines));
  }

  @Provide
  Arbitrary<List<String>> edits() {
    return Arbitraries.of(
            "indent", "dedent", "delete", "duplicate", "comment", "blank", "commentLine", "truncate", ":", ": ", "-",
            "- ", "#", " #", "[", "]", "{", "}", ",", "\"", "'", "\\", "\\u00e9", "\\q", "&a ", "*a", "!t ", "|",
            ">", "?", "%", "@", "`", "~", "---", "...", "\t", " ", "x: y", "- a: b", "[a, b]", "{a: 1}", "''", "\"\"")
        .list()
        .ofMinSize(1)
        .ofMaxSize(4);
  }

  @Example
  void handPickedCasesAgree() {
    List<String> cases =
        List.of(
            "name: a\nkind: instance\n",
            "a:\n  - x\n  - y\nb: 1\n",
            "a:\n- x\n- y\nb: 1\n",
            "- a: 1\n  b: 2\n- c: 3\n",
            "- a:\n  - x\n",
            "a:\nb: 2\n",
            "a: [x, \"y\", 'z''s', {k: v, l: [1, 2]}]\n",
            "a: {}\nb: []\n",
            "a: \"\\x41\\u00e9\\U0001F600\\n\\t\\\\\\\"\"\n",
            "a: http://x:8080/p # c\n",
            "a: b c   \n",
            "# only a comment\n",
            "---\n---\na: 1\n---\n",
            "a: -1\nb: ~\nc: +/unit/x/private_ips\n",
            "  a: 1\n  b: 2\n",
            "a:\n  b:\n    c:\n      d: 1\n",
            "a: 1\n  # indented comment\nb: 2\n");
    for (String yaml : cases) {
      assertThat(checkSame(yaml)).as("fast path for:%n%s", yaml).isTrue();
    }
    List<String> leftToSnakeYaml =
        List.of("a: &x 1\nb: *x\n", "a: |\n  text\n", "a: b\n  c\n", "a:\tb\n", "? a\n: b\n", "a: !!str 1\n",
            "\"a\": 1\n", "a: [1,\n 2]\n", "--- a\n", "%YAML 1.1\n---\na: 1\n", "a: 'x\n  y'\n", "a:   \n");
    for (String yaml : leftToSnakeYaml) {
      assertThat(FastYaml.compose(yaml)).as(yaml).isNull();
    }
    assertThat(snake("a: 1").get(0).getTag()).isEqualTo(Tag.MAP);
    // The fixtures' resource fences, which the benchmark measures, take the fast path.
    for (String fixture : List.of("typical.md", "pritunl-example.md", "bash-sh.md")) {
      String md = Fixtures.text(fixture);
      int open = md.indexOf("```yaml\n") + 8;
      String yaml = md.substring(open, md.indexOf("\n```", open) + 1);
      assertThat(checkSame(yaml)).as(fixture).isTrue();
    }
  }
}
