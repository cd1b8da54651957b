package dev.pods.kvm;

import dev.pods.BackendException;
import dev.pods.spi.InstanceFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * {@link InstanceFiles} on a {@link DiskImages} folder: each instance's folder is
 * {@link DiskImages#instanceDir(String)}, holding a qcow2 overlay {@code root.qcow2} on the base image (copied into
 * the base cache first), the NoCloud seed {@code seed.iso} written by {@link SeedIso} and the console log
 * {@code console.log}.
 *
 * <p><b>How the agent starts.</b> The seed carries the agent twice, once for each kind of guest:
 * <ul>
 *   <li>as the files {@value SeedIso#AGENT_FILE} and {@value SeedIso#AGENT_CONFIG_FILE}: the tiny guest's init
 *       (no cloud-init) mounts the seed and runs them on every boot, and again whenever the agent ends;
 *   <li>in the user-data ({@link #userData(byte[], String)}), for guests with cloud-init and systemd (the full
 *       guest of {@link GuestImages#full()}, or any cloud image that has {@code curl} or {@code wget}): its
 *       {@code write_files} install the agent as {@value #AGENT_PATH}, its configuration (metadata service URL
 *       and token) as {@value #AGENT_CONFIG_PATH} (mode 0600) and the systemd unit {@value #AGENT_UNIT}; its
 *       {@code runcmd} enables the unit and starts it without waiting. cloud-init runs {@code write_files} and
 *       {@code runcmd} once per instance; the enabled unit (wanted by {@code multi-user.target}, after
 *       {@code network-online.target}) starts the agent on every later boot, and
 *       ({@code Restart=always}) again whenever it ends. The installed configuration is
 *       the one of the instance's first boot: the runtime writes a new seed only for a new instance, which also
 *       gets a new root overlay.
 * </ul>
 * The seed has no network-config ({@link SeedIso.Builder#fallbackNetwork()}), so cloud-init applies its fallback:
 * DHCP on the first NIC, matched by MAC address whatever its name (the full guest's is {@code eth0}, other cloud
 * images may call it {@code ens3}); the DHCP server is the instance network's dnsmasq, and the metadata service
 * answers at 169.254.169.254 through the default route it hands out. The tiny guest ignores user-data (its init
 * runs udhcpc on {@code eth0}).
 *
 * <p>Thread-safe (as {@link DiskImages}); every method blocks on {@code qemu-img} or {@code genisoimage}.
 *
 * @since 0.1
 */
public final class KvmInstanceFiles implements InstanceFiles {
  /** Where the user-data installs the agent in a cloud-init guest. */
  public static final String AGENT_PATH = "/usr/local/lib/pods/pods-agent";
  /** Where the user-data installs the agent's configuration (mode 0600; the agent's default location). */
  public static final String AGENT_CONFIG_PATH = "/etc/pods/agent.conf";
  /** The systemd unit that runs the agent in a cloud-init guest. */
  public static final String AGENT_UNIT = "pods-agent.service";

  private final DiskImages disks;

  private KvmInstanceFiles(DiskImages disks) {
    this.disks = disks;
  }

  /** Instance files in {@code disks}. */
  public static KvmInstanceFiles on(DiskImages disks) {
    return new KvmInstanceFiles(Objects.requireNonNull(disks, "disks"));
  }

  /**
   * The cloud-config that installs and starts the agent in a guest with cloud-init and systemd (see the class
   * comment). The program and the configuration travel base64-encoded, so any bytes survive YAML.
   *
   * @param agent the agent program (a POSIX sh script)
   * @param agentConfig the agent's configuration file
   */
  public static String userData(byte[] agent, String agentConfig) {
    Objects.requireNonNull(agent, "agent");
    Objects.requireNonNull(agentConfig, "agentConfig");
    Base64.Encoder b64 = Base64.getEncoder();
    return "#cloud-config\n"
        + "# pods: install the pods agent and the unit that runs it on every boot\n"
        + "write_files:\n"
        + "  - path: " + AGENT_PATH + "\n"
        + "    owner: root:root\n"
        + "    permissions: '0755'\n"
        + "    encoding: b64\n"
        + "    content: " + b64.encodeToString(agent) + "\n"
        + "  - path: " + AGENT_CONFIG_PATH + "\n"
        + "    owner: root:root\n"
        + "    permissions: '0600'\n"
        + "    encoding: b64\n"
        + "    content: " + b64.encodeToString(agentConfig.getBytes(StandardCharsets.UTF_8)) + "\n"
        + "  - path: /etc/systemd/system/" + AGENT_UNIT + "\n"
        + "    owner: root:root\n"
        + "    permissions: '0644'\n"
        + "    encoding: b64\n"
        + "    content: " + b64.encodeToString(unit().getBytes(StandardCharsets.UTF_8)) + "\n"
        + "runcmd:\n"
        + "  - [systemctl, daemon-reload]\n"
        // --no-block: runcmd runs inside cloud-final.service; waiting for the start there gains nothing
        + "  - [systemctl, enable, --now, --no-block, " + AGENT_UNIT + "]\n";
  }

  /** The systemd unit of the agent: after the network is up, restarted whenever it ends, output on the console. */
  static String unit() {
    return "[Unit]\n"
        + "Description=pods guest agent (phase scripts, exec)\n"
        + "Wants=network-online.target\n"
        + "After=network-online.target\n"
        + "[Service]\n"
        + "Environment=PODS_AGENT_CONF=" + AGENT_CONFIG_PATH + "\n"
        // "$$" is systemd's escape for "$"
        + "ExecStartPre=/bin/sh -c 'read u _ </proc/uptime; echo PODS-AGENT-START uptime=$$u >/dev/console'\n"
        + "ExecStart=/bin/sh " + AGENT_PATH + " run\n"
        // always: an agent killed by a signal or ended cleanly by mistake is as gone as one that failed
        + "Restart=always\n"
        + "RestartSec=2\n"
        + "StandardOutput=journal+console\n"
        + "StandardError=journal+console\n"
        + "[Install]\n"
        + "WantedBy=multi-user.target\n";
  }

  @Override
  public Prepared prepare(String domain, Seed seed, @Nullable Path baseDisk, long diskSizeBytes) {
    disks.deleteInstance(domain);
    Path dir = disks.instanceDir(domain);
    try {
      SeedIso.Builder b = SeedIso.builder(domain).hostname(seed.hostname())
          .agent(seed.agent(), seed.agentConfig())
          .userData(userData(seed.agent(), seed.agentConfig()))
          .fallbackNetwork();
      for (Map.Entry<String, byte[]> e : seed.extraFiles().entrySet()) {
        b.file(e.getKey(), e.getValue(), false);
      }
      Path iso = b.build().writeTo(dir.resolve("seed.iso"));
      Path disk = null;
      if (baseDisk != null) {
        Path base = disks.base(ImageSource.file(baseDisk), p -> {});
        disk = disks.overlay(base, dir.resolve("root.qcow2"), diskSizeBytes);
      }
      return new Prepared(dir, disk, iso, dir.resolve("console.log"));
    } catch (RuntimeException e) {
      try {
        disks.deleteInstance(domain);
      } catch (BackendException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  @Override
  public java.util.Optional<Prepared> find(String domain) {
    Path dir = disks.root().resolve("instances").resolve(DiskImages.encode(domain));
    Path iso = dir.resolve("seed.iso");
    if (!java.nio.file.Files.isRegularFile(iso)) {
      return java.util.Optional.empty();
    }
    Path disk = dir.resolve("root.qcow2");
    return java.util.Optional.of(new Prepared(dir, java.nio.file.Files.isRegularFile(disk) ? disk : null, iso,
        dir.resolve("console.log")));
  }

  @Override
  public void delete(String domain) {
    disks.deleteInstance(domain);
  }
}
