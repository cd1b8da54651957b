package dev.pods.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SafeTextTest {
  @Test
  void printableTextPassesUnchanged() {
    String s = "served by web-0: 100% \u00e9t\u00e9 \u4e2d\u6587 \uD83D\uDE00 C:\\path";
    assertThat(SafeText.oneLine(s)).isSameAs(s);
    assertThat(SafeText.isSafe(s)).isTrue();
  }

  @Test
  void escapeSequencesCarriageReturnsAndNewlinesAreShownNotObeyed() {
    assertThat(SafeText.oneLine("\033[31mred\033[0m\rover\nt.md:1:1: error: forged\ttab\u0007\u007f\u009b"))
        .isEqualTo("\\e[31mred\\e[0m\\rover\\nt.md:1:1: error: forged\\ttab\\x07\\x7f\\x9b");
    assertThat(SafeText.outputLine("a\tb\u001b]0;title\u0007", 100)).isEqualTo("a\tb\\e]0;title\\x07");
    assertThat(SafeText.oneLine("evil\u202egnp.exe \u2028 \u2066x")).isEqualTo("evil\\u202egnp.exe \\u2028 \\u2066x");
    assertThat(SafeText.isSafe("a\nb")).isFalse();
  }

  @Test
  void longTextIsCutWithACountAndNeverInsideACharacter() {
    assertThat(SafeText.oneLine("abcdefgh", 3)).isEqualTo("abc... (5 more characters)");
    assertThat(SafeText.oneLine("ab\uD83D\uDE00cd", 3)).isEqualTo("ab... (4 more characters)");
    assertThat(SafeText.oneLine("\n".repeat(10), 2)).isEqualTo("\\n\\n... (8 more characters)");
    assertThat(SafeText.oneLine("x".repeat(SafeText.DEFAULT_MAX_CHARS + 1)))
        .endsWith("x... (1 more characters)");
  }
}
