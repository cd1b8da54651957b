package dev.pods.kvm;

import dev.pods.BackendException;
import dev.pods.kvm.internal.Exec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A NoCloud seed: an ISO 9660 image with volume id {@code cidata} holding {@code meta-data}, {@code user-data},
 * {@code network-config} (unless {@link Builder#fallbackNetwork()}) and any extra files (for example the pods agent, {@value #AGENT_FILE}), built with
 * {@code genisoimage} (Rock Ridge, so the executable bit survives, and Joliet).
 *
 * <p>Immutable and thread-safe; {@link #writeTo(Path)} blocks while genisoimage runs (about 10 ms) and replaces
 * the target atomically. The caller owns the written file (attach it read-only, delete it with the instance).
 *
 * <pre>{@code
 * Path iso = SeedIso.builder("podst-web-0").hostname("web-0")
 *     .userData("#cloud-config\nruncmd:\n  - echo hi > /dev/ttyS0\n")
 *     .file("pods-marker", "hello")
 *     .build().writeTo(dir.resolve("seed.iso"));
 * }</pre>
 */
public final class SeedIso {
  /** The file the tiny guest's init runs with {@code sh FILE run} when the seed has it. */
  public static final String AGENT_FILE = "pods-agent";
  /**
   * The agent's configuration ({@code dev.pods.agent.AgentConfig#render()}): the tiny guest's init copies it to
   * {@code /etc/pods/agent.conf} (mode 0600), where the agent reads it, before it starts {@value #AGENT_FILE}.
   */
  public static final String AGENT_CONFIG_FILE = "pods-agent.conf";
  /** A network-config that tells cloud-init to leave networking alone. */
  public static final String NETWORK_DISABLED = "config: disabled\n";
  /** The volume id NoCloud looks for. */
  public static final String VOLUME_ID = "cidata";
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final Map<String, byte[]> files;
  private final Map<String, Boolean> executable;

  private SeedIso(Map<String, byte[]> files, Map<String, Boolean> executable) {
    this.files = files;
    this.executable = executable;
  }

  /** A builder for the seed of the instance {@code instanceId} (cloud-init's per-instance identity). */
  public static Builder builder(String instanceId) {
    return new Builder(instanceId);
  }

  /** The files of the seed, by name (a copy). */
  public Map<String, byte[]> files() {
    Map<String, byte[]> copy = new LinkedHashMap<>();
    files.forEach((k, v) -> copy.put(k, v.clone()));
    return copy;
  }

  /** The genisoimage command that packs {@code dir} into {@code iso}. */
  public static List<String> command(Path dir, Path iso) {
    return List.of("genisoimage", "-quiet", "-output", iso.toString(), "-volid", VOLUME_ID, "-joliet",
        "-rock", dir.toString());
  }

  /**
   * Writes the ISO to {@code iso} (mode 0644; its folder must exist and be traversable by the emulator).
   *
   * @return {@code iso}
   * @throws BackendException when genisoimage is missing or fails; nothing is left behind then
   */
  public Path writeTo(Path iso) {
    Path target = iso.toAbsolutePath();
    Path dir = target.getParent();
    Path stage = dir.resolve(".seed-" + UUID.randomUUID());
    Path tmp = dir.resolve(".seed-" + UUID.randomUUID() + ".iso");
    try {
      Files.createDirectory(stage);
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        Path p = stage.resolve(f.getKey());
        Files.write(p, f.getValue());
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
            executable.getOrDefault(f.getKey(), false) ? "rwxr-xr-x" : "rw-r--r--"));
      }
      Exec.run("build seed ISO", command(stage, tmp), null, Duration.ofMinutes(1));
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return target;
    } catch (IOException e) {
      throw new BackendException("build seed ISO", null, -1, "cannot write " + target + ": " + e, e);
    } finally {
      DiskImages.deleteTree(stage);
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        // best effort: the temporary name is unique and hidden
      }
    }
  }

  /** Quotes a value as a YAML double-quoted scalar. */
  static String yamlQuote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\x%02x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  /**
   * Builds a {@link SeedIso}. Defaults: hostname = instance id, user-data {@code #cloud-config} (empty),
   * network-config {@link #NETWORK_DISABLED}. Not thread-safe.
   */
  public static final class Builder {
    private final String instanceId;
    private String hostname;
    private String userData = "#cloud-config\n";
    private @Nullable String networkConfig = NETWORK_DISABLED;
    private final Map<String, byte[]> extra = new LinkedHashMap<>();
    private final Map<String, Boolean> exec = new LinkedHashMap<>();

    private Builder(String instanceId) {
      this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
      this.hostname = instanceId;
    }

    /** The guest's hostname ({@code local-hostname}). */
    public Builder hostname(String h) {
      this.hostname = Objects.requireNonNull(h, "hostname");
      return this;
    }

    /** The user-data document (cloud-config, a script, or a MIME multipart), verbatim. */
    public Builder userData(String u) {
      this.userData = Objects.requireNonNull(u, "userData");
      return this;
    }

    /** The network-config document (cloud-init network config v1 or v2), verbatim. */
    public Builder networkConfig(String n) {
      this.networkConfig = Objects.requireNonNull(n, "networkConfig");
      return this;
    }

    /**
     * No network-config file: cloud-init then applies its fallback, DHCP on the first NIC matched by its MAC
     * address, whatever the NIC's name (and an image's own network configuration stays in charge otherwise).
     */
    public Builder fallbackNetwork() {
      this.networkConfig = null;
      return this;
    }

    /** Adds an extra file at the root of the seed. */
    public Builder file(String name, String content) {
      return file(name, content.getBytes(StandardCharsets.UTF_8), false);
    }

    /**
     * Adds an extra file at the root of the seed.
     *
     * @param name {@code [A-Za-z0-9][A-Za-z0-9._-]*}, up to 64 characters, not one of the NoCloud files
     */
    public Builder file(String name, byte[] content, boolean executable) {
      if (!FILE_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("not a seed file name: " + name);
      }
      if (name.equals("meta-data") || name.equals("user-data") || name.equals("network-config")) {
        throw new IllegalArgumentException(name + " is set through its own method");
      }
      extra.put(name, content.clone());
      exec.put(name, executable);
      return this;
    }

    /**
     * Adds the guest agent: the program as {@value #AGENT_FILE} (executable) and its configuration as
     * {@value #AGENT_CONFIG_FILE}.
     */
    public Builder agent(byte[] program, String config) {
      file(AGENT_FILE, program, true);
      return file(AGENT_CONFIG_FILE, config.getBytes(StandardCharsets.UTF_8), false);
    }

    /** Builds the seed (no I/O). */
    public SeedIso build() {
      Map<String, byte[]> files = new LinkedHashMap<>();
      String meta = "instance-id: " + yamlQuote(instanceId) + "\nlocal-hostname: " + yamlQuote(hostname) + "\n";
      files.put("meta-data", meta.getBytes(StandardCharsets.UTF_8));
      files.put("user-data", userData.getBytes(StandardCharsets.UTF_8));
      if (networkConfig != null) {
        files.put("network-config", networkConfig.getBytes(StandardCharsets.UTF_8));
      }
      files.putAll(extra);
      return new SeedIso(files, Map.copyOf(exec));
    }
  }
}
