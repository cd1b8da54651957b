package dev.pods;

import java.util.Objects;

/**
 * Documentation between a unit's blocks: Markdown kept verbatim (headings, paragraphs, lists, and fences in
 * languages that do not run, such as {@code text} or {@code json}).
 *
 * <p>The text is normalized: line breaks become {@code \n}, and leading and trailing blank lines are
 * removed, because rendering separates blocks with one blank line.
 *
 * @param markdown the documentation, never blank
 */
public record Prose(String markdown) implements Block {
  /** Normalizes and validates the text. */
  public Prose {
    Objects.requireNonNull(markdown, "markdown");
    markdown = Text.trimBlankLines(Text.normalizeNewlines(markdown));
    if (markdown.isEmpty()) {
      throw new IllegalArgumentException("prose is empty");
    }
  }
}
