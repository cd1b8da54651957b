package dev.pods.template.internal;

import dev.pods.Prose;
import dev.pods.Script;
import dev.pods.template.internal.Segment.ProseSegment;
import dev.pods.template.internal.Segment.ScriptSegment;
import dev.pods.template.internal.Segment.YamlSegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import org.commonmark.node.Document;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.Node;
import org.commonmark.node.SourceSpan;
import org.commonmark.parser.IncludeSourceSpans;
import org.commonmark.parser.InlineParser;
import org.commonmark.parser.Parser;

/**
 * Splits a Markdown template into prose, resource fences and script fences, with CommonMark deciding what a
 * top-level fence is. Only top-level fences whose first info word is {@code yaml}, {@code shell}, {@code bash},
 * {@code sh} or {@code python} are special; everything else, other fences included, is prose kept as the exact
 * source lines. Thread-safe (the CommonMark parser is immutable and shared).
 */
public final class MarkdownSplitter {
  /** Inline content is never looked at: skipping it saves most of CommonMark's time and its deepest paths. */
  private static final InlineParser NO_INLINES = (lines, node) -> {};

  private static final Parser PARSER =
      Parser.builder()
          .includeSourceSpans(IncludeSourceSpans.BLOCKS)
          .inlineParserFactory(context -> NO_INLINES)
          .build();

  private MarkdownSplitter() {}

  /** Parses a document into CommonMark blocks (inline content left unparsed). */
  public static Document parseBlocks(String markdown) {
    return (Document) PARSER.parse(markdown);
  }

  /**
   * Whether a fence word makes a top-level fence special (a resource or script fence).
   *
   * @param word the info string's first word
   */
  public static boolean isSpecial(String word) {
    return word.equals("yaml") || Ids.language(word) != null;
  }

  /**
   * The parts of a template.
   *
   * @param segments prose, resource and script fences in document order; empty when a bound stopped the work
   * @param yamlIncomplete whether a yaml fence was left out (it was never closed), so that resources may be
   *     missing through no fault of their own
   */
  public record Split(List<Segment> segments, boolean yamlIncomplete) {}

  /** Splits a template, reporting fence problems (unclosed, bad attributes, empty script) and bounds. */
  public static Split split(SourceText src, Problems problems) {
    if (!withinNesting(src, problems)) {
      return new Split(List.of(), true);
    }
    boolean yamlIncomplete = false;
    Node document = parseBlocks(src.text());
    List<Segment> out = new ArrayList<>();
    int proseStart = 0;
    int fences = 0;
    for (Node n = document.getFirstChild(); n != null; n = n.getNext()) {
      if (!(n instanceof FencedCodeBlock f)) {
        if (n.getFirstChild() != null) {
          warnNestedFences(n, src, problems);
        }
        continue;
      }
      List<SourceSpan> spans = f.getSourceSpans();
      int open = spans.get(0).getLineIndex();
      int last = spans.get(spans.size() - 1).getLineIndex();
      String rawOpen = src.line(open);
      FenceInfo info = FenceInfo.of(rawOpen, f.getFenceIndent(), f.getOpeningFenceLength());
      String word = info.word();
      if (!isSpecial(word)) {
        String lower = word.toLowerCase(Locale.ROOT);
        if (!lower.equals(word) && isSpecial(lower)) {
          problems.warning(
              problems.at(open + 1, info.wordColumn()),
              "script",
              "a fence named '" + word + "' is documentation: resource and script fences are named in lower case ('"
                  + lower + "')");
        }
        continue;
      }
      if (++fences > Limits.MAX_FENCES) {
        problems.error(
            problems.at(open + 1, f.getFenceIndent() + 1),
            "template",
            "more than " + Limits.MAX_FENCES + " resource and script fences (the limit)");
        return new Split(List.of(), true);
      }
      if (!src.isBlank(proseStart, open)) {
        out.add(new ProseSegment(new Prose(src.join(proseStart, open))));
      }
      proseStart = last + 1;
      boolean closed = f.getClosingFenceLength() != null;
      int contentEnd = closed ? last : last + 1;
      int fenceColumn = f.getFenceIndent() + 1;
      if (!closed) {
        problems.error(
            problems.at(open + 1, fenceColumn),
            word.equals("yaml") ? "yaml" : "script",
            "the " + word + " fence opened here is never closed (a closing fence of at least "
                + f.getOpeningFenceLength() + " '" + f.getFenceCharacter() + "' is needed)");
        yamlIncomplete |= word.equals("yaml");
        continue;
      }
      int indent = f.getFenceIndent();
      int[] removed = new int[Math.max(0, contentEnd - open - 1)];
      String content = content(src, open + 1, contentEnd, indent, removed);
      if (word.equals("yaml")) {
        if (info.hasRest()) {
          problems.error(
              problems.at(open + 1, info.restColumn()), "yaml", "a yaml fence takes no attributes");
        }
        out.add(new YamlSegment(open + 1, fenceColumn, open + 2, content, removed));
      } else {
        Script.Language language = Ids.language(word);
        FenceInfo.Attributes attributes = info.attributes(problems, open + 1);
        if (content.isBlank()) {
          problems.error(problems.at(open + 1, fenceColumn), "script", "the " + word + " script is empty");
          continue;
        }
        try {
          out.add(
              new ScriptSegment(new Script(language, attributes.phase(), content, attributes.timeout())));
        } catch (IllegalArgumentException e) {
          problems.error(problems.at(open + 1, fenceColumn), "script", e.getMessage());
        }
      }
    }
    if (!src.isBlank(proseStart, src.lineCount())) {
      out.add(new ProseSegment(new Prose(src.join(proseStart, src.lineCount()))));
    }
    return new Split(out, yamlIncomplete);
  }

