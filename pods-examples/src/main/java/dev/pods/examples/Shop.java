package dev.pods.examples;

import dev.pods.Pod;
import dev.pods.Unit;
import dev.pods.template.Templates;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The example shop pod: a web tier ({@code web.md}), an nginx load balancer that follows the web tier's
 * addresses ({@code lb.md}) and a database that admits only the web tier ({@code db.md}), read from the
 * templates shipped in this jar. Stateless; every call parses the templates again.
 */
public final class Shop {
  /** The templates, in the order the pod lists its units. */
  public static final List<String> TEMPLATES = List.of("web.md", "lb.md", "db.md");

  private Shop() {}

  /**
   * The shop pod.
   *
   * @throws dev.pods.TemplateException if a shipped template is invalid (a bug of this module)
   */
  public static Pod pod() {
    Pod.Builder b = Pod.builder().name("shop");
    TEMPLATES.forEach(t -> b.unit(unit(t)));
    return b.build();
  }

  /** One unit of the shop, parsed from its template. */
  public static Unit unit(String template) {
    return Templates.parse("shop/" + template, text(template));
  }

  /** A template's Markdown text. */
  public static String text(String template) {
    try (InputStream in = Shop.class.getResourceAsStream("shop/" + template)) {
      if (in == null) {
        throw new IllegalArgumentException("no example template " + template + "; have " + TEMPLATES);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read example template " + template, e);
    }
  }
}
