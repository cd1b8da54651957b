package dev.pods.net.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.NetworkException;
import dev.pods.internal.LockFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The link indexes of one link prefix, claimed host-wide: link names are {@code <linkPrefix><kind><index>}, so two
 * drivers with the same link prefix and different state folders (two data folders) must never hold the same index.
 * One small JSON file per link prefix ({@code <dir>/<linkPrefix>.json}) maps each claim ({@code <state folder>#<key>})
 * to its index; every call takes the folder's one lock ({@code <dir>/links.lock}, threads and processes alike), reads
 * the file and writes it back atomically before returning, or removes it when no claim is left (so nothing but the
 * lock file stays once every network is gone). Indexes are handed out round-robin from 1 to 2^20 - 1, so a released
 * index is not reused soon while others are held.
 *
 * <p>The folder should be a tmpfs such as {@code /run/pods/net}: what the claims name (links) does not survive a
 * reboot either, so the file is not fsynced. Claims of a state folder that no longer exists are dropped at the next
 * claim (their driver cannot release them any more).
 *
 * <p>Thread-safe and safe across processes; every call blocks on the lock. Holds nothing open between calls.
 */
public final class LinkIndexes {
  /** The largest index: {@link Names#group} keeps 20 bits for it. */
  public static final long MAX = (1L << 20) - 1;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Path lock;
  private final String claimant;

  /**
   * The indexes of {@code linkPrefix} in {@code dir} (created on first use), claimed for {@code stateDir}.
   *
   * @param dir the host-wide folder
   * @param linkPrefix the link prefix the indexes are for
   * @param stateDir the claiming driver's state folder (absolute), which tells its claims from other drivers'
   */
  public LinkIndexes(Path dir, String linkPrefix, Path stateDir) {
    this.file = dir.resolve(linkPrefix + ".json");
    this.lock = dir.resolve("links.lock");
    this.claimant = stateDir.toAbsolutePath().normalize() + "#";
  }

  /** The host-wide file. */
  public Path file() {
    return file;
  }

  /**
   * The index of {@code key} for this state folder: the one it holds, or the next free one, now held.
   *
   * @throws NetworkException when the file cannot be used, or every index is held
   */
  public long claim(String key) {
    return locked("claim a link index for '" + key + "'", () -> {
      State s = read();
      Long have = s.claims.get(claimant + key);
      if (have != null) {
        return have;
      }
      dropStale(s);
      Set<Long> used = new HashSet<>(s.claims.values());
      for (long i = 1; i <= MAX; i++) {
        long candidate = Math.floorMod(s.cursor + i - 1, MAX) + 1;
        if (!used.contains(candidate)) {
          s.claims.put(claimant + key, candidate);
          s.cursor = candidate;
          write(s);
          return candidate;
        }
      }
      throw new NetworkException("claim a link index for '" + key + "' failed: all " + MAX + " indexes of " + file
          + " are held");
    });
  }

  /**
   * Claims {@code index} for {@code key}, as a network built before the claims were host-wide holds it.
   *
   * @return whether {@code key} now holds {@code index}; false when another claim holds that index, or {@code key}
   *     holds another one
   */
  public boolean adopt(String key, long index) {
    return locked("adopt link index " + index + " for '" + key + "'", () -> {
      State s = read();
      Long have = s.claims.get(claimant + key);
      if (have != null) {
        return have == index;
      }
      if (s.claims.containsValue(index)) {
        return false;
      }
      s.claims.put(claimant + key, index);
      write(s);
      return true;
    });
  }

  /** The index {@code key} holds for this state folder, if any. */
  public Optional<Long> lookup(String key) {
    return locked("look up the link index of '" + key + "'",
        () -> Optional.ofNullable(read().claims.get(claimant + key)));
  }

  /** Releases {@code key}'s index; nothing when it holds none. */
  public void release(String key) {
    locked("release the link index of '" + key + "'", () -> {
      State s = read();
      if (s.claims.remove(claimant + key) != null) {
        write(s);
      }
      return null;
    });
  }

  /** Drops the claims of state folders that are gone. */
  private static void dropStale(State s) {
    Map<String, Boolean> alive = new TreeMap<>();
    s.claims.keySet().removeIf(k -> {
      int hash = k.lastIndexOf('#');
      String folder = hash < 0 ? k : k.substring(0, hash);
      return !alive.computeIfAbsent(folder, f -> Files.isDirectory(Path.of(f)));
    });
  }

  private <T> T locked(String what, LockFile.Work<T, Exception> work) {
    try {
      Files.createDirectories(file.getParent());
      return LockFile.with(lock, work);
    } catch (NetworkException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException(what + " interrupted", e);
    } catch (Exception e) {
      throw new NetworkException(what + " in " + file + " failed: " + e, e);
    }
  }

  private static final class State {
    final Map<String, Long> claims = new TreeMap<>();
    long cursor;
  }

  private State read() throws IOException {
    State s = new State();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return s;
    }
    JsonNode root = JSON.readTree(bytes);
    s.cursor = root.path("cursor").asLong(0);
    for (Map.Entry<String, JsonNode> e : root.path("claims").properties()) {
      s.claims.put(e.getKey(), e.getValue().asLong());
    }
    return s;
  }

  private void write(State s) throws IOException {
    if (s.claims.isEmpty()) {
      Files.deleteIfExists(file);
      return;
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("cursor", s.cursor);
    ObjectNode claims = root.putObject("claims");
    s.claims.forEach(claims::put);
    AtomicFiles.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root), false);
  }
}