  private static String content(SourceText src, int from, int to, int indent, int[] removed) {
    if (indent == 0) {
      return src.join(from, to);
    }
    StringBuilder b = new StringBuilder();
    for (int i = from; i < to; i++) {
      String line = src.line(i);
      int cut = 0;
      while (cut < indent && cut < line.length() && line.charAt(cut) == ' ') {
        cut++;
      }
      removed[i - from] = cut;
      if (i > from) {
        b.append('\n');
      }
      b.append(line, cut, line.length());
    }
    return b.toString();
  }

  /**
   * CommonMark's block parser slows down sharply with deep nesting: many container markers on one line (e.g.
   * thousands of {@code - } or {@code >}), or lists nested by indentation hundreds of levels deep. No template
   * needs either, so a line may open at most {@link Limits#MAX_MARKDOWN_NESTING} quotes or list items, and a
   * marker may stand after at most {@link Limits#MAX_MARKER_INDENT} columns of indentation.
   */
  private static boolean withinNesting(SourceText src, Problems problems) {
    String t = src.text();
    for (int line = 0; line < src.lineCount(); line++) {
      int start = src.lineStart(line);
      int end = src.lineEnd(line);
      int i = start;
      int markers = 0;
      int column = 0;
      while (i < end) {
        char c = t.charAt(i);
        int markerEnd = -1;
        if (c == ' ') {
          column++;
          i++;
          continue;
        } else if (c == '\t') {
          column += 4 - column % 4;
          i++;
          continue;
        } else if (c == '>') {
          markerEnd = i + 1;
        } else if ((c == '-' || c == '*' || c == '+') && (i + 1 == end || isBlank(t.charAt(i + 1)))) {
          markerEnd = i + 1;
        } else if (c >= '0' && c <= '9') {
          int j = i;
          while (j < end && j - i < 10 && t.charAt(j) >= '0' && t.charAt(j) <= '9') {
            j++;
          }
          if (j < end && (t.charAt(j) == '.' || t.charAt(j) == ')') && (j + 1 == end || isBlank(t.charAt(j + 1)))) {
            markerEnd = j + 1;
          }
        }
        if (markerEnd < 0) {
          break;
        }
        markers++;
        if (markers > Limits.MAX_MARKDOWN_NESTING) {
          problems.error(
              problems.at(line + 1, i - start + 1),
              "template",
              "this line opens more than " + Limits.MAX_MARKDOWN_NESTING
                  + " block quotes or list items (the limit)");
          return false;
        }
        if (column > Limits.MAX_MARKER_INDENT) {
          problems.error(
              problems.at(line + 1, i - start + 1),
              "template",
              "a list item or quote indented more than " + Limits.MAX_MARKER_INDENT + " columns (the limit)");
          return false;
        }
        column += markerEnd - i;
        i = markerEnd;
      }
    }
    return true;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  /** Script fences inside lists or quotes are documentation; say so, since an author may expect them to run. */
  private static void warnNestedFences(Node top, SourceText src, Problems problems) {
    Deque<Node> stack = new ArrayDeque<>();
    stack.push(top);
    while (!stack.isEmpty()) {
      Node n = stack.pop();
      if (n instanceof FencedCodeBlock f && n != top) {
        List<SourceSpan> spans = f.getSourceSpans();
        if (!spans.isEmpty()) {
          SourceSpan s = spans.get(0);
          String rest = src.line(s.getLineIndex()).substring(Math.min(s.getColumnIndex(), src.line(s.getLineIndex()).length()));
          int lead = 0;
          while (lead < rest.length() && rest.charAt(lead) == ' ') {
            lead++;
          }
          FenceInfo info = FenceInfo.of(rest, lead, f.getOpeningFenceLength());
          if (isSpecial(info.word())) {
            problems.warning(
                problems.at(s.getLineIndex() + 1, s.getColumnIndex() + 1),
                "script",
                "this " + info.word() + " fence is inside a list or quote, so it is documentation and never runs;"
                    + " only top-level fences are resources or scripts");
          }
        }
      }
      for (Node c = n.getLastChild(); c != null; c = c.getPrevious()) {
        stack.push(c);
      }
    }
  }
}
