package dev.pods.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pods.BackendException;
import dev.pods.kvm.internal.Libvirt;
import dev.pods.spi.Acceleration;
import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainInfo;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainSpec;
import dev.pods.spi.DomainState;
import dev.pods.spi.HypervisorEvent;
import dev.pods.spi.HypervisorInfo;
import dev.pods.spi.StopOutcome;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link LibvirtHypervisor} on a remote URI, for real: {@code qemu+ssh://root@127.0.0.1:PORT/system} through an
 * sshd that this class starts (loopback only, a free high port, host and client keys generated per run) in
 * front of this host's libvirtd. The same operations as on {@code qemu:///system} must work through it.
 *
 * <p>The ssh client is libvirt's default (OpenSSH's {@code ssh}, remote side {@code virt-ssh-helper}, else
 * {@code nc}). libvirt's {@code no_verify=1} makes that client accept and append the host key to
 * {@code ~/.ssh/known_hosts}, and {@code known_hosts=} applies only to the libssh/libssh2 transports, so the URI
 * names, with libvirt's {@code command=} parameter, a per-run script that runs {@code /usr/bin/ssh} against a
 * per-run known_hosts holding the generated host key, strictly checked: nothing outside the temp dir is touched.
 */
@Tag("system")
class RemoteUriIT {
  private static final String PREFIX = "podst-" + UUID.randomUUID().toString().substring(0, 8) + "-ssh-";
  private static final String OWNER = Reaper.ownerLabel(SystemTests.OWNER_PREFIX, PREFIX);
  private static final Path SSHD = Path.of("/usr/sbin/sshd");
  private static final Path PRIVSEP_DIR = Path.of("/run/sshd");
  private static final Path USER_KNOWN_HOSTS = Path.of(System.getProperty("user.home"), ".ssh", "known_hosts");

  private static Path tmp;
  private static Process sshd;
  private static boolean createdPrivsepDir;
  private static byte[] knownHostsBefore;
  private static int port;
  private static String uri;
  private static Acceleration acceleration;
  private static GuestImages.Tiny tiny;
  private static DiskImages disks;
  private LibvirtHypervisor hv;

