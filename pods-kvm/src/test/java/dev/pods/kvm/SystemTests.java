package dev.pods.kvm;

import dev.pods.spi.Hypervisor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

/** Shared set-up of the tests that boot real guests. */
final class SystemTests {
  /** Test disks: shared base cache, per-domain instance folders. Traversable by libvirt's qemu user. */
  static final Path ROOT = Path.of(System.getProperty("pods.test.dir", "/var/lib/pods/test"));
  /** Owner labels of test domains start with this, followed by the JVM's pid. */
  static final String OWNER_PREFIX = "podst-owner-";

  private SystemTests() {}

  static DiskImages disks() {
    return DiskImages.at(ROOT);
  }

  /** Waits until the console log contains {@code text}; returns the whole log. */
  static String awaitConsole(Hypervisor hv, String domain, String text, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String out = "";
    while (System.nanoTime() < deadline) {
      out = hv.consoleOutput(domain);
      if (out.contains(text)) {
        return out;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("console of " + domain + " did not show '" + text + "' within " + timeout
        + "; it shows:\n" + out);
  }

  /** Counts occurrences of {@code text} in {@code s}. */
  static int count(String s, String text) {
    int n = 0;
    for (int i = s.indexOf(text); i >= 0; i = s.indexOf(text, i + 1)) {
      n++;
    }
    return n;
  }

  /** Deletes every instance folder whose (encoded) name starts with the encoded prefix. */
  static void deleteInstances(DiskImages disks, String prefix) throws IOException {
    Path dir = disks.root().resolve("instances");
    if (!Files.isDirectory(dir)) {
      return;
    }
    String enc = DiskImages.encode(prefix);
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith(enc)).toList()) {
        DiskImages.deleteTree(p);
      }
    }
  }

  /** Instance folders left with the prefix. */
  static long instancesLeft(DiskImages disks, String prefix) throws IOException {
    Path dir = disks.root().resolve("instances");
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    String enc = DiskImages.encode(prefix);
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(enc)).count();
    }
  }
}
