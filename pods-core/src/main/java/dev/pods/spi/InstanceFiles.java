package dev.pods.spi;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Creates and deletes the files of one instance domain: its folder, its root disk overlay on a base image, its
 * NoCloud seed carrying the agent and the agent's configuration, and the path of its console log. Module
 * {@code pods-kvm} implements it with qcow2 overlays and ISO seeds; {@code dev.pods.testing} has a plain-files
 * fake.
 *
 * <p><b>Contract.</b> Thread-safe and blocking; calls for different domains may run in parallel. {@link #prepare}
 * replaces what an earlier call left for the same domain and leaves nothing behind when it fails; {@link #delete}
 * is idempotent. Failures are {@link dev.pods.BackendException}s. The files outlive the object (and the JVM).
 *
 * @since 0.1
 */
public interface InstanceFiles {

  /**
   * Writes the instance's files.
   *
   * @param domain the domain name the files belong to
   * @param seed what the guest finds on its seed
   * @param baseDisk the base image to overlay, or {@code null} for a diskless guest
   * @param diskSizeBytes the virtual size of the overlay ({@code 0} keeps the base's)
   * @return where the files are
   */
  Prepared prepare(String domain, Seed seed, @Nullable Path baseDisk, long diskSizeBytes);

  /**
   * The files an earlier {@link #prepare} left for {@code domain}, as that call returned them, when its seed is still
   * there: what a restart after a host reboot boots again (same disk, same seed and token). Creates nothing.
   *
   * @param domain the domain name the files belong to
   * @return the files, with {@link Prepared#disk()} {@code null} when there is no root overlay (a diskless guest, or
   *     an overlay that is gone: the caller knows which it wants); empty when the folder or its seed is gone
   * @since 0.1
   */
  java.util.Optional<Prepared> find(String domain);

  /** Deletes the instance's folder and everything in it; a no-op when there is none. */
  void delete(String domain);

  /**
   * The content of a seed.
   *
   * @param hostname the guest's host name
   * @param agent the agent program
   * @param agentConfig the agent's configuration file ({@code dev.pods.agent.AgentConfig#render()})
   * @param extraFiles further files by name (may be empty)
   */
  record Seed(String hostname, byte[] agent, String agentConfig, Map<String, byte[]> extraFiles) {
    /** Copies. */
    public Seed {
      Objects.requireNonNull(hostname, "hostname");
      agent = agent.clone();
      Objects.requireNonNull(agentConfig, "agentConfig");
      extraFiles = Map.copyOf(extraFiles);
    }

    @Override
    public byte[] agent() {
      return agent.clone();
    }
  }

  /**
   * Where an instance's files are.
   *
   * @param dir the instance's folder
   * @param disk the root overlay, or {@code null} for a diskless guest
   * @param seedIso the seed image
   * @param consoleLog where the serial console is written (may not exist yet)
   */
  record Prepared(Path dir, @Nullable Path disk, Path seedIso, Path consoleLog) {
    /** Validates. */
    public Prepared {
      Objects.requireNonNull(dir, "dir");
      Objects.requireNonNull(seedIso, "seedIso");
      Objects.requireNonNull(consoleLog, "consoleLog");
    }
  }
}
