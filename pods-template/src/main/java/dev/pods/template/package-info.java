/**
 * Markdown unit templates: {@link dev.pods.template.Templates} reads a template into a {@link dev.pods.Unit}
 * with every problem located at file, line and column, and renders a unit back to Markdown.
 *
 * <pre>{@code
 * ParseResult r = Templates.read(Path.of("web.md"));
 * r.problems().forEach(p -> log.warn("{}", p));     // web.md:12:3: warning: instance.zone: ...
 * Unit web = r.orThrow();                             // TemplateException when there are errors
 * String markdown = Templates.render(web);            // Templates.parse("web.md", markdown).equals(web)
 * }</pre>
 *
 * <p>A template is Markdown. Top-level fences named {@code yaml} declare resources (Pritunl Cloud's
 * {@code instance}, {@code firewall}, {@code domain} and {@code journal} kinds, several per fence separated by
 * {@code ---}); fences named {@code shell}, {@code bash}, {@code sh} or {@code python} are scripts, with
 * optional attributes {@code {phase=initial|reboot|reload, timeout=30s}}; everything else is documentation and
 * is kept as written.
 */
@NullMarked
package dev.pods.template;

import org.jspecify.annotations.NullMarked;
