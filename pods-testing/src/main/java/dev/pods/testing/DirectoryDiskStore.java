package dev.pods.testing;

import dev.pods.ConflictException;
import dev.pods.PodsException;
import dev.pods.spi.DiskStore;
import dev.pods.spi.DomainDisk;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A {@link DiskStore} fake for tests: each volume is a sparse raw file {@code <dir>/<name>.img} of the volume's size
 * (its allocated size is what the file system reports as used, 0 for a fresh sparse file here). Same contract as
 * the real store. Thread-safe (synchronized).
 */
public final class DirectoryDiskStore implements DiskStore {
  private final Path dir;

  /** Volumes in {@code dir} (created on first use). */
  public DirectoryDiskStore(Path dir) {
    this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
  }

  private Path file(String name) {
    return dir.resolve(name + ".img");
  }

  @Override
  public synchronized Volume create(String name, long sizeBytes) {
    DiskStore.check(name, sizeBytes);
    if (Files.exists(file(name))) {
      throw new ConflictException("disk " + name + " exists already");
    }
    return ensure(name, sizeBytes);
  }

  @Override
  public synchronized Volume ensure(String name, long sizeBytes) {
    DiskStore.check(name, sizeBytes);
    Path f = file(name);
    if (!Files.exists(f)) {
      try {
        Files.createDirectories(dir);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
          r.setLength(sizeBytes);
        }
      } catch (IOException e) {
        throw new PodsException("cannot create disk " + name + " in " + dir, e);
      }
    }
    return find(name).orElseThrow();
  }

  @Override
  public synchronized Optional<Volume> find(String name) {
    Path f = file(name);
    if (!DiskStore.NAME.matcher(name).matches() || !Files.isRegularFile(f)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new Volume(name, f, DomainDisk.Format.RAW, Files.size(f), 0));
    } catch (IOException e) {
      throw new PodsException("cannot read disk " + name, e);
    }
  }

  @Override
  public synchronized List<Volume> list() {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Volume> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.sorted().toList()) {
        String n = p.getFileName().toString();
        if (n.endsWith(".img")) {
          find(n.substring(0, n.length() - 4)).ifPresent(out::add);
        }
      }
    } catch (IOException e) {
      throw new PodsException("cannot list disks in " + dir, e);
    }
    return List.copyOf(out);
  }

  @Override
  public synchronized void delete(String name) {
    if (!DiskStore.NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid disk name '" + name + "': " + DiskStore.NAME.pattern());
    }
    try {
      Files.deleteIfExists(file(name));
    } catch (IOException e) {
      throw new PodsException("cannot delete disk " + name, e);
    }
  }
}
