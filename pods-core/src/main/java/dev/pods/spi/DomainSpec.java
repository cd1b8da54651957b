package dev.pods.spi;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Everything a hypervisor needs to define one instance domain: its name, the pods metadata it carries, CPU and
 * memory, how it boots, its disks, the NoCloud seed, the serial console log, its NICs, an optional VNC display
 * (with an optional password) and the acceleration choice.
 *
 * <p>Immutable and free of I/O: building a spec checks the values, not the files. Whether the files exist is
 * checked by {@link Hypervisor#define(DomainSpec)} (kernel, initrd) or {@link Hypervisor#start(String)}
 * (everything the emulator opens). Two specs are equal when all their values are equal.
 *
 * @param name the domain name: unique per host, 1 to 200 characters, no {@code /} and no control characters
 * @param metadata what pods records inside the domain (owner, pod, unit, index, spec hash)
 * @param vcpus number of virtual CPUs, {@code >= 1}
 * @param memoryMib memory in MiB, {@code >= 16}
 * @param boot disk boot or direct kernel boot
 * @param disks virtio disks in order ({@code vda}, {@code vdb}, ...)
 * @param seedIso the NoCloud seed ISO attached as a read-only IDE cdrom, or {@code null}
 * @param serialLog the file the first serial port (the console) is written to, or {@code null}
 * @param nics network interfaces in order
 * @param vncListen the address a VNC display listens on (e.g. {@code 127.0.0.1}), or {@code null} for none
 * @param acceleration the requested acceleration; {@link Acceleration#AUTO} lets the hypervisor probe
 * @param vncPassword the password a VNC client must give (VNC authentication; 1 to 8 printable ASCII characters,
 *     only with {@code vncListen}), or {@code null} for a display without password
 * @param filesystems host folders shared with virtiofs (the domain then has shared memory)
 */
public record DomainSpec(
    String name,
    DomainMetadata metadata,
    int vcpus,
    long memoryMib,
    DomainBoot boot,
    List<DomainDisk> disks,
    @Nullable Path seedIso,
    @Nullable Path serialLog,
    List<DomainNic> nics,
    @Nullable String vncListen,
    Acceleration acceleration,
    @Nullable String vncPassword,
    List<DomainFilesystem> filesystems) {

  /** The longest accepted domain name. */
  public static final int MAX_NAME_LENGTH = 200;

  /** Validates every value and copies the lists. */
  public DomainSpec {
    checkName(name);
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(boot, "boot");
    Objects.requireNonNull(acceleration, "acceleration");
    if (vcpus < 1) {
      throw new IllegalArgumentException("vcpus must be >= 1, was " + vcpus);
    }
    if (memoryMib < 16) {
      throw new IllegalArgumentException("memoryMib must be >= 16, was " + memoryMib);
    }
    disks = List.copyOf(disks);
    nics = List.copyOf(nics);
    filesystems = List.copyOf(filesystems);
    if (seedIso != null && !seedIso.isAbsolute()) {
      throw new IllegalArgumentException("seed ISO path must be absolute: " + seedIso);
    }
    if (serialLog != null && !serialLog.isAbsolute()) {
      throw new IllegalArgumentException("serial log path must be absolute: " + serialLog);
    }
    if (boot instanceof DomainBoot.Disk && disks.isEmpty()) {
      throw new IllegalArgumentException("disk boot needs at least one disk");
    }
    if (vncListen != null && vncListen.isBlank()) {
      throw new IllegalArgumentException("vncListen must not be blank");
    }
    if (vncPassword != null) {
      if (vncListen == null) {
        throw new IllegalArgumentException("vncPassword needs a VNC display (vncListen)");
      }
      if (vncPassword.isEmpty() || vncPassword.length() > 8
          || !vncPassword.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '\'' && c != '"')) {
        throw new IllegalArgumentException("vncPassword must be 1 to 8 printable ASCII characters without quotes");
      }
    }
  }

  /**
   * Checks a domain name.
   *
   * @throws IllegalArgumentException when the name is empty, too long, or holds {@code /} or control characters
   */
  public static void checkName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException("domain name must have 1 to " + MAX_NAME_LENGTH + " characters");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '/' || Character.isISOControl(c)) {
        throw new IllegalArgumentException("domain name must not contain '/' or control characters: " + name);
      }
    }
  }

  /** A builder for a spec with the given name. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** A builder initialised with this spec's values. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.metadata = metadata;
    b.vcpus = vcpus;
    b.memoryMib = memoryMib;
    b.boot = boot;
    b.disks.addAll(disks);
    b.filesystems.addAll(filesystems);
    b.seedIso = seedIso;
    b.serialLog = serialLog;
    b.nics.addAll(nics);
    b.vncListen = vncListen;
    b.acceleration = acceleration;
    b.vncPassword = vncPassword;
    return b;
  }

  /** This spec with another acceleration. */
  public DomainSpec withAcceleration(Acceleration a) {
    return toBuilder().acceleration(a).build();
  }

  /**
   * Builds a {@link DomainSpec}. Defaults: 1 vCPU, 256 MiB, no disks, no seed, no console log, no NICs, no VNC,
   * {@link Acceleration#AUTO}. Metadata and boot mode must be set. Not thread-safe.
   */
  public static final class Builder {
    private String name;
    private @Nullable DomainMetadata metadata;
    private int vcpus = 1;
    private long memoryMib = 256;
    private @Nullable DomainBoot boot;
    private final List<DomainDisk> disks = new ArrayList<>();
    private final List<DomainFilesystem> filesystems = new ArrayList<>();
    private @Nullable Path seedIso;
    private @Nullable Path serialLog;
    private final List<DomainNic> nics = new ArrayList<>();
    private @Nullable String vncListen;
    private Acceleration acceleration = Acceleration.AUTO;
    private @Nullable String vncPassword;

    private Builder(String name) {
      this.name = name;
    }

    /** Sets the name. */
    public Builder name(String n) {
      this.name = n;
      return this;
    }

    /** Sets the pods metadata. */
    public Builder metadata(DomainMetadata m) {
      this.metadata = m;
      return this;
    }

    /** Sets the number of virtual CPUs. */
    public Builder vcpus(int n) {
      this.vcpus = n;
      return this;
    }

    /** Sets the memory in MiB. */
    public Builder memoryMib(long mib) {
      this.memoryMib = mib;
      return this;
    }

    /** Sets the boot mode. */
    public Builder boot(DomainBoot b) {
      this.boot = b;
      return this;
    }

    /** Adds a disk after the ones already added. */
    public Builder disk(DomainDisk d) {
      this.disks.add(Objects.requireNonNull(d, "disk"));
      return this;
    }

    /** Adds a shared host folder after the ones already added. */
    public Builder filesystem(DomainFilesystem f) {
      this.filesystems.add(Objects.requireNonNull(f, "filesystem"));
      return this;
    }

    /** Removes every disk added so far. */
    public Builder clearDisks() {
      this.disks.clear();
      return this;
    }

    /** Sets the NoCloud seed ISO, or {@code null} for none. */
    public Builder seedIso(@Nullable Path p) {
      this.seedIso = p;
      return this;
    }

    /** Sets the serial console log file, or {@code null} for none. */
    public Builder serialLog(@Nullable Path p) {
      this.serialLog = p;
      return this;
    }

    /** Adds a NIC after the ones already added. */
    public Builder nic(DomainNic n) {
      this.nics.add(Objects.requireNonNull(n, "nic"));
      return this;
    }

    /** Sets the VNC listen address, or {@code null} for no display. */
    public Builder vncListen(@Nullable String address) {
      this.vncListen = address;
      return this;
    }

    /** Sets the VNC password, or {@code null} for a display without password. */
    public Builder vncPassword(@Nullable String password) {
      this.vncPassword = password;
      return this;
    }

    /** Sets the requested acceleration. */
    public Builder acceleration(Acceleration a) {
      this.acceleration = a;
      return this;
    }

    /**
     * Builds the spec.
     *
     * @throws IllegalStateException when metadata or boot mode are missing
     * @throws IllegalArgumentException when a value is invalid
     */
    public DomainSpec build() {
      if (metadata == null) {
        throw new IllegalStateException("metadata was not set");
      }
      if (boot == null) {
        throw new IllegalStateException("boot was not set");
      }
      return new DomainSpec(
          name, metadata, vcpus, memoryMib, boot, disks, seedIso, serialLog, nics, vncListen, acceleration,
          vncPassword, filesystems);
    }
  }
}
