package dev.pods.testing;

import dev.pods.BackendException;
import dev.pods.spi.InstanceFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * An {@link InstanceFiles} fake for tests without a hypervisor: plain files under a folder, one sub-folder per
 * domain. The seed's files are in a folder {@code seed/}, and the
 * "ISO" lists their names, the "overlay" an empty file naming its base. Has a
 * fault knob, {@link #failNextPrepare()}.
 *
 * <p>Thread-safe.
 *
 * @since 0.1
 */
public final class DirectoryInstanceFiles implements InstanceFiles {
  private final Path root;
  private int failures;

  /** Files under {@code root} (created on first use). */
  public DirectoryInstanceFiles(Path root) {
    this.root = Objects.requireNonNull(root, "root");
  }

  /** Makes the next {@link #prepare} throw a {@link BackendException} (after writing part of the files). */
  public synchronized void failNextPrepare() {
    failures++;
  }

  private synchronized boolean takeFailure() {
    if (failures > 0) {
      failures--;
      return true;
    }
    return false;
  }

  /** The folder of one domain's files. */
  public Path dir(String domain) {
    return root.resolve(domain.replaceAll("[^A-Za-z0-9.-]", "_"));
  }

  @Override
  public Prepared prepare(String domain, Seed seed, @Nullable Path baseDisk, long diskSizeBytes) {
    Path dir = dir(domain);
    try {
      delete(domain);
      Files.createDirectories(dir);
      Path seedDir = Files.createDirectories(dir.resolve("seed"));
      Files.write(seedDir.resolve("pods-agent"), seed.agent());
      Files.writeString(seedDir.resolve("pods-agent.conf"), seed.agentConfig());
      Files.writeString(seedDir.resolve("hostname"), seed.hostname());
      for (Map.Entry<String, byte[]> e : seed.extraFiles().entrySet()) {
        Files.write(seedDir.resolve(e.getKey()), e.getValue());
      }
      if (takeFailure()) {
        throw new IOException("injected failure");
      }
      Path disk = null;
      if (baseDisk != null) {
        disk = Files.writeString(dir.resolve("root.qcow2"), baseDisk + " " + diskSizeBytes + "\n",
            StandardCharsets.UTF_8);
      }
      // the "ISO": the seed's file names, one a line (the files themselves are in seed/)
      Path iso;
      try (Stream<Path> names = Files.list(seedDir)) {
        iso = Files.writeString(dir.resolve("seed.iso"),
            String.join("\n", names.map(p -> p.getFileName().toString()).sorted().toList()) + "\n");
      }
      return new Prepared(dir, disk, iso, dir.resolve("console.log"));
    } catch (IOException e) {
      try {
        delete(domain);
      } catch (BackendException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new BackendException("prepare files", domain, -1, String.valueOf(e.getMessage()), e);
    }
  }

  @Override
  public java.util.Optional<Prepared> find(String domain) {
    Path dir = dir(domain);
    Path iso = dir.resolve("seed.iso");
    if (!Files.isRegularFile(iso)) {
      return java.util.Optional.empty();
    }
    Path disk = dir.resolve("root.qcow2");
    return java.util.Optional.of(new Prepared(dir, Files.isRegularFile(disk) ? disk : null, iso,
        dir.resolve("console.log")));
  }

  @Override
  public void delete(String domain) {
    Path dir = dir(domain);
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new BackendException("delete files", domain, -1, String.valueOf(e.getMessage()), e);
    }
  }
}
