package dev.pods.kvm;

import dev.pods.BackendException;
import dev.pods.ConflictException;
import dev.pods.kvm.internal.Exec;
import dev.pods.spi.DiskStore;
import dev.pods.spi.DomainDisk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@link DiskStore} on a {@link DiskImages} folder: each volume is a qcow2 file {@code data/<name>.qcow2}
 * ({@link DiskImages#dataDisk}), created blank with {@code qemu-img create} (sparse: a new 10 GiB volume takes a few
 * hundred KiB), sized and measured with {@code qemu-img info -U} (which works while a domain uses the file).
 *
 * <p>Thread-safe (as {@link DiskImages}); every method blocks on {@code qemu-img} or the file system.
 *
 * @since 0.1
 */
public final class KvmDiskStore implements DiskStore {
  private static final Pattern VIRTUAL = Pattern.compile("\"virtual-size\"\\s*:\\s*(\\d+)");
  private static final Pattern ACTUAL = Pattern.compile("\"actual-size\"\\s*:\\s*(\\d+)");
  private static final String SUFFIX = ".qcow2";

  private final DiskImages disks;

  private KvmDiskStore(DiskImages disks) {
    this.disks = disks;
  }

  /** Volumes in {@code disks}' {@code data/} folder. */
  public static KvmDiskStore on(DiskImages disks) {
    return new KvmDiskStore(Objects.requireNonNull(disks, "disks"));
  }

  private Path file(String name) {
    return disks.root().resolve("data").resolve(name + SUFFIX);
  }

  @Override
  public Volume create(String name, long sizeBytes) {
    DiskStore.check(name, sizeBytes);
    synchronized (this) {
      if (Files.exists(file(name))) {
        throw new ConflictException("disk " + name + " exists already (" + file(name) + ")");
      }
      disks.dataDisk(name, sizeBytes);
    }
    return find(name).orElseThrow();
  }

  @Override
  public Volume ensure(String name, long sizeBytes) {
    DiskStore.check(name, sizeBytes);
    synchronized (this) {
      disks.dataDisk(name, sizeBytes);
    }
    return find(name).orElseThrow(() -> new BackendException("create data disk", null, -1,
        "disk " + name + " vanished right after its creation", null));
  }

  @Override
  public Optional<Volume> find(String name) {
    Path f = file(name);
    if (!DiskStore.NAME.matcher(name).matches() || !Files.isRegularFile(f)) {
      return Optional.empty();
    }
    String json = Exec.run("qemu-img info", List.of("qemu-img", "info", "-U", "--output=json", f.toString()), null,
        Duration.ofMinutes(1)).stdout();
    Matcher v = VIRTUAL.matcher(json);
    Matcher a = ACTUAL.matcher(json);
    if (!v.find()) {
      throw new BackendException("qemu-img info", null, -1, "disk " + name + ": unexpected output: " + json, null);
    }
    return Optional.of(new Volume(name, f, DomainDisk.Format.QCOW2, Long.parseLong(v.group(1)),
        a.find() ? Long.parseLong(a.group(1)) : 0));
  }

  @Override
  public List<Volume> list() {
    Path dir = disks.root().resolve("data");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Volume> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.sorted().toList()) {
        String n = p.getFileName().toString();
        if (n.endsWith(SUFFIX) && !n.startsWith(".")) {
          find(n.substring(0, n.length() - SUFFIX.length())).ifPresent(out::add);
        }
      }
    } catch (IOException e) {
      throw new BackendException("list data disks", null, -1, "cannot list " + dir + ": " + e, e);
    }
    return List.copyOf(out);
  }

  @Override
  public void delete(String name) {
    synchronized (this) {
      disks.deleteDataDisk(name);
    }
  }

  @Override
  public String toString() {
    return "KvmDiskStore[" + disks.root().resolve("data") + "]";
  }
}
