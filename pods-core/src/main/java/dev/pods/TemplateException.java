package dev.pods;

import java.util.List;

/**
 * A Markdown template could not be turned into a unit. Every problem carries its {@link SourceLocation}
 * (file, line and column of the YAML node or fence concerned), and all errors of one file are reported
 * together.
 */
public class TemplateException extends PodSpecException {
  private static final long serialVersionUID = 1L;

  private final String source;

  /**
   * @param source the template's name (file path) as the user gave it
   * @param problems every problem found, at least one error
   */
  public TemplateException(String source, List<Problem> problems) {
    super("template " + source, problems);
    this.source = source;
  }

  /** The template's name (file path) as the user gave it. */
  public String source() {
    return source;
  }
}
