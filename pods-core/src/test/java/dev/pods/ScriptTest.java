package dev.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScriptTest {
  @Test
  void normalizesLineBreaksAndTrailingBlankLines() {
    Script s = Script.shell("echo a\r\necho b\n\n  \n");
    assertThat(s.source()).isEqualTo("echo a\necho b");
    assertThat(s).isEqualTo(Script.shell("echo a\necho b"));
  }

  @Test
  void keepsLeadingAndInnerBlankLines() {
    assertThat(Script.shell("\n\necho a\n\necho b").source()).isEqualTo("\n\necho a\n\necho b");
  }

  @Test
  void rejectsEmptySource() {
    assertThatThrownBy(() -> Script.shell(" \n\t\n")).hasMessage("script is empty");
  }

  @Test
  void boundsTheTimeout() {
    assertThat(Script.shell("true").withTimeout(Duration.ofSeconds(30)).timeout()).hasSeconds(30);
    assertThatThrownBy(() -> Script.shell("true").withTimeout(Duration.ZERO))
        .hasMessageContaining("timeout must be more than 0");
    assertThatThrownBy(() -> Script.shell("true").withTimeout(Duration.ofHours(25)))
        .hasMessageContaining("at most 24h");
  }

  @Test
  void languagesKnowTheirFenceWords() {
    assertThat(Script.Language.fromId("bash")).isEqualTo(Script.Language.BASH);
    assertThat(Script.Language.fromId("yaml")).isNull();
    assertThat(Script.Language.PYTHON.isShell()).isFalse();
    assertThat(Script.Language.SH.isShell()).isTrue();
  }
}
