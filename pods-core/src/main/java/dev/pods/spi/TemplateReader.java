package dev.pods.spi;

import dev.pods.Unit;
import java.nio.file.Path;

/**
 * Reads a unit template file into a {@link Unit}; what {@link Unit#fromMarkdown(Path)} calls. Module
 * {@code pods-template} registers the Markdown reader in
 * {@code META-INF/services/dev.pods.spi.TemplateReader}. Implementations are stateless and thread-safe.
 *
 * @since 0.1
 */
public interface TemplateReader {
  /**
   * Reads and validates a template.
   *
   * @throws dev.pods.TemplateException with every problem, each with file, line and column
   */
  Unit read(Path file);
}
