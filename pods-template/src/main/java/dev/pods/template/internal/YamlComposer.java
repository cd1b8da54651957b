package dev.pods.template.internal;

import dev.pods.template.internal.Segment.YamlSegment;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.Parser;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.ReaderException;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Composes the YAML documents of one resource fence into SnakeYAML nodes (no object construction), within
 * {@link Limits}, turning every YAML error into a problem at its template position. Thread-safe: shared parts
 * are read-only, and each call makes its own parser.
 */
public final class YamlComposer {
  private static final LoaderOptions OPTIONS = options();

  /**
   * Plain scalars are typed by the decoder, which knows what each field expects; the resolver's regular
   * expressions (YAML 1.1 booleans such as {@code yes}, sexagesimal numbers...) would only cost time and
   * surprise. Explicitly tagged nodes keep their tag.
   */
  private static final Resolver UNTYPED =
      new Resolver() {
        @Override
        protected void addImplicitResolvers() {}

        @Override
        public Tag resolve(NodeId kind, @Nullable String value, boolean implicit) {
          return switch (kind) {
            case scalar -> Tag.STR;
            case sequence -> Tag.SEQ;
            default -> Tag.MAP;
          };
        }
      };

  private YamlComposer() {}

  private static LoaderOptions options() {
    LoaderOptions o = new LoaderOptions();
    o.setAllowDuplicateKeys(false);
    o.setAllowRecursiveKeys(false);
    o.setMaxAliasesForCollections(Limits.MAX_YAML_ALIASES);
    o.setNestingDepthLimit(Limits.MAX_YAML_DEPTH);
    o.setCodePointLimit(Limits.MAX_TEMPLATE_BYTES);
    o.setProcessComments(false);
    o.setWrappedToRootException(false);
    return o;
  }

  /** Remembers where the last event started, to place errors that SnakeYAML reports without a position. */
  private static final class TrackingParser implements Parser {
    private final Parser delegate;
    private @Nullable Mark last;

    TrackingParser(Parser delegate) {
      this.delegate = delegate;
    }

    @Override
    public boolean checkEvent(Event.ID choice) {
      return delegate.checkEvent(choice);
    }

    @Override
    public Event peekEvent() {
      return delegate.peekEvent();
    }

    @Override
    public Event getEvent() {
      Event e = delegate.getEvent();
      last = e.getStartMark();
      return e;
    }
  }

  /**
   * Composes every document of a fence, handing each to {@code handler} in order; stops at the first YAML
   * error (which becomes a problem), since YAML cannot be resumed after one.
   *
   * @return whether the whole fence was read without a YAML error
   */
  public static boolean compose(YamlSegment segment, Problems problems, Consumer<Node> handler) {
    TrackingParser parser = null;
    try {
      parser = new TrackingParser(new ParserImpl(new StreamReader(segment.yaml()), OPTIONS));
      Composer composer = new Composer(parser, UNTYPED, OPTIONS);
      while (composer.checkNode()) {
        handler.accept(composer.getNode());
        if (problems.isFull()) {
          return true;
        }
      }
      return true;
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String what = e.getProblem() != null ? e.getProblem() : e.getMessage();
      if (m == null && parser != null) {
        m = parser.last;
      }
      problems.error(at(segment, problems, m), "yaml", "invalid YAML: " + clean(what));
    } catch (ReaderException e) {
      problems.error(
          at(segment, problems, e.getPosition()),
          "yaml",
          "invalid YAML: character U+" + String.format("%04X", e.getCodePoint()) + " is not allowed in YAML");
    } catch (YAMLException e) {
      problems.error(
          at(segment, problems, parser == null ? null : parser.last), "yaml", "invalid YAML: " + limitMessage(e));
    }
    return false;
  }

  private static String limitMessage(YAMLException e) {
    String m = String.valueOf(e.getMessage());
    if (m.startsWith("Nesting Depth exceeded")) {
      return "collections nested more than " + Limits.MAX_YAML_DEPTH + " deep (the limit)";
    }
    if (m.startsWith("Number of aliases")) {
      return "more than " + Limits.MAX_YAML_ALIASES + " aliases to collections in one fence (the limit)";
    }
    if (m.startsWith("The incoming YAML document exceeds the limit")) {
      return "a fence is larger than " + Limits.MAX_TEMPLATE_BYTES + " characters (the limit)";
    }
    return clean(m);
  }

  /** SnakeYAML's texts sometimes span lines; a problem is one line. */
  private static String clean(@Nullable String s) {
    return s == null ? "unknown error" : s.replace('\n', ' ').strip();
  }

  /** The template location of a YAML mark ({@code null}: the fence itself). */
  public static dev.pods.SourceLocation at(YamlSegment segment, Problems problems, @Nullable Mark m) {
    if (m == null) {
      return problems.at(segment.fenceLine(), segment.fenceColumn());
    }
    return problems.at(segment.firstLine() + m.getLine(), segment.column(m.getLine(), m.getColumn()));
  }

  private static dev.pods.SourceLocation at(YamlSegment segment, Problems problems, int codePointIndex) {
    String y = segment.yaml();
    int line = 0;
    int column = 0;
    int cp = 0;
    for (int i = 0; i < y.length() && cp < codePointIndex; cp++) {
      int c = y.codePointAt(i);
      i += Character.charCount(c);
      if (c == '\n') {
        line++;
        column = 0;
      } else {
        column++;
      }
    }
    return problems.at(segment.firstLine() + line, segment.column(line, column));
  }
}
