package dev.pods.template;

import dev.pods.Unit;
import dev.pods.spi.TemplateReader;
import java.nio.file.Path;

/**
 * The {@link TemplateReader} behind {@link Unit#fromMarkdown(Path)}: {@link Templates#parse(Path)}. Registered
 * with {@link java.util.ServiceLoader}; stateless and thread-safe.
 */
public final class MarkdownTemplateReader implements TemplateReader {
  /** Creates the reader (called by {@link java.util.ServiceLoader}). */
  public MarkdownTemplateReader() {}

  @Override
  public Unit read(Path file) {
    return Templates.parse(file);
  }
}
