package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.TemplateException;
import dev.pods.Unit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FromMarkdownTest {
  @TempDir Path dir;

  @Test
  void unitFromMarkdownUsesTheRegisteredReader() throws IOException {
    Path web = dir.resolve("web.md");
    Files.writeString(web, "```yaml\nname: web\nkind: instance\nimage: debian12\n```\n");
    assertThat(Unit.fromMarkdown(web)).isEqualTo(Templates.parse(web));
    Files.writeString(web, "```yaml\nname: web\nkind: instance\n```\n");
    assertThatThrownBy(() -> Unit.fromMarkdown(web))
        .isInstanceOf(TemplateException.class)
        .hasMessageContaining("web.md:");
  }
}
