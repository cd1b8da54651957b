package dev.pods.template;

import dev.pods.ImagePolicy;
import dev.pods.Problem;
import dev.pods.TemplateException;
import dev.pods.Unit;
import dev.pods.template.internal.Limits;
import dev.pods.template.internal.MarkdownRenderer;
import java.nio.file.Path;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Reads Markdown unit templates into {@link Unit}s and renders units back to Markdown.
 *
 * <pre>{@code
 * Unit web = Templates.parse(Path.of("web.md"));          // TemplateException listing every problem
 * ParseResult r = Templates.read(Path.of("web.md"));      // or: the unit and/or the problems, never a throw
 * String md = Templates.render(web);                      // parse("web.md", md).equals(web)
 * }</pre>
 *
 * <h2>The format</h2>
 *
 * <p>A template is CommonMark. Top-level fenced blocks whose info string starts with {@code yaml} hold resources,
 * one YAML document each ({@code ---} between them; several yaml fences are allowed): exactly one
 * {@code kind: instance} (the unit itself), and any number of {@code firewall}, {@code domain} and
 * {@code journal}. Keys are Pritunl Cloud's. Fences named {@code shell}, {@code bash}, {@code sh} or
 * {@code python} are scripts, with optional attributes {@code {phase=initial|reboot|reload, timeout=30s}} (no
 * phase: {@code initial}). Everything else, other fences included, is documentation, kept as written.
 *
 * <p>Problems are strict where Pritunl Cloud is silent: an unknown kind, key, attribute or phase, a malformed
 * reference, a wrong type, a missing required field, a duplicate resource name, an empty script, a second
 * instance resource or none at all are errors; every field of Pritunl's resources is accepted, and one that has
 * no effect on a pods host is a warning. Each problem names the file, line and column of the YAML node or fence
 * concerned, and all problems of a template are reported together (at most {@value Limits#MAX_PROBLEMS}).
 *
 * <h2>Bounds</h2>
 *
 * <p>A template is at most {@value Limits#MAX_TEMPLATE_BYTES} bytes of UTF-8 (1 MiB), with at most
 * {@value Limits#MAX_FENCES} resource and script fences, {@value Limits#MAX_RESOURCES} resources,
 * {@value Limits#MAX_LIST_ITEMS} items in a YAML list, YAML collections nested {@value Limits#MAX_YAML_DEPTH} deep,
 * {@value Limits#MAX_YAML_ALIASES} aliases to collections per fence, {@value Limits#MAX_MARKDOWN_NESTING}
 * quotes or list items opened on one line, and {@value Limits#MAX_MARKER_INDENT} columns of indentation before a
 * list or quote marker. Going past one is an error that names the bound. So any input,
 * however large, broken or hostile, gives a unit or problems in bounded time, never another exception.
 *
 * <h2>Threads</h2>
 *
 * <p>All methods are static, thread-safe and side-effect free (apart from reading the file given). They block
 * only on that file read; parsing is CPU-bound and takes time roughly linear in the template's size.
 */
public final class Templates {
  private Templates() {}

  /**
   * Reads a template file, UTF-8 encoded (a leading byte order mark is skipped). Never throws for bad content:
   * a missing or unreadable file, a file over the size bound and invalid UTF-8 are problems too, located at the
   * file (line 1, column 1) or at the offending byte.
   *
   * @param file the template; its string form is the {@code source} of every problem
   */
  public static ParseResult read(Path file) {
    Objects.requireNonNull(file, "file");
    return TemplateParser.read(file);
  }

  /**
   * Reads a template given as text. Never throws for bad content.
   *
   * @param sourceName the name used in problem locations, usually the file's path
   * @param markdown the template
   */
  public static ParseResult read(String sourceName, String markdown) {
    Objects.requireNonNull(sourceName, "sourceName");
    Objects.requireNonNull(markdown, "markdown");
    return TemplateParser.parse(sourceName, markdown);
  }

  /**
   * Reads a template file as {@link #read(Path)} does, and checks the unit's image against the host's
   * {@code imagePolicy}: an image the policy refuses is an error at the {@code image} value, naming the rule.
   *
   * @param file the template; its string form is the {@code source} of every problem
   * @param imagePolicy the policy of the host that will deploy the unit
   */
  public static ParseResult read(Path file, ImagePolicy imagePolicy) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(imagePolicy, "imagePolicy");
    return TemplateParser.read(file, imagePolicy);
  }

  /**
   * Reads a template given as text, checking the unit's image against {@code imagePolicy} as
   * {@link #read(Path, ImagePolicy)} does. Never throws for bad content.
   */
  public static ParseResult read(String sourceName, String markdown, ImagePolicy imagePolicy) {
    Objects.requireNonNull(sourceName, "sourceName");
    Objects.requireNonNull(markdown, "markdown");
    Objects.requireNonNull(imagePolicy, "imagePolicy");
    return TemplateParser.parse(sourceName, markdown, imagePolicy);
  }

  /**
   * Reads a template file into a unit.
   *
   * @throws TemplateException carrying every problem (errors and warnings), when the template has an error
   */
  public static Unit parse(Path file) {
    return read(file).orThrow();
  }

  /**
   * Reads a template given as text into a unit.
   *
   * @throws TemplateException carrying every problem (errors and warnings), when the template has an error
   */
  public static Unit parse(String sourceName, String markdown) {
    return read(sourceName, markdown).orThrow();
  }

  /**
   * Renders a unit as a canonical Markdown template: prose as written, each resource block as one {@code yaml}
   * fence (fields at their default left out), each script as a fence with its attributes, one blank line between
   * blocks. {@code Templates.parse(name, render(unit))} equals {@code unit}; before returning, the text is read
   * back and compared, so a unit that cannot be written faithfully is rejected rather than silently changed.
   *
   * @throws IllegalArgumentException naming the block, when the unit cannot be written as a template that reads
   *     back equal: a prose block holding a top-level script or yaml fence, or leaving open a fence or HTML block
   *     that would swallow the next block, two prose blocks in a row, or a unit whose template would exceed the
   *     bounds of {@link Templates}
   */
  public static String render(Unit unit) {
    Objects.requireNonNull(unit, "unit");
    String markdown = MarkdownRenderer.render(unit);
    ParseResult back = TemplateParser.parse("render of unit '" + unit.name() + "'", markdown);
    if (back.hasErrors()) {
      throw new IllegalArgumentException(
          "unit '" + unit.name() + "' cannot be written as a template: "
              + back.errors().stream().limit(3).map(Problem::toString).collect(Collectors.joining("; ")));
    }
    if (!back.orThrow().equals(unit)) {
      throw new IllegalArgumentException(
          "unit '" + unit.name() + "' cannot be written as a template that reads back equal to it");
    }
    return markdown;
  }
}
