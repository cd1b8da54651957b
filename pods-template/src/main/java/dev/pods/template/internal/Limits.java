package dev.pods.template.internal;

/**
 * The bounds a template must stay within. Each is checked before the work it bounds, and exceeding one is an
 * error that names the bound, so that no input (however large, deep or repetitive) makes parsing slow or
 * unbounded.
 */
public final class Limits {
  /** The largest template, in bytes of UTF-8 (1 MiB). */
  public static final int MAX_TEMPLATE_BYTES = 1 << 20;

  /** The most resource and script fences in one template. */
  public static final int MAX_FENCES = 1000;

  /** The most resources (YAML documents) in one template. */
  public static final int MAX_RESOURCES = 256;

  /** The most items in one YAML list (ingress rules, sources, roles and so on). */
  public static final int MAX_LIST_ITEMS = 1000;

  /** The deepest nesting of YAML collections. */
  public static final int MAX_YAML_DEPTH = 32;

  /** The most aliases ({@code *name}) to YAML collections in one resource fence. */
  public static final int MAX_YAML_ALIASES = 50;

  /** The most block quotes and list items one Markdown line may open. */
  public static final int MAX_MARKDOWN_NESTING = 32;

  /**
   * The deepest indentation, in columns, before a list item or quote marker: lists nested by indentation cost
   * CommonMark time that grows with the cube of their depth.
   */
  public static final int MAX_MARKER_INDENT = 128;

  /** The most problems reported for one template; the report says when it stopped there. */
  public static final int MAX_PROBLEMS = 500;

  private Limits() {}
}
