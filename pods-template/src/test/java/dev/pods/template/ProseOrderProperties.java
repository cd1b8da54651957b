package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.Block;
import dev.pods.Phase;
import dev.pods.Prose;
import dev.pods.ResourceBlock;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.Firewall;
import dev.pods.spec.Journal;
import dev.pods.template.internal.Durations;
import dev.pods.template.internal.YamlWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Rendering a parsed template keeps its prose and its block order, whatever the template's own layout: fences of
 * backticks or tildes and of any length, blank lines, CRLF line ends, attribute spacing and quoting, leading
 * {@code ---} and comments in YAML.
 */
class ProseOrderProperties {

  @Provide
  Arbitrary<Unit> units() {
    return UnitArbitraries.units();
  }

  @Property(tries = 1000)
  void renderingAParsedTemplateKeepsProseAndOrder(@ForAll("units") Unit model, @ForAll long seed) {
    String handWritten = AuthorStyle.write(model, new Random(seed));
    Unit parsed = Templates.parse("author.md", handWritten);

    String rendered = Templates.render(parsed);
    Unit reparsed = Templates.parse("rendered.md", rendered);

    assertThat(reparsed).isEqualTo(parsed);
    assertThat(kinds(reparsed.blocks())).isEqualTo(kinds(parsed.blocks()));
    assertThat(prose(reparsed.blocks())).isEqualTo(prose(parsed.blocks()));
    // The author's layout is not the canonical one, but it describes the same unit.
    assertThat(parsed).isEqualTo(model);
  }

  private static List<String> kinds(List<Block> blocks) {
    return blocks.stream()
        .map(b -> b instanceof Prose ? "prose" : b instanceof Script s ? s.language().id() : "yaml")
        .toList();
  }

  private static List<String> prose(List<Block> blocks) {
    return blocks.stream().filter(Prose.class::isInstance).map(b -> ((Prose) b).markdown()).toList();
  }

  /** Writes a unit the way a person might: same content, a different layout from {@link Templates#render}. */
  static final class AuthorStyle {
    private AuthorStyle() {}

    static String write(Unit u, Random r) {
      Map<String, Object> resources = new HashMap<>();
      resources.put(u.name(), u);
      u.firewalls().forEach(f -> resources.put(f.name(), f));
      u.domains().forEach(d -> resources.put(d.name(), d));
      u.journals().forEach(j -> resources.put(j.name(), j));
      StringBuilder b = new StringBuilder();
      for (Block block : u.blocks()) {
        b.append("\n".repeat(1 + r.nextInt(2)));
        if (block instanceof Prose p) {
          b.append(p.markdown()).append('\n');
        } else if (block instanceof ResourceBlock rb) {
          StringBuilder yaml = new StringBuilder(r.nextBoolean() ? "---\n" : "");
          for (int k = 0; k < rb.names().size(); k++) {
            if (k > 0) {
              yaml.append(r.nextBoolean() ? "---\n" : "--- # next resource\n");
            }
            StringBuilder one = new StringBuilder();
            Object res = resources.get(rb.names().get(k));
            if (res instanceof Unit unit) {
              YamlWriter.instance(unit, one);
            } else if (res instanceof Firewall f) {
              YamlWriter.firewall(f, one);
            } else if (res instanceof DomainRecords d) {
              YamlWriter.domain(d, one);
            } else {
              YamlWriter.journal((Journal) res, one);
            }
            for (String line : one.toString().split("\n")) {
              yaml.append(line).append(r.nextInt(5) == 0 ? "   # note" : "").append('\n');
              if (r.nextInt(8) == 0) {
                yaml.append(r.nextBoolean() ? "# a comment line\n" : "\n");
              }
            }
          }
          if (r.nextBoolean()) {
            yaml.append("---\n");
          }
          fenced(b, "yaml", yaml.toString(), r);
        } else if (block instanceof Script s) {
          fenced(b, s.language().id() + attributes(s, r), s.source() + "\n" + "\n".repeat(r.nextInt(2)), r);
        }
      }
      b.append("\n".repeat(r.nextInt(3)));
      String text = b.toString();
      return r.nextInt(4) == 0 ? text.replace("\n", "\r\n") : text;
    }

    private static void fenced(StringBuilder b, String info, String body, Random r) {
      boolean tilde = r.nextInt(3) == 0;
      char c = tilde ? '~' : '`';
      String fence = String.valueOf(c).repeat(Math.max(3, longestRun(body, c) + 1) + r.nextInt(2));
      String indent = r.nextInt(5) == 0 ? " " : "";
      b.append(indent).append(fence).append(r.nextBoolean() ? "" : " ").append(info).append('\n');
      for (String line : body.split("\n", -1)) {
        b.append(line.isEmpty() ? "" : indent).append(line).append('\n');
      }
      b.setLength(b.length() - 1);
      b.append(indent).append(fence).append(r.nextBoolean() ? "" : "  ").append('\n');
    }

    private static int longestRun(String body, char c) {
      int longest = 0;
      for (String line : body.split("\n", -1)) {
        String t = line.stripLeading();
        int run = 0;
        while (run < t.length() && t.charAt(run) == c) {
          run++;
        }
        longest = Math.max(longest, run);
      }
      return longest;
    }

    private static String attributes(Script s, Random r) {
      List<String> pairs = new ArrayList<>();
      if (s.phase() != Phase.INITIAL || r.nextInt(4) == 0) {
        pairs.add("phase=" + quoteMaybe(s.phase().id(), r));
      }
      if (s.timeout() != null) {
        pairs.add("timeout=" + quoteMaybe(Durations.format(s.timeout()), r));
      }
      if (pairs.isEmpty()) {
        return r.nextInt(5) == 0 ? " {}" : "";
      }
      if (r.nextBoolean()) {
        Collections.reverse(pairs);
      }
      return (r.nextBoolean() ? " {" : "{") + String.join(r.nextBoolean() ? "," : " , ", pairs)
          + (r.nextBoolean() ? "}" : " }");
    }

    private static String quoteMaybe(String v, Random r) {
      return r.nextBoolean() ? "\"" + v + "\"" : v;
    }
  }
}
