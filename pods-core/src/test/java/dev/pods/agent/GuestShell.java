package dev.pods.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shells the agent tests run the real agent under, each with a hermetic tool directory first on PATH, so
 * the busybox run uses busybox's applets only (wget, sed, awk, timeout...) like the tiny guest, and the dash run
 * uses dash as {@code sh} with the host's coreutils and curl.
 */
enum GuestShell {
  /** busybox ash, busybox applets only, busybox wget. */
  BUSYBOX("/usr/bin/busybox"),
  /** dash as sh, GNU tools, curl (and bash for {@code shell} blocks). */
  DASH("/usr/bin/dash");

  private final String binary;

  GuestShell(String binary) {
    this.binary = binary;
  }

  boolean available() {
    return Files.isExecutable(Path.of(binary)) && Files.isExecutable(Path.of("/usr/bin/python3"));
  }

  /** The command that runs a script under this shell. */
  List<String> command() {
    return this == BUSYBOX ? List.of(binary, "sh") : List.of(binary);
  }

  /** The agent's own {@code shell} setting. */
  String shellSetting() {
    return String.join(" ", command());
  }

  String http() {
    return this == BUSYBOX ? "wget" : "curl";
  }

  /** Fills {@code bin} with this shell's tools and returns the PATH to use. */
  String preparePath(Path bin) throws IOException, InterruptedException {
    Files.createDirectories(bin);
    Path python = Path.of("/usr/bin/python3").toRealPath();
    Files.createSymbolicLink(bin.resolve("python3"), python);
    if (this == DASH) {
      Files.createSymbolicLink(bin.resolve("sh"), Path.of(binary));
      return bin + ":/usr/bin:/bin";
    }
    Process p = new ProcessBuilder(binary, "--list").redirectErrorStream(true).start();
    List<String> applets = new ArrayList<>();
    try (var in = p.getInputStream()) {
      for (String a : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
        if (!a.isBlank() && !a.contains("/") && !a.equals("python3")) {
          applets.add(a.trim());
        }
      }
    }
    p.waitFor(10, TimeUnit.SECONDS);
    for (String a : applets) {
      Files.createSymbolicLink(bin.resolve(a), Path.of(binary));
    }
    return bin.toString();
  }
}
