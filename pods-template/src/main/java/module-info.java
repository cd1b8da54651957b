/**
 * Markdown unit templates: {@code dev.pods.template} (parse, validate, render); the parser's insides
 * ({@code dev.pods.template.internal}) stay inside. Registers the {@link dev.pods.spi.TemplateReader} that
 * {@code Unit.fromMarkdown} finds.
 */
module dev.pods.template {
  requires transitive dev.pods.core;
  requires org.commonmark;
  requires org.yaml.snakeyaml;
  requires static transitive org.jspecify;

  exports dev.pods.template;

  provides dev.pods.spi.TemplateReader with dev.pods.template.MarkdownTemplateReader;
}
