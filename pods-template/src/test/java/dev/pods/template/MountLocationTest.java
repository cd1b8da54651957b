package dev.pods.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.SourceLocation;
import org.junit.jupiter.api.Test;

/** A mount read from a template knows where it was written, so that a deploy refusing it can say so. */
class MountLocationTest {
  @Test
  void aMountCarriesItsTemplateLocationWhichIsNotPartOfItsValue() {
    ParseResult r = Templates.read("web.md", "# web\n\n```yaml\nname: web\nkind: instance\nimage: tiny\nmounts:\n"
        + "  - {type: host_path, path: /srv, hostPath: /var/www}\n```\n");

    var m = r.orThrow().mounts().get(0);
    assertThat(m.location()).isEqualTo(new SourceLocation("web.md", 8, 5));
    assertThat(Templates.read("web.md", Templates.render(r.orThrow())).orThrow()).isEqualTo(r.orThrow());
  }
}
