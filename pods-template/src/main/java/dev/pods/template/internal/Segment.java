package dev.pods.template.internal;

import dev.pods.Prose;
import dev.pods.Script;

/** One part of a template as the Markdown splitter sees it, in document order. */
public sealed interface Segment {

  /**
   * Documentation between fences, as written.
   *
   * @param prose the text
   */
  record ProseSegment(Prose prose) implements Segment {}

  /**
   * A valid script fence.
   *
   * @param script the script
   */
  record ScriptSegment(Script script) implements Segment {}

  /**
   * A {@code yaml} fence's content, with what is needed to map YAML positions back to the template.
   *
   * @param fenceLine the 1-based line of the opening fence
   * @param fenceColumn the 1-based column of the opening fence
   * @param firstLine the 1-based template line of the content's first line
   * @param yaml the content, lines joined with {@code \n}, fence indentation removed
   * @param removedIndent for each content line, how many columns of indentation were removed
   */
  record YamlSegment(int fenceLine, int fenceColumn, int firstLine, String yaml, int[] removedIndent)
      implements Segment {

    /** The template column of a 0-based YAML line and column. */
    public int column(int yamlLine, int yamlColumn) {
      int removed = yamlLine >= 0 && yamlLine < removedIndent.length ? removedIndent[yamlLine] : 0;
      return yamlColumn + 1 + removed;
    }
  }
}
