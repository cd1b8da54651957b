package dev.pods.cli;

import dev.pods.secrets.InMemorySecretStore;
import dev.pods.spi.SecretStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The secrets of {@code pods up --secret NAME=FILE}: each FILE holds {@code KEY=VALUE} lines (blank lines and lines
 * starting with {@code #} are skipped; the value is the rest of the line, as is), read into an
 * {@link InMemorySecretStore}. Errors name the file and line, never a value. Stateless.
 */
final class SecretFiles {
  private SecretFiles() {}

  /**
   * Reads every {@code NAME=FILE} argument.
   *
   * @throws Up.UsageException when an argument, a file or a line is malformed
   */
  static InMemorySecretStore read(List<String> args) throws Up.UsageException {
    InMemorySecretStore store = new InMemorySecretStore();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (eq <= 0 || eq == a.length() - 1) {
        throw new Up.UsageException("up: --secret takes NAME=FILE, not '" + a + "'");
      }
      String name = a.substring(0, eq);
      Path file = Path.of(a.substring(eq + 1));
      if (!SecretStore.NAME.matcher(name).matches()) {
        throw new Up.UsageException("up: --secret: invalid secret name '" + name + "'");
      }
      if (store.get(name).isPresent()) {
        throw new Up.UsageException("up: --secret " + name + " is given twice");
      }
      store.put(name, fields(name, file));
    }
    return store;
  }

  private static Map<String, String> fields(String name, Path file) throws Up.UsageException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Up.UsageException("up: --secret " + name + ": cannot read " + file + " ("
          + e.getClass().getSimpleName() + ")");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String l = lines.get(i);
      if (l.isBlank() || l.startsWith("#")) {
        continue;
      }
      int eq = l.indexOf('=');
      String key = eq < 0 ? "" : l.substring(0, eq).strip();
      if (!SecretStore.KEY.matcher(key).matches()) {
        throw new Up.UsageException("up: --secret " + name + ": " + file + ":" + (i + 1)
            + ": expected KEY=VALUE with KEY " + SecretStore.KEY.pattern());
      }
      if (out.put(key, l.substring(eq + 1)) != null) {
        throw new Up.UsageException("up: --secret " + name + ": " + file + ":" + (i + 1) + ": key " + key
            + " is given twice");
      }
    }
    if (out.isEmpty()) {
      throw new Up.UsageException("up: --secret " + name + ": " + file + " holds no KEY=VALUE line");
    }
    return out;
  }
}
