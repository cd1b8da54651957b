package dev.pods.template.internal;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.DumperOptions.FlowStyle;
import org.yaml.snakeyaml.DumperOptions.ScalarStyle;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.reader.StreamReader;

/**
 * A fast reader for the plain YAML that templates are made of, giving the very nodes SnakeYAML's composer
 * gives (same kinds, values, scalar styles and start positions), or {@code null} as soon as the text steps
 * outside that subset, in which case SnakeYAML reads it. SnakeYAML's scanner takes about half of a template's
 * parse time; this takes a tenth of that.
 *
 * <p>The subset: documents separated by {@code ---} lines; block mappings with simple keys ({@code [A-Za-z0-9_-]+});
 * block sequences ({@code - }), whose items are values or compact mappings; values on one line: plain,
 * single- or double-quoted scalars, and flow sequences and mappings of them; empty values; comments. Anything
 * else (anchors, aliases, tags, block scalars, multi-line scalars or flow collections, tabs, complex keys,
 * directives, errors of any kind) is left to SnakeYAML, which also reports every error. A property test
 * compares the two on generated and mutated YAML.
 *
 * <p>Not thread-safe: one instance per fence.
 */
public final class FastYaml {
  private static final int[] NO_BUFFER = new int[0];

  /** Deep nesting is left to SnakeYAML, which enforces {@link Limits#MAX_YAML_DEPTH}. */
  private static final int MAX_DEPTH = Limits.MAX_YAML_DEPTH / 2;

  private final String s;
  private final int[] starts;
  private final int[] ends;
  private final int[] indents;
  private final int lineCount;
  private int line;
  private int depth;

  /** Signals that the text is outside the subset; cheap (no stack trace). */
  private static final class Unsupported extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final Unsupported INSTANCE = new Unsupported();