  @BeforeAll
  static void startSshd() throws Exception {
    LibvirtAvailability.assumeSystem();
    assumeTrue(Files.isExecutable(SSHD),
        SSHD + " is not installed (apt-get install openssh-server, or run scripts/setup-host.sh)");
    Tools.assumeInstalled("ssh", "openssh-client");
    Tools.assumeInstalled("ssh-keygen", "openssh-client");
    tiny = GuestImages.configured().tiny();
    disks = SystemTests.disks();
    try (LibvirtHypervisor local = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      Reaper.reap(local, disks, Reaper.deadProcess(SystemTests.OWNER_PREFIX));
      // the remote side skips the KVM probe (it needs local files) and assumes KVM: pass what works here
      acceleration = local.autoAcceleration();
    }
    knownHostsBefore = Files.exists(USER_KNOWN_HOSTS) ? Files.readAllBytes(USER_KNOWN_HOSTS) : null;

    tmp = Files.createTempDirectory("pods-ssh-it-", PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    // the paths go into an sshd config, a shell script and a URI unquoted
    assertThat(tmp.toString()).matches("[A-Za-z0-9/._-]+");
    keygen(tmp.resolve("host_key"));
    keygen(tmp.resolve("client_key"));
    Files.writeString(tmp.resolve("authorized_keys"),
        "from=\"127.0.0.1\",restrict " + Files.readString(tmp.resolve("client_key.pub")));
    if (!Files.isDirectory(PRIVSEP_DIR)) {
      // sshd's privilege separation directory; systemd creates it on hosts that run the ssh service
      Files.createDirectories(PRIVSEP_DIR);
      createdPrivsepDir = true;
    }
    String why = "";
    for (int attempt = 0; attempt < 3 && sshd == null; attempt++) {
      why = tryStart(freePort());
    }
    assumeTrue(sshd != null, "sshd could not be started on 127.0.0.1: " + why);

    String hostKey = Files.readString(tmp.resolve("host_key.pub")).trim().split(" ")[0] + " "
        + Files.readString(tmp.resolve("host_key.pub")).trim().split(" ")[1];
    Files.writeString(tmp.resolve("known_hosts"), "[127.0.0.1]:" + port + " " + hostKey + "\n");
    Path ssh = tmp.resolve("ssh");
    Files.writeString(ssh, "#!/bin/sh\n"
        + "exec /usr/bin/ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes"
        + " -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null"
        + " -o UserKnownHostsFile=" + tmp.resolve("known_hosts") + " \"$@\"\n");
    Files.setPosixFilePermissions(ssh, PosixFilePermissions.fromString("rwx------"));
    uri = uri(tmp.resolve("client_key"));
  }

  private static String uri(Path key) {
    return "qemu+ssh://root@127.0.0.1:" + port + "/system?keyfile=" + key + "&command=" + tmp.resolve("ssh");
  }

  private static void keygen(Path key) throws Exception {
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pods-remote-it", "-f", key.toString());
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("%s finishes", cmd[0]).isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", cmd), out).isZero();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  /** Starts sshd on {@code p}; sets {@link #sshd} and {@link #port} on success, else returns why not. */
  private static String tryStart(int p) throws Exception {
    Path config = tmp.resolve("sshd_config");
    Path log = tmp.resolve("sshd.log");
    Files.writeString(config, String.join("\n",
        "ListenAddress 127.0.0.1:" + p,
        "HostKey " + tmp.resolve("host_key"),
        "PidFile " + tmp.resolve("sshd.pid"),
        "AuthorizedKeysFile " + tmp.resolve("authorized_keys"),
        "AllowUsers root",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        // the key files live in a 0700 temp dir under the world-writable /tmp, which StrictModes refuses
        "StrictModes no",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "PermitTTY no",
        "PrintMotd no",
        "LogLevel VERBOSE",
        ""));
    Files.deleteIfExists(log);
    Files.deleteIfExists(tmp.resolve("sshd.pid"));
    // -D: stays in the foreground as our child; -E: log to a file (the log shows why a start failed)
    Process p0 = new ProcessBuilder(SSHD.toString(), "-D", "-f", config.toString(), "-E", log.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("sshd.out").toFile()).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      if (!p0.isAlive()) {
        return "sshd exited with " + p0.exitValue() + ": " + readQuietly(log) + readQuietly(tmp.resolve("sshd.out"));
      }
      if (Files.exists(tmp.resolve("sshd.pid")) && accepts(p)) {
        assertThat(Files.readString(tmp.resolve("sshd.pid")).trim()).isEqualTo(Long.toString(p0.pid()));
        sshd = p0;
        port = p;
        return "";
      }
      Thread.sleep(20);
    }
    stop(p0);
    return "sshd did not listen on 127.0.0.1:" + p + " within 10 s: " + readQuietly(log);
  }

  private static boolean accepts(int p) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", p), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String readQuietly(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  /**
   * Ends the per-connection sshd processes that our sshd forked, then our sshd: SIGTERM to each pid (SIGKILL to
   * our sshd if it lingers). Sessions should end with their connections, but LibvirtHypervisor.close() does not
   * end its libvirt connection today (libvirt-java 0.5.4 cannot deregister the reboot callback, which keeps a
   * reference to the connection), so each closed remote hypervisor leaves its ssh session open.
   */
  private static void stop(Process p) throws InterruptedException {
    List<ProcessHandle> sessions = p.descendants().toList();
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (System.nanoTime() < deadline && sessions.stream().anyMatch(ProcessHandle::isAlive)) {
      Thread.sleep(50);
    }
    for (ProcessHandle h : sessions) {
      h.destroy();
    }
    p.destroy();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stopSshd() throws Exception {
    try {
      if (disks != null) {
        try (LibvirtHypervisor local = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
          for (DomainInfo i : local.listAll()) {
            if (i.name().startsWith(PREFIX)) {
              local.undefine(i.name());
            }
          }
          assertThat(local.listAll()).noneMatch(i -> i.name().startsWith(PREFIX));
        }
        SystemTests.deleteInstances(disks, PREFIX);
        assertThat(SystemTests.instancesLeft(disks, PREFIX)).isZero();
      }
    } finally {
      if (sshd != null) {
        long pid = sshd.pid();
        stop(sshd);
        assertThat(sshd.isAlive()).as("sshd %d stopped", pid).isFalse();
      }
      if (tmp != null) {
        DiskImages.deleteTree(tmp);
      }
      if (createdPrivsepDir) {
        try (var s = Files.list(PRIVSEP_DIR)) {
          if (s.findAny().isEmpty()) {
            Files.delete(PRIVSEP_DIR);
          }
        }
      }
    }
    if (knownHostsBefore != null || Files.exists(USER_KNOWN_HOSTS)) {
      assertThat(Files.exists(USER_KNOWN_HOSTS) ? Files.readAllBytes(USER_KNOWN_HOSTS) : null)
          .as("~/.ssh/known_hosts is left alone").isEqualTo(knownHostsBefore);
    }
  }

  @BeforeEach
  void open() {
    hv = LibvirtHypervisor.builder().uri(uri).acceleration(acceleration).build();
  }

  @AfterEach
  void cleanUp() throws Exception {
    try {
      for (DomainInfo i : hv.list(OWNER)) {
        hv.undefine(i.name());
      }
      assertThat(hv.list(OWNER)).isEmpty();
      SystemTests.deleteInstances(disks, PREFIX);
    } finally {
      hv.close();
    }
  }

  private DomainSpec tinySpec(String suffix, Path kernel) {
    String name = PREFIX + suffix;
    return DomainSpec.builder(name)
        .metadata(new DomainMetadata(OWNER, "remote", suffix, 0, "h"))
        .memoryMib(128)
        .boot(DomainBoot.kernel(kernel, tiny.initrd(), tiny.cmdline("")))
        .serialLog(disks.instanceDir(name).resolve("console.log"))
        .build();
  }

  @Test
  void infoReportsTheRemoteUriAndTheSameLibvirtd() {
    HypervisorInfo remote = hv.info();
    assertThat(hv.uri()).isEqualTo(uri);
    assertThat(remote.uri()).isEqualTo(uri).startsWith("qemu+ssh://root@127.0.0.1:" + port + "/system?");
    assertThat(remote.driver()).isEqualTo("QEMU");
    assertThat(remote.acceleration()).isEqualTo(acceleration);
    try (LibvirtHypervisor local = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      assertThat(remote.version()).isEqualTo(local.info().version());
    }
    System.out.printf("remote: %s%n", remote);
  }

  @Test
  void aDomainIsDefinedStartedListedStoppedAndUndefinedOverSsh() throws Exception {
    DomainSpec s = tinySpec("life", tiny.kernel());
    List<HypervisorEvent> events = new CopyOnWriteArrayList<>();
    hv.subscribe(events::add);
    long t0 = System.nanoTime();

    DomainInfo defined = hv.define(s);
    assertThat(defined.state()).isEqualTo(DomainState.SHUT_OFF);
    assertThat(defined.spec().acceleration()).isEqualTo(acceleration);
    assertThat(hv.define(s).spec()).as("define is idempotent remotely too").isEqualTo(defined.spec());
    assertThat(hv.list(OWNER)).extracting(DomainInfo::name).containsExactly(s.name());
    // the same libvirtd, seen without ssh
    try (LibvirtHypervisor local = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      assertThat(local.find(s.name())).map(i -> i.metadata().owner()).contains(OWNER);
    }

    hv.start(s.name());
    hv.start(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.RUNNING);
    assertThat(hv.list(OWNER)).singleElement().satisfies(i -> {
      assertThat(i.name()).isEqualTo(s.name());
      assertThat(i.state()).isEqualTo(DomainState.RUNNING);
    });
    // documented: the console log is a file on the remote host, which this side does not read
    assertThat(hv.consoleOutput(s.name())).isEmpty();

    assertThat(hv.stop(s.name(), Duration.ZERO)).isEqualTo(StopOutcome.FORCED);
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
    assertThat(hv.stop(s.name(), Duration.ZERO)).isEqualTo(StopOutcome.ALREADY_STOPPED);
    hv.undefine(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.MISSING);
    assertThat(hv.list(OWNER)).isEmpty();
    System.out.printf("remote lifecycle: %d ms%n", (System.nanoTime() - t0) / 1_000_000);

    // lifecycle events travel over the ssh connection as well
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<HypervisorEvent.Type> expected = List.of(HypervisorEvent.Type.DEFINED, HypervisorEvent.Type.STARTED,
        HypervisorEvent.Type.STOPPED, HypervisorEvent.Type.UNDEFINED);
    while (System.nanoTime() < deadline && mine(events, s.name()).size() < expected.size()) {
      Thread.sleep(20);
    }
    assertThat(mine(events, s.name())).containsSubsequence(expected);
  }

  private static List<HypervisorEvent.Type> mine(List<HypervisorEvent> events, String name) {
    return events.stream().filter(e -> name.equals(e.domain())).map(HypervisorEvent::type).toList();
  }

  @Test
  void errorsComeBackAsBackendExceptionsWithLibvirtsCode() {
    String missing = PREFIX + "missing";
    assertThat(hv.state(missing)).isEqualTo(DomainState.MISSING);
    assertThat(hv.find(missing)).isEmpty();
    assertThatThrownBy(() -> hv.start(missing))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("start domain '" + missing + "'")
        .satisfies(e -> assertThat(((BackendException) e).code()).isEqualTo(Libvirt.NO_DOMAIN));

    // documented: kernel paths are not checked on this side for a remote URI, so the remote libvirtd's own
    // error comes back through ssh when the domain starts
    Path absent = Path.of("/nonexistent-" + PREFIX + "/vmlinuz");
    DomainSpec s = tinySpec("nokernel", absent);
    hv.define(s);
    assertThatThrownBy(() -> hv.start(s.name()))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("start domain '" + s.name() + "' failed")
        .hasMessageContaining(absent.toString())
        .satisfies(e -> assertThat(((BackendException) e).code()).isPositive())
        .satisfies(e -> assertThat(e.getCause()).isInstanceOf(org.libvirt.LibvirtException.class));
    assertThat(hv.state(s.name())).isEqualTo(DomainState.SHUT_OFF);
    hv.undefine(s.name());
    assertThat(hv.state(s.name())).isEqualTo(DomainState.MISSING);
  }

  @Test
  void aKeyThatSshdDoesNotAcceptFailsToConnectWithABackendException() throws Exception {
    Path stranger = tmp.resolve("stranger_key");
    keygen(stranger);
    String bad = uri(stranger);
    assertThatThrownBy(() -> LibvirtHypervisor.connect(bad))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("connect " + bad)
        .hasMessageContaining("Permission denied (publickey)")
        .satisfies(e -> assertThat(((BackendException) e).code()).isPositive());
    // the good key still works after the refusal
    assertThat(hv.info().uri()).isEqualTo(uri);
  }
}
