package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.template.internal.FastYaml;
import org.junit.jupiter.api.Test;

/**
 * SnakeYAML reads its input in windows of 1024 characters; before 2.4 a character outside the Basic
 * Multilingual Plane (two UTF-16 chars) split by a window's end threw {@code IndexOutOfBoundsException}, and a
 * valid template came out as {@code 1:1: internal error}.
 */
class SnakeYamlBufferTest {
  /** The 1024-character window of SnakeYAML's {@code StreamReader}. */
  private static final int WINDOW = 1024;

  /**
   * A template whose only fence needs SnakeYAML (a tag, outside {@code FastYaml}'s subset) and whose fence
   * text puts {@code ch} at {@code index}, inside a comment.
   */
  private static String templateWith(String ch, int index) {
    String head = "name: !!str web\nkind: instance\nimage: debian12\n# ";
    String yaml = head + "x".repeat(index - head.length()) + ch + " end\n";
    assertThat(yaml.indexOf(ch)).isEqualTo(index);
    return "```yaml\n" + yaml + "```\n";
  }

  @Test
  void aSupplementaryCharacterSplitByTheReadersWindowParses() {
    // An emoji is a surrogate pair: its high half is the window's last char, its low half the next one's first.
    String md = templateWith("\uD83D\uDE00", WINDOW - 1);

    ParseResult r = Templates.read("t.md", md);

    assertThat(r.problems()).isEmpty();
    assertThat(r.unit()).get().extracting(u -> u.name()).isEqualTo("web");
  }

  @Test
  void multiByteCharactersAroundTheWindowsEndParse() {
    for (String ch : new String[] {"\u00e9", "\u4e2d", "\uD83D\uDE00", "\uD83C\uDDEB\uD83C\uDDF7"}) {
      for (int index = WINDOW - 8; index <= WINDOW + 8; index++) {
        ParseResult r = Templates.read("t.md", templateWith(ch, index));
        assertThat(r.problems()).as("%s at %d", ch, index).isEmpty();
      }
    }
  }

  @Test
  void theFenceReallyTakesSnakeYamlsPath() {
    // The tag keeps the fast reader out, so the tests above exercise SnakeYAML's reader.
    assertThat(FastYaml.compose("name: !!str web\n")).isNull();
  }
}
