package dev.pods.runtime;

import dev.pods.BootImage;
import dev.pods.PodRuntime;
import dev.pods.spi.Hypervisor;
import dev.pods.spi.NetworkDriver;
import dev.pods.testing.DirectoryInstanceFiles;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * What the runtime tests on the fakes share: stand-in boot files, and a runtime builder with their usual settings
 * (instance files in {@code <dir>/instances}, state in {@code <dir>/state}, names starting with {@code t-}, metadata
 * services on an ephemeral loopback port), which a test overrides or adds to (executor, clock, owner...).
 */
final class FakeRuntimes {
  private FakeRuntimes() {}

  /** A kernel and initrd that the in-memory hypervisor "boots", written in {@code dir}. */
  static BootImage bootImage(Path dir) throws IOException {
    return BootImage.kernel(Files.writeString(dir.resolve("vmlinuz"), "k"),
        Files.writeString(dir.resolve("initrd"), "i"), "console=ttyS0");
  }

  /** A builder on {@code hv} and {@code net} booting every image from {@code image}, its files under {@code dir}. */
  static PodRuntime.Builder builder(Path dir, Hypervisor hv, NetworkDriver net, BootImage image) {
    return PodRuntime.builder()
        .hypervisor(hv)
        .networkDriver(net)
        .instanceFiles(new DirectoryInstanceFiles(dir.resolve("instances")))
        .images(name -> image)
        .stateDir(dir.resolve("state"))
        .namePrefix("t-")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  /** An executor that queues what the runtime hands it, for the test to run when it chooses. Thread-safe. */
  static final class Tasks implements Executor {
    private final List<Runnable> queued = new ArrayList<>();

    @Override
    public synchronized void execute(Runnable task) {
      queued.add(task);
    }

    /** Runs the queued tasks, and those they queue, until none is left. */
    void runAll() {
      while (true) {
        List<Runnable> now;
        synchronized (this) {
          if (queued.isEmpty()) {
            return;
          }
          now = List.copyOf(queued);
          queued.clear();
        }
        now.forEach(Runnable::run);
      }
    }
  }
}
