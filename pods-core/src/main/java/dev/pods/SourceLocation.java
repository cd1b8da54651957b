package dev.pods;

import dev.pods.internal.SafeText;
import java.util.Objects;

/**
 * A place in a source document: the source's name (usually a file path), a 1-based line and a 1-based
 * column. Used to point problems at the YAML node or fence that caused them.
 *
 * @param source the document's name as the user gave it, e.g. {@code web.md}
 * @param line 1-based line
 * @param column 1-based column
 */
public record SourceLocation(String source, int line, int column) {
  /**
   * Validates the parts; a source name with control characters is escaped ({@link SafeText#oneLine(String)}), so
   * a file name cannot forge a location.
   */
  public SourceLocation {
    source = SafeText.oneLine(Objects.requireNonNull(source, "source"), 1000);
    if (line < 1 || column < 1) {
      throw new IllegalArgumentException("line and column are 1-based: " + line + ":" + column);
    }
  }

  /** {@code source:line:column}, the form editors and compilers use. */
  @Override
  public String toString() {
    return source + ":" + line + ":" + column;
  }
}
