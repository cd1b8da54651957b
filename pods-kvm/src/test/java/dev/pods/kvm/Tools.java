package dev.pods.kvm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Skips a test (with the reason) when a host tool it runs is not installed. */
final class Tools {
  private Tools() {}

  static void assumeInstalled(String tool, String debianPackage) {
    boolean found = false;
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        found = true;
        break;
      }
    }
    assumeTrue(found, tool + " is not installed (apt-get install " + debianPackage + ")");
  }
}
