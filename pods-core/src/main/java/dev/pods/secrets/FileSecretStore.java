package dev.pods.secrets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pods.PodsException;
import dev.pods.spi.SecretStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A {@link SecretStore} on a folder of the host: one file {@code NAME.secret} per secret (a JSON object of keys
 * to strings), mode 0600, in a folder of mode 0700, both owned by the user the JVM runs as (root on a pods host).
 * {@link #open} refuses a folder that others may enter or read, so a value is never readable by another user.
 * Writes are atomic (a temporary file, fsync, rename, fsync of the folder). A file changed by another process is
 * read at the next {@link #get}, but only {@link #put} and {@link #remove} notify the listeners.
 *
 * <p>Thread-safe; see {@link SecretStore} for the contract. Failures are {@link PodsException}s naming the file,
 * never a value.
 *
 * @since 0.1
 */
public final class FileSecretStore implements SecretStore {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
  private static final String SUFFIX = ".secret";

  private final Path dir;
  private final Listeners listeners = new Listeners();

  private FileSecretStore(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens (creating it, mode 0700, when missing) the store in {@code dir}.
   *
   * @throws PodsException when the folder cannot be created, or group or others have any access to it
   */
  public static FileSecretStore open(Path dir) {
    Path d = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    try {
      if (!Files.isDirectory(d)) {
        Files.createDirectories(d, PosixFilePermissions.asFileAttribute(DIR_MODE));
        Files.setPosixFilePermissions(d, DIR_MODE);
      }
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(d);
      if (!DIR_MODE.containsAll(mode)) {
        throw new PodsException("the secret folder " + d + " has mode " + PosixFilePermissions.toString(mode)
            + "; it must be accessible by its owner only (chmod 700)");
      }
    } catch (IOException e) {
      throw new PodsException("cannot open the secret folder " + d + ": " + e, e);
    }
    return new FileSecretStore(d);
  }

  /** The folder. */
  public Path dir() {
    return dir;
  }

  private Path file(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid secret name '" + name + "': " + NAME.pattern());
    }
    return dir.resolve(name + SUFFIX);
  }

  @Override
  public Optional<Map<String, String>> get(String name) {
    Path f = file(Objects.requireNonNull(name, "name"));
    byte[] b;
    try {
      b = Files.readAllBytes(f);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new PodsException("cannot read the secret file " + f + ": " + e.getClass().getSimpleName(), e);
    }
    try {
      Map<String, String> m = JSON.readValue(b, new TypeReference<TreeMap<String, String>>() {});
      SecretStore.check(name, m);
      return Optional.of(Map.copyOf(m));
    } catch (IOException | IllegalArgumentException e) {
      // the parser's message may quote the file's content: never pass it on
      throw new PodsException("the secret file " + f + " is not a JSON object of keys to strings");
    }
  }

  @Override
  public void put(String name, Map<String, String> fields) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(fields, "fields");
    SecretStore.check(name, fields);
    Path f = file(name);
    byte[] b;
    try {
      b = JSON.writeValueAsBytes(new TreeMap<>(fields));
    } catch (JsonProcessingException e) {
      throw new PodsException("cannot encode secret " + name);
    }
    synchronized (this) {
      Path tmp = dir.resolve("." + name + SUFFIX + ".tmp");
      try {
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(FILE_MODE))) {
          ByteBuffer buf = ByteBuffer.wrap(b);
          while (buf.hasRemaining()) {
            ch.write(buf);
          }
          ch.force(true);
        }
        Files.setPosixFilePermissions(tmp, FILE_MODE);
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDir();
      } catch (IOException e) {
        throw new PodsException("cannot write the secret file " + f + ": " + e.getClass().getSimpleName(), e);
      } finally {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // nothing was left or it goes with the next put
        }
      }
    }
    listeners.changed(name);
  }

  private void syncDir() throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  @Override
  public void remove(String name) {
    Path f = file(Objects.requireNonNull(name, "name"));
    boolean gone;
    synchronized (this) {
      try {
        gone = Files.deleteIfExists(f);
        syncDir();
      } catch (IOException e) {
        throw new PodsException("cannot remove the secret file " + f + ": " + e.getClass().getSimpleName(), e);
      }
    }
    if (gone) {
      listeners.changed(name);
    }
  }

  @Override
  public Set<String> names() {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(SUFFIX) && !n.startsWith("."))
          .map(n -> n.substring(0, n.length() - SUFFIX.length()))
          .forEach(out::add);
    } catch (IOException e) {
      throw new PodsException("cannot list the secret folder " + dir + ": " + e.getClass().getSimpleName(), e);
    }
    return Set.copyOf(out);
  }

  @Override
  public Registration onChange(Consumer<String> listener) {
    return listeners.add(listener);
  }

  /** Names the folder, never a value. */
  @Override
  public String toString() {
    return "FileSecretStore[" + dir + "]";
  }
}
