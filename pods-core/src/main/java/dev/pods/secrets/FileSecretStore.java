package dev.pods.secrets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pods.PodsException;
import dev.pods.spi.SecretStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SecretStore} on a folder of the host: one file {@code NAME.secret} per secret (a JSON object of keys
 * to strings), mode 0600, in a folder of mode 0700, both owned by the user the JVM runs as (root on a pods host).
 * {@link #open} refuses a folder that others may enter or read, so a value is never readable by another user.
 * Writes are atomic (a temporary file, fsync, rename, fsync of the folder).
 *
 * <p><b>Changes by hand.</b> While at least one listener is registered, the store watches its folder (the JDK's
 * {@link WatchService}: inotify on Linux, one daemon thread) and tells the listeners of a secret file that another
 * process created, changed or deleted, as it tells them of {@link #put} and {@link #remove}: a value edited in
 * place reaches the instances that declare it. A listener hears each change once: the store keeps a digest of each
 * file's content as it last wrote or saw it, and a folder event that leaves the content as known (its own writes)
 * tells nobody. The watch ends when the last listener is closed.
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
  /** How long a folder stays quiet before a change is read: an editor's save is a burst of events within it. */
  private static final long QUIET_MS = 200;
  private static final Logger LOG = LoggerFactory.getLogger(FileSecretStore.class);

  private final Path dir;
  private final Listeners listeners = new Listeners();
  /** Per secret name, the digest of its file's content as this store last wrote or saw it (absent: no file). */
  private final Map<String, String> known = new HashMap<>();
  private @Nullable WatchService watch; // guarded by this: open while a listener is registered

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
        known.put(name, digest(b));
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDir();
      } catch (IOException e) {
        String was = digestOf(name);
        if (was == null) {
          known.remove(name);
        } else {
          known.put(name, was);
        }
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
        known.remove(name);
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
    Registration r;
    synchronized (this) {
      r = listeners.add(listener);
      if (watch == null) {
        startWatching();
      }
    }
    return () -> {
      r.close();
      synchronized (this) {
        if (listeners.isEmpty() && watch != null) {
          try {
            watch.close(); // ends the watch thread
          } catch (IOException e) {
            // closing an inotify descriptor does not fail in practice; the thread ends with the JVM otherwise
          }
          watch = null;
        }
      }
    };
  }

  /** Opens the folder's watch and its thread, after noting what each file holds now. Called holding this. */
  private void startWatching() {
    WatchService w = null;
    try {
      w = dir.getFileSystem().newWatchService();
      dir.register(w, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
          StandardWatchEventKinds.ENTRY_DELETE);
    } catch (IOException e) {
      if (w != null) {
        try {
          w.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw new PodsException("cannot watch the secret folder " + dir + ": " + e.getClass().getSimpleName(), e);
    }
    known.clear();
    for (String name : names()) {
      String d = digestOf(name);
      if (d != null) {
        known.put(name, d);
      }
    }
    WatchService ws = w;
    watch = ws;
    Thread t = new Thread(() -> watchLoop(ws), "pods-secrets-watch " + dir);
    t.setDaemon(true);
    t.start();
  }

  private void watchLoop(WatchService w) {
    try {
      while (true) {
        Set<String> touched = new TreeSet<>();
        boolean overflow = false;
        // a hand edit is several events (truncate, writes, close): read once they have been quiet for a moment
        for (WatchKey key = w.take(); key != null; key = w.poll(QUIET_MS, TimeUnit.MILLISECONDS)) {
          overflow |= collect(key, touched);
        }
        for (String name : changedAmong(touched, overflow)) {
          listeners.changed(name);
        }
      }
    } catch (ClosedWatchServiceException | InterruptedException e) {
      // the last listener left (or the JVM ends)
    }
  }

  /** Adds the secret names of {@code key}'s events to {@code touched}; true when events were lost (overflow). */
  private static boolean collect(WatchKey key, Set<String> touched) {
    boolean overflow = false;
    for (WatchEvent<?> e : key.pollEvents()) {
      if (e.kind() == StandardWatchEventKinds.OVERFLOW) {
        overflow = true;
      } else if (e.context() instanceof Path p) {
        String n = p.getFileName().toString();
        if (n.endsWith(SUFFIX) && !n.startsWith(".")) {
          String name = n.substring(0, n.length() - SUFFIX.length());
          if (NAME.matcher(name).matches()) {
            touched.add(name);
          }
        }
      }
    }
    key.reset();
    return overflow;
  }

  /** Of {@code touched} (or, after an overflow, of every known or present name), those whose content changed. */
  private synchronized Set<String> changedAmong(Set<String> touched, boolean overflow) {
    Set<String> names = new TreeSet<>(touched);
    if (overflow) {
      names.addAll(known.keySet());
      names.addAll(names());
    }
    Set<String> changed = new TreeSet<>();
    for (String name : names) {
      String now = digestOf(name);
      if (now != null && !Objects.equals(now, known.get(name)) && !readable(name)) {
        // half written, or not a secret: the instances keep what they have until the file makes sense again
        LOG.warn("the secret file {} changed but is not a JSON object of keys to strings (yet); nobody is told",
            dir.resolve(name + SUFFIX));
        continue;
      }
      if (!Objects.equals(now, known.get(name))) {
        if (now == null) {
          known.remove(name);
        } else {
          known.put(name, now);
        }
        changed.add(name);
      }
    }
    return changed;
  }

  private boolean readable(String name) {
    try {
      get(name);
      return true;
    } catch (PodsException e) {
      return false;
    }
  }

  /** The digest of the secret's file now, or {@code null} when there is none (or it cannot be read). */
  private @Nullable String digestOf(String name) {
    try {
      return digest(Files.readAllBytes(dir.resolve(name + SUFFIX)));
    } catch (IOException e) {
      return null;
    }
  }

  private static String digest(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** Names the folder, never a value. */
  @Override
  public String toString() {
    return "FileSecretStore[" + dir + "]";
  }
}
