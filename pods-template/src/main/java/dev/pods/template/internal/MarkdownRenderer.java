package dev.pods.template.internal;

import dev.pods.Block;
import dev.pods.Phase;
import dev.pods.Prose;
import dev.pods.ResourceBlock;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.spec.DomainRecords;
import dev.pods.spec.Firewall;
import dev.pods.spec.Journal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.Node;
import org.commonmark.node.SourceSpan;

/**
 * Renders a unit as a canonical Markdown template: prose verbatim, each resource block as one {@code yaml} fence
 * (resources in order, {@code ---} between them), each script as a fence with its attributes, one blank line
 * between blocks. Thread-safe (stateless).
 */
public final class MarkdownRenderer {
  private MarkdownRenderer() {}

  /**
   * Renders a unit.
   *
   * @throws IllegalArgumentException when a prose block could not be read back as the same prose: it holds a
   *     top-level script or yaml fence, it leaves open a construct that would swallow the next block, or it
   *     directly follows another prose block
   */
  public static String render(Unit unit) {
    Map<String, Object> resources = new HashMap<>();
    resources.put(unit.name(), unit);
    unit.firewalls().forEach(f -> resources.put(f.name(), f));
    unit.domains().forEach(d -> resources.put(d.name(), d));
    unit.journals().forEach(j -> resources.put(j.name(), j));

    List<Block> blocks = unit.blocks();
    StringBuilder b = new StringBuilder(1024);
    for (int i = 0; i < blocks.size(); i++) {
      if (i > 0) {
        b.append('\n');
      }
      Block block = blocks.get(i);
      if (block instanceof Prose p) {
        checkProse(unit, p, i, i == blocks.size() - 1);
        b.append(p.markdown()).append('\n');
      } else if (block instanceof ResourceBlock rb) {
        StringBuilder yaml = new StringBuilder(256);
        for (int k = 0; k < rb.names().size(); k++) {
          if (k > 0) {
            yaml.append("---\n");
          }
          resource(resources.get(rb.names().get(k)), unit, yaml);
        }
        String fence = fence(yaml);
        b.append(fence).append("yaml\n").append(yaml).append(fence).append('\n');
      } else if (block instanceof Script s) {
        String fence = fence(s.source());
        b.append(fence).append(s.language().id()).append(attributes(s)).append('\n');
        b.append(s.source()).append('\n').append(fence).append('\n');
      }
    }
    return b.toString();
  }

  private static void resource(Object r, Unit unit, StringBuilder yaml) {
    if (r instanceof Unit u) {
      YamlWriter.instance(u, yaml);
    } else if (r instanceof Firewall f) {
      YamlWriter.firewall(f, yaml);
    } else if (r instanceof DomainRecords d) {
      YamlWriter.domain(d, yaml);
    } else if (r instanceof Journal j) {
      YamlWriter.journal(j, yaml);
    } else {
      throw new IllegalArgumentException("unit '" + unit.name() + "' has a resource block naming an unknown resource");
    }
  }

  /** {@code " {phase=reload, timeout=30s}"}, or empty for an initial block without timeout. */
  static String attributes(Script s) {
    if (s.phase() == Phase.INITIAL && s.timeout() == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(" {");
    if (s.phase() != Phase.INITIAL) {
      b.append("phase=").append(s.phase().id());
    }
    if (s.timeout() != null) {
      if (s.phase() != Phase.INITIAL) {
        b.append(", ");
      }
      b.append("timeout=").append(Durations.format(s.timeout()));
    }
    return b.append('}').toString();
  }

  /** Backticks, one more than the longest run that starts a line of the content (after indentation), at least 3. */
  static String fence(CharSequence content) {
    int longest = 0;
    boolean lineStart = true;
    int run = 0;
    for (int i = 0; i < content.length(); i++) {
      char c = content.charAt(i);
      if (c == '\n' || c == '\r') {
        lineStart = true;
        run = 0;
      } else if (lineStart && (c == ' ' || c == '\t') && run == 0) {
        continue;
      } else if (lineStart && c == '`') {
        run++;
        longest = Math.max(longest, run);
      } else {
        lineStart = false;
        run = 0;
      }
    }
    return "`".repeat(Math.max(3, longest + 1));
  }

  /**
   * A prose block is written as is, followed by a blank line and the next fence. It reads back the same unless
   * it holds a top-level script or yaml fence of its own, or leaves something open (an unclosed fence, an HTML
   * block such as {@code <!--}) that would swallow the next fence. Checked by parsing the prose followed by a
   * sentinel fence.
   */
  private static void checkProse(Unit unit, Prose p, int index, boolean last) {
    String text = p.markdown();
    int proseLines = new SourceText(text).lineCount();
    String probe = last ? text : text + "\n\n```yaml\n```\n";
    SourceText src = new SourceText(probe);
    boolean sentinelSeen = false;
    for (Node n = MarkdownSplitter.parseBlocks(probe).getFirstChild(); n != null; n = n.getNext()) {
      if (!(n instanceof FencedCodeBlock f)) {
        continue;
      }
      List<SourceSpan> spans = f.getSourceSpans();
      int line = spans.get(0).getLineIndex();
      String word = FenceInfo.of(src.line(line), f.getFenceIndent(), f.getOpeningFenceLength()).word();
      if (!MarkdownSplitter.isSpecial(word)) {
        continue;
      }
      if (!last && line == proseLines + 1) {
        sentinelSeen = true;
      } else {
        throw new IllegalArgumentException(
            "prose block " + index + " of unit '" + unit.name() + "' has a top-level ```" + word
                + " fence at its line " + (line + 1) + ", which would read back as a "
                + (word.equals("yaml") ? "resource block" : "script") + ": " + excerpt(p));
      }
    }
    if (!last && !sentinelSeen) {
      throw new IllegalArgumentException(
          "prose block " + index + " of unit '" + unit.name() + "' leaves open a construct (a fence or an HTML"
              + " block such as <!--) that would swallow the block after it: " + excerpt(p));
    }
  }

  private static String excerpt(Prose p) {
    String m = p.markdown();
    int nl = m.indexOf('\n');
    String first = nl < 0 ? m : m.substring(0, nl);
    return "'" + (first.length() > 60 ? first.substring(0, 60) + "..." : first) + "'";
  }
}