    private Unsupported() {
      super(null, null, false, false);
    }
  }

  private FastYaml(String s) {
    this.s = s;
    int capacity = 16;
    int[] st = new int[capacity];
    int[] en = new int[capacity];
    int[] in = new int[capacity];
    int n = 0;
    int start = 0;
    int len = s.length();
    while (start < len) {
      int end = s.indexOf('\n', start);
      if (end < 0) {
        end = len;
      }
      if (n == st.length) {
        st = java.util.Arrays.copyOf(st, n * 2);
        en = java.util.Arrays.copyOf(en, n * 2);
        in = java.util.Arrays.copyOf(in, n * 2);
      }
      int j = start;
      while (j < end && s.charAt(j) == ' ') {
        j++;
      }
      st[n] = start;
      en[n] = end;
      in[n] = j - start;
      n++;
      start = end + 1;
    }
    this.starts = st;
    this.ends = en;
    this.indents = in;
    this.lineCount = n;
  }

  /**
   * The documents of a fence's YAML, without empty documents; {@code null} when the text is outside the subset.
   */
  public static @Nullable List<Node> compose(String yaml) {
    if (!acceptableCharacters(yaml)) {
      return null;
    }
    try {
      return new FastYaml(yaml).documents();
    } catch (Unsupported e) {
      return null;
    }
  }

  /** No tab, no '\r', no byte order mark, no surrogate (columns then count chars as SnakeYAML counts code points). */
  private static boolean acceptableCharacters(String yaml) {
    for (int i = 0; i < yaml.length(); i++) {
      char c = yaml.charAt(i);
      if (c < 0x20 ? c != '\n' : c >= 0x7F && (c < 0xA0 || Character.isSurrogate(c) || c == 0xFEFF || c > 0xFFFD)) {
        return false;
      }
    }
    return StreamReader.isPrintable(yaml);
  }

  // ------------------------------------------------------------------------------------------------- structure

  private List<Node> documents() {
    List<Node> docs = new ArrayList<>();
    while (true) {
      skipBlank();
      if (line == lineCount) {
        return docs;
      }
      if (isDocumentStart(line)) {
        line++;
        continue;
      }
      int indent = indent(line);
      char c = s.charAt(starts[line] + indent);
      if (indent == 0 && (c == '%' || s.startsWith("...", starts[line]))) {
        throw Unsupported.INSTANCE;
      }
      docs.add(block(indent));
      skipBlank();
      if (line < lineCount && !isDocumentStart(line)) {
        throw Unsupported.INSTANCE;
      }
    }
  }

  /** A block mapping or sequence whose first line is {@link #line}, at a column. */
  private Node block(int column) {
    if (++depth > MAX_DEPTH) {
      throw Unsupported.INSTANCE;
    }
    int at = starts[line] + column;
    Node n = isSequenceItem(at) ? sequence(column) : mapping(column, column);
    depth--;
    return n;
  }

  private boolean isSequenceItem(int at) {
    return s.charAt(at) == '-' && (at + 1 == ends[line] || s.charAt(at + 1) == ' ');
  }

  /**
   * A block mapping at {@code column}; its first key may start at {@code firstColumn} of the current line (a
   * compact mapping in a sequence item), later keys stand at {@code column} on their own lines.
   */
  private Node mapping(int column, int firstColumn) {
    List<NodeTuple> tuples = new ArrayList<>();
    Mark start = mark(line, firstColumn);
    int keyColumn = firstColumn;
    while (true) {
      int ls = starts[line];
      int le = ends[line];
      int k = ls + keyColumn;
      int p = k;
      while (p < le && isKeyChar(s.charAt(p))) {
        p++;
      }
      if (p == k || p == le || s.charAt(p) != ':') {
        throw Unsupported.INSTANCE;
      }
      ScalarNode key = scalar(key(k, p), line, keyColumn, ScalarStyle.PLAIN);
      int colon = p;
      p++;
      Node value;
      if (p == le) {
        value = emptyValue(column, colon);
      } else {
        if (s.charAt(p) != ' ') {
          throw Unsupported.INSTANCE;
        }
        while (p < le && s.charAt(p) == ' ') {
          p++;
        }
        if (p == le || s.charAt(p) == '#') {
          throw Unsupported.INSTANCE; // "key:   " or "key: # c": rare, and SnakeYAML's position for it varies
        }
        value = inlineValue(p, column);
      }
      tuples.add(new NodeTuple(key, value));
      skipBlank();
      if (line == lineCount || isDocumentStart(line)) {
        break;
      }
      int next = indent(line);
      if (next < column) {
        break;
      }
      if (next > column) {
        throw Unsupported.INSTANCE;
      }
      keyColumn = column;
    }
    return new MappingNode(Tag.MAP, true, tuples, start, start, FlowStyle.BLOCK);
  }

  /** After {@code key:} at the end of a line: a nested block, a sequence at the same column, or null. */
  private Node emptyValue(int column, int colon) {
    int keyLine = line;
    line++;
    skipBlank();
    if (line < lineCount && !isDocumentStart(line)) {
      int next = indent(line);
      if (next > column) {
        return block(next);
      }
      if (next == column && isSequenceItem(starts[line] + next)) {
        return block(next);
      }
    }
    return scalar("", keyLine, colon - starts[keyLine] + 1, ScalarStyle.PLAIN);
  }

  private Node sequence(int column) {
    List<Node> items = new ArrayList<>();
    Mark start = mark(line, column);
    while (true) {
      int ls = starts[line];
      int le = ends[line];
      int p = ls + column + 1;
      if (p >= le) {
        throw Unsupported.INSTANCE; // "-" alone: the item is on the next lines
      }
      while (p < le && s.charAt(p) == ' ') {
        p++;
      }
      if (p == le || s.charAt(p) == '#' || isSequenceItem(p)) {
        throw Unsupported.INSTANCE;
      }
      int itemColumn = p - ls;
      if (startsCompactKey(p, le)) {
        if (++depth > MAX_DEPTH) {
          throw Unsupported.INSTANCE;
        }
        items.add(mapping(itemColumn, itemColumn));
        depth--;
      } else {
        items.add(inlineValue(p, column));
        skipBlank();
      }
      if (line == lineCount || isDocumentStart(line)) {
        break;
      }
      int next = indent(line);
      if (next < column || (next == column && !isSequenceItem(starts[line] + next))) {
        break;
      }
      if (next > column) {
        throw Unsupported.INSTANCE;
      }
    }
    return new SequenceNode(Tag.SEQ, true, items, start, start, FlowStyle.BLOCK);
  }

  private boolean startsCompactKey(int p, int le) {
    int q = p;
    while (q < le && isKeyChar(s.charAt(q))) {
      q++;
    }
    return q > p && q < le && s.charAt(q) == ':' && (q + 1 == le || s.charAt(q + 1) == ' ');
  }

  /**
   * A value that ends on this line, starting at {@code p}; moves to the next line. A following line indented
   * more than {@code column} would continue it (a multi-line scalar), which is left to SnakeYAML.
   */
  private Node inlineValue(int p, int column) {
    int[] end = {p};
    Node value = value(p, end, false);
    int q = end[0];
    int le = ends[line];
    if (q < le) {
      if (s.charAt(q) != ' ') {
        throw Unsupported.INSTANCE;
      }
      while (q < le && s.charAt(q) == ' ') {
        q++;
      }
      if (q < le && s.charAt(q) != '#') {
        throw Unsupported.INSTANCE;
      }
    }
    line++;
    int save = line;
    skipBlank();
    if (line < lineCount && !isDocumentStart(line) && indent(line) > column) {
      throw Unsupported.INSTANCE;
    }
    line = save;
    return value;
  }

  // ------------------------------------------------------------------------------------------------- values

  /** A scalar or flow collection starting at {@code p} on the current line; {@code end[0]} gets its end. */
  private Node value(int p, int[] end, boolean flow) {
    char c = s.charAt(p);
    switch (c) {
      case '"' -> {
        return doubleQuoted(p, end);
      }
      case '\'' -> {
        return singleQuoted(p, end);
      }
      case '[' -> {
        return flowSequence(p, end);
      }
      case '{' -> {
        return flowMapping(p, end);
      }
      default -> {
        return plain(p, end, flow);
      }
    }
  }

  private Node plain(int p, int[] end, boolean flow) {
    int le = ends[line];
    char first = s.charAt(p);
    boolean dashed = first == '-' && p + 1 < le && isAsciiAlnum(s.charAt(p + 1));
    if (!(isPlainStart(first) || dashed)) {
      throw Unsupported.INSTANCE;
    }
    int q = p;
    int lastNonSpace = p;
    while (q < le) {
      char c = s.charAt(q);
      if (c == ':') {
        // "a:b" is one scalar in block context; ": " or a final ':' would be a mapping.
        if (flow || q + 1 == le || s.charAt(q + 1) == ' ') {
          throw Unsupported.INSTANCE;
        }
      } else if (c == '#' && s.charAt(q - 1) == ' ') {
        break;
      } else if (flow && (c == ',' || c == ']' || c == '}')) {
        break;
      } else if (flow && (c == '[' || c == '{' || c == '?')) {
        // SnakeYAML ends a flow scalar at '?' too (a complex key would follow).
        throw Unsupported.INSTANCE;
      }
      if (c != ' ') {
        lastNonSpace = q;
      }
      q++;
    }
    end[0] = lastNonSpace + 1;
    return scalar(s.substring(p, lastNonSpace + 1), line, p - starts[line], ScalarStyle.PLAIN);
  }

  private static boolean isPlainStart(char c) {
    return isAsciiAlnum(c) || c == '_' || c == '.' || c == '/' || c == '+' || c == '~' || c == '$' || c == '('
        || c == '=' || c == '^' || (c >= 0xA0 && Character.isLetterOrDigit(c));
  }

  private Node doubleQuoted(int p, int[] end) {
    int le = ends[line];
    StringBuilder b = null;
    int q = p + 1;
    int chunk = q;
    while (true) {
      if (q >= le) {
        throw Unsupported.INSTANCE;
      }
      char c = s.charAt(q);
      if (c == '"') {
        break;
      }
      if (c != '\\') {
        q++;
        continue;
      }
      if (b == null) {
        b = new StringBuilder();
      }
      b.append(s, chunk, q);
      if (q + 1 >= le) {
        throw Unsupported.INSTANCE;
      }
      char e = s.charAt(q + 1);
      q += 2;
      switch (e) {
        case '\\' -> b.append('\\');
        case '"' -> b.append('"');
        case 'n' -> b.append('\n');
        case 't' -> b.append('\t');
        case 'r' -> b.append('\r');
        case '0' -> b.append('\0');
        case 'x' -> q = hex(b, q, 2, le);
        case 'u' -> q = hex(b, q, 4, le);
        case 'U' -> q = hex(b, q, 8, le);
        default -> throw Unsupported.INSTANCE;
      }
      chunk = q;
    }
    String value = b == null ? s.substring(p + 1, q) : b.append(s, chunk, q).toString();
    end[0] = q + 1;
    return scalar(value, line, p - starts[line], ScalarStyle.DOUBLE_QUOTED);
  }

  private int hex(StringBuilder b, int q, int digits, int le) {
    if (q + digits > le) {
      throw Unsupported.INSTANCE;
    }
    int cp = 0;
    for (int i = 0; i < digits; i++) {
      int d = Character.digit(s.charAt(q + i), 16);
      if (d < 0) {
        throw Unsupported.INSTANCE;
      }
      cp = cp * 16 + d;
    }
    if (cp > Character.MAX_CODE_POINT || (cp >= 0xD800 && cp <= 0xDFFF)) {
      throw Unsupported.INSTANCE;
    }
    b.appendCodePoint(cp);
    return q + digits;
  }

  private Node singleQuoted(int p, int[] end) {
    int le = ends[line];
    StringBuilder b = new StringBuilder();
    int q = p + 1;
    while (true) {
      if (q >= le) {
        throw Unsupported.INSTANCE;
      }
      char c = s.charAt(q);
      if (c == '\'') {
        if (q + 1 < le && s.charAt(q + 1) == '\'') {
          b.append('\'');
          q += 2;
          continue;
        }
        break;
      }
      b.append(c);
      q++;
    }
    end[0] = q + 1;
    return scalar(b.toString(), line, p - starts[line], ScalarStyle.SINGLE_QUOTED);
  }

  private Node flowSequence(int p, int[] end) {
    if (++depth > MAX_DEPTH) {
      throw Unsupported.INSTANCE;
    }
    Mark start = mark(line, p - starts[line]);
    List<Node> items = new ArrayList<>();
    int q = skipSpaces(p + 1);
    if (q < ends[line] && s.charAt(q) == ']') {
      end[0] = q + 1;
    } else {
      while (true) {
        int[] e = {q};
        items.add(value(q, e, true));
        q = skipSpaces(e[0]);
        if (q >= ends[line]) {
          throw Unsupported.INSTANCE;
        }
        char c = s.charAt(q);
        if (c == ']') {
          end[0] = q + 1;
          break;
        }
        if (c != ',') {
          throw Unsupported.INSTANCE;
        }
        q = skipSpaces(q + 1);
        if (q >= ends[line] || s.charAt(q) == ']' || s.charAt(q) == ',') {
          throw Unsupported.INSTANCE;
        }
      }
    }
    depth--;
    return new SequenceNode(Tag.SEQ, true, items, start, start, FlowStyle.FLOW);
  }

  private Node flowMapping(int p, int[] end) {
    if (++depth > MAX_DEPTH) {
      throw Unsupported.INSTANCE;
    }
    Mark start = mark(line, p - starts[line]);
    List<NodeTuple> tuples = new ArrayList<>();
    int le = ends[line];
    int q = skipSpaces(p + 1);
    if (q < le && s.charAt(q) == '}') {
      end[0] = q + 1;
    } else {
      while (true) {
        int k = q;
        while (q < le && isKeyChar(s.charAt(q))) {
          q++;
        }
        if (q == k || q + 1 >= le || s.charAt(q) != ':' || s.charAt(q + 1) != ' ') {
          throw Unsupported.INSTANCE;
        }
        ScalarNode key = scalar(key(k, q), line, k - starts[line], ScalarStyle.PLAIN);
        q = skipSpaces(q + 1);
        if (q >= le) {
          throw Unsupported.INSTANCE;
        }
        int[] e = {q};
        Node value = value(q, e, true);
        tuples.add(new NodeTuple(key, value));
        q = skipSpaces(e[0]);
        if (q >= le) {
          throw Unsupported.INSTANCE;
        }
        char c = s.charAt(q);
        if (c == '}') {
          end[0] = q + 1;
          break;
        }
        if (c != ',') {
          throw Unsupported.INSTANCE;
        }
        q = skipSpaces(q + 1);
        if (q >= le || s.charAt(q) == '}' || s.charAt(q) == ',') {
          throw Unsupported.INSTANCE;
        }
      }
    }
    depth--;
    return new MappingNode(Tag.MAP, true, tuples, start, start, FlowStyle.FLOW);
  }

  // ------------------------------------------------------------------------------------------------- helpers

  private String key(int from, int to) {
    String known = ResourceDecoder.knownKey(s, from, to);
    return known != null ? known : s.substring(from, to);
  }

  private ScalarNode scalar(String value, int atLine, int column, ScalarStyle style) {
    Mark m = mark(atLine, column);
    return new ScalarNode(Tag.STR, value, m, m, style);
  }

  private Mark mark(int atLine, int column) {
    return new Mark("fence", starts[atLine] + column, atLine, column, NO_BUFFER, 0);
  }

  private int skipSpaces(int q) {
    int le = ends[line];
    while (q < le && s.charAt(q) == ' ') {
      q++;
    }
    return q;
  }

  private int indent(int l) {
    return indents[l];
  }

  /** Moves past empty lines, lines of spaces and comment lines. */
  private void skipBlank() {
    while (line < lineCount) {
      int i = starts[line] + indent(line);
      if (i < ends[line] && s.charAt(i) != '#') {
        return;
      }
      line++;
    }
  }

  private boolean isDocumentStart(int l) {
    int ls = starts[l];
    if (!s.startsWith("---", ls)) {
      return false;
    }
    int i = ls + 3;
    if (i == ends[l]) {
      return true;
    }
    if (s.charAt(i) != ' ') {
      return false;
    }
    while (i < ends[l] && s.charAt(i) == ' ') {
      i++;
    }
    if (i < ends[l] && s.charAt(i) != '#') {
      throw Unsupported.INSTANCE; // "--- value": a document on the marker's line
    }
    return true;
  }

  private static boolean isKeyChar(char c) {
    return isAsciiAlnum(c) || c == '_' || c == '-';
  }

  private static boolean isAsciiAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
}
