package dev.pods.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.NetworkException;
import dev.pods.internal.LockFile;
import dev.pods.net.internal.AtomicFiles;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An {@link IpAddressPool} persisted as one small JSON file ({@code <dir>/<name>.json}) next to a lock file
 * ({@code <name>.lock}). Every call takes the lock (threads of this JVM and other processes alike), reads the file,
 * and for a change writes it back atomically (temporary file, fsync, rename, fsync of the directory) before
 * returning, so an allocation that returned survives a crash, and two allocations never return the same block.
 *
 * <p>Thread-safe and safe across processes; every call blocks on the lock and on disk. Holds no open resources
 * between calls, so there is nothing to close.
 *
 * @since 0.1
 */
public final class FileIpAddressPool implements IpAddressPool {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final IpPoolSpec spec;
  private final Path file;
  private final Path lock;
  private final boolean durable;

  private FileIpAddressPool(IpPoolSpec spec, Path dir, boolean durable) {
    this.spec = spec;
    this.durable = durable;
    this.file = dir.resolve(spec.name() + ".json");
    this.lock = dir.resolve(spec.name() + ".lock");
  }

  /**
   * Opens the pool of {@code spec} in {@code dir}, creating it empty when absent.
   *
   * @throws NetworkException when the directory is not usable or holds the pool with another spec
   */
  public static FileIpAddressPool open(Path dir, IpPoolSpec spec) {
    return open(dir, spec, true);
  }

  /**
   * Opens a pool whose writes are atomic but not fsynced: safe when the process crashes, not when the machine
   * does. For allocations that mean nothing after a reboot (link indexes of namespaces that a reboot removes).
   */
  public static FileIpAddressPool openVolatile(Path dir, IpPoolSpec spec) {
    return open(dir, spec, false);
  }

  private static FileIpAddressPool open(Path dir, IpPoolSpec spec, boolean durable) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(spec, "spec");
    FileIpAddressPool p = new FileIpAddressPool(spec, dir, durable);
    p.locked("open", () -> {
      State s = p.read();
      if (s.fresh) {
        p.write(s);
      }
      return null;
    });
    return p;
  }

  @Override
  public IpPoolSpec spec() {
    return spec;
  }

  @Override
  public Cidr allocate(String holder) {
    Objects.requireNonNull(holder, "holder");
    return locked("allocate for '" + holder + "'", () -> {
      State s = read();
      Long have = s.byHolder.get(holder);
      if (have != null) {
        return spec.block(have);
      }
      long n = spec.blockCount();
      java.util.Set<Long> used = new java.util.HashSet<>(s.byHolder.values());
      for (long i = 1; i <= n; i++) {
        long candidate = Math.floorMod(s.cursor + i, n);
        if (!used.contains(candidate) && spec.usable(candidate)) {
          s.byHolder.put(holder, candidate);
          s.cursor = candidate;
          write(s);
          return spec.block(candidate);
        }
      }
      throw new NetworkException("allocate from pool '" + spec.name() + "' for '" + holder + "' failed: "
          + spec.range() + " is exhausted (" + s.byHolder.size() + " blocks in use)");
    });
  }

  @Override
  public Optional<Cidr> lookup(String holder) {
    return locked("lookup", () -> {
      Long have = read().byHolder.get(holder);
      return have == null ? Optional.<Cidr>empty() : Optional.of(spec.block(have));
    });
  }

  @Override
  public boolean release(String holder) {
    return locked("release '" + holder + "'", () -> {
      State s = read();
      if (s.byHolder.remove(holder) == null) {
        return false;
      }
      write(s);
      return true;
    });
  }

  @Override
  public Map<String, Cidr> allocations() {
    return locked("list", () -> {
      Map<String, Cidr> out = new TreeMap<>();
      read().byHolder.forEach((h, b) -> out.put(h, spec.block(b)));
      return out;
    });
  }

  /** The pool's file. */
  public Path file() {
    return file;
  }

  private <T> T locked(String what, LockFile.Work<T, Exception> work) {
    try {
      return LockFile.with(lock, work);
    } catch (NetworkException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException(what + " in pool '" + spec.name() + "' interrupted", e);
    } catch (Exception e) {
      throw new NetworkException(what + " in pool '" + spec.name() + "' (" + file + ") failed: " + e, e);
    }
  }

  private static final class State {
    final Map<String, Long> byHolder = new TreeMap<>();
    long cursor = -1;
    boolean fresh;
  }

  private State read() throws IOException {
    State s = new State();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      s.fresh = true;
      return s;
    }
    JsonNode root = JSON.readTree(bytes);
    IpPoolSpec stored = new IpPoolSpec(root.path("name").asText(), Cidr.parse(root.path("range").asText()),
        root.path("blockPrefixLength").asInt(), reserved(root.path("reserved")));
    if (!stored.equals(spec)) {
      throw new NetworkException("pool '" + spec.name() + "' in " + file + " has another spec: " + stored);
    }
    s.cursor = root.path("cursor").asLong(-1);
    for (Map.Entry<String, JsonNode> e : root.path("allocations").properties()) {
      s.byHolder.put(e.getKey(), e.getValue().asLong());
    }
    return s;
  }

  private static List<Cidr> reserved(JsonNode node) {
    List<Cidr> out = new ArrayList<>();
    node.forEach(n -> out.add(Cidr.parse(n.asText())));
    return out;
  }

  private void write(State s) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("name", spec.name());
    root.put("range", spec.range().toString());
    root.put("blockPrefixLength", spec.blockPrefixLength());
    com.fasterxml.jackson.databind.node.ArrayNode reserved = root.putArray("reserved");
    spec.reserved().forEach(r -> reserved.add(r.toString()));
    root.put("cursor", s.cursor);
    ObjectNode alloc = root.putObject("allocations");
    s.byHolder.forEach(alloc::put);
    AtomicFiles.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root), durable);
  }
}
