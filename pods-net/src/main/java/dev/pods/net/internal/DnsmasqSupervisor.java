package dev.pods.net.internal;

import dev.pods.spi.NetworkSpec;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.ToIntFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts, finds, checks and ends the dnsmasq of each instance (DHCP, and the resolver when the spec asks for one).
 * dnsmasq runs in the instance's namespace and writes its pid file, {@code dnsmasq.pid}, into the instance's state
 * folder once it is bound; its output goes to {@code dnsmasq.out} there. A pid counts as the instance's dnsmasq only
 * while that process lives in the instance's namespace (or, for one left in a deleted namespace, while its command
 * line names that pid file), so a reused pid is never signalled.
 *
 * <p>Thread-safe; callers serialise the calls for one instance. Every call blocks.
 */
public final class DnsmasqSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(DnsmasqSupervisor.class);

  private final String dnsmasq;
  private final Duration timeout;
  private final RecordStore records;
  private final ToIntFunction<NetworkSpec> mtu;

  /** Runs {@code dnsmasq} (a command or a path) for the instances of {@code records}; waits up to {@code timeout}. */
  public DnsmasqSupervisor(String dnsmasq, Duration timeout, RecordStore records) {
    this(dnsmasq, timeout, records, s -> 0);
  }

  /**
   * The same, handing each instance's VM the MTU {@code mtu} gives for its spec (0: none, the VM keeps its own).
   */
  public DnsmasqSupervisor(String dnsmasq, Duration timeout, RecordStore records, ToIntFunction<NetworkSpec> mtu) {
    this.dnsmasq = dnsmasq;
    this.timeout = timeout;
    this.records = records;
    this.mtu = mtu;
  }

  /**
   * Starts dnsmasq for {@code spec} in the calling thread's namespace (writing its hosts file first) and returns the
   * process without waiting; {@link #await} waits until it is bound.
   */
  public Process start(NetworkSpec spec) throws IOException {
    Path dir = records.dir(spec.instanceId());
    ResolverHosts.write(spec, dir);
    Files.deleteIfExists(dir.resolve("dnsmasq.pid"));
    return new ProcessBuilder(Programs.dnsmasq(dnsmasq, spec, dir, mtu.applyAsInt(spec)))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("dnsmasq.out").toFile()))
        .start();
  }

  /** Waits until dnsmasq has written its pid file (it is then bound), failing if it exits first. */
  public void await(Process p, String id) throws IOException, InterruptedException {
    Path dir = records.dir(id);
    Path pid = dir.resolve("dnsmasq.pid");
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!Files.exists(pid)) {
      if (!p.isAlive()) {
        String out = Files.exists(dir.resolve("dnsmasq.out"))
            ? Files.readString(dir.resolve("dnsmasq.out"), StandardCharsets.UTF_8).strip() : "";
        throw new IOException("dnsmasq for instance '" + id + "' exited " + p.exitValue() + ": " + out);
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("dnsmasq for instance '" + id + "' did not start within " + timeout);
      }
      Thread.sleep(1);
    }
  }

  /** Starts dnsmasq in the instance's namespace and waits until it is bound. */
  public void startIn(InstanceRecord r) throws Exception {
    Process p = Netns.call(Netns.path(r.names().namespace()), () -> start(r.spec()));
    await(p, r.id());
  }

  /** The pid of the instance's dnsmasq, when it is alive in the instance's namespace; otherwise null. */
  public @Nullable Long pid(InstanceRecord r) {
    try {
      String text = Files.readString(records.dir(r.id()).resolve("dnsmasq.pid")).strip();
      long pid = Long.parseLong(text);
      return Processes.aliveIn(pid, Netns.inode(r.names().namespace())) ? pid : null;
    } catch (IOException | NumberFormatException e) {
      return null;
    }
  }

  /**
   * The pid of the instance's dnsmasq by its pid file alone, when that process is alive and is that dnsmasq: for one
   * left running in a namespace that was deleted by hand.
   */
  public @Nullable Long orphan(String id) {
    Path pidFile = records.dir(id).resolve("dnsmasq.pid");
    try {
      long pid = Long.parseLong(Files.readString(pidFile).strip());
      String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
      return cmdline.contains("--pid-file=" + pidFile) ? pid : null;
    } catch (IOException | NumberFormatException e) {
      return null;
    }
  }

  /** Starts the instance's dnsmasq again when it is not running. */
  public void ensure(InstanceRecord r) throws Exception {
    if (pid(r) == null) {
      LOG.warn("dnsmasq of instance '{}' is not running; starting it again", r.id());
      startIn(r);
    }
  }

  /** Ends the instance's dnsmasq (SIGTERM, then SIGKILL after 2 s), if it runs. */
  public void stop(InstanceRecord r) throws InterruptedException {
    Long pid = pid(r);
    if (pid != null) {
      Processes.end(List.of(pid), Duration.ofSeconds(2));
    }
  }

  /** Ends a dnsmasq left running in the instance's deleted namespace, if there is one. */
  public void endOrphan(String id) throws InterruptedException {
    Long orphan = orphan(id);
    if (orphan != null) {
      LOG.warn("network of instance '{}': ending dnsmasq {} left in its deleted namespace", id, orphan);
      Processes.end(List.of(orphan), Duration.ofSeconds(2));
    }
  }

  /** Sends the instance's running dnsmasq SIGHUP; false when none runs. */
  public boolean hangUp(InstanceRecord r) throws IOException {
    Long pid = pid(r);
    if (pid == null) {
      return false;
    }
    Processes.hangUp(pid);
    return true;
  }
}
