package dev.pods.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The processes an agent spawned, read from an {@code strace -f -ttt -e trace=process} log of it (every fork,
 * vfork and clone of the agent and of its children, with its wall-clock time). Pure; immutable.
 */
final class ForkCount {
  private static final Pattern SPAWN =
      Pattern.compile("^\\d+\\s+(\\d+\\.\\d+)\\s+(?:<\\.\\.\\.\\s+)?(?:clone3?|v?fork)\\b.*=\\s+(\\d+)\\s*$");

  private final List<Instant> spawns;

  private ForkCount(List<Instant> spawns) {
    this.spawns = List.copyOf(spawns);
  }

  /** The strace command line prefix that writes such a log to {@code log}. */
  static List<String> straceTo(Path log) {
    return List.of("strace", "-f", "-qq", "-ttt", "-e", "trace=fork,vfork,clone,clone3", "-e", "signal=none",
        "-o", log.toString());
  }

  static ForkCount read(Path log) throws IOException {
    List<Instant> out = new ArrayList<>();
    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      Matcher m = SPAWN.matcher(line);
      if (m.find() && Long.parseLong(m.group(2)) > 0) {
        String[] t = m.group(1).split("\\.");
        out.add(Instant.ofEpochSecond(Long.parseLong(t[0]), Long.parseLong((t[1] + "000000000").substring(0, 9))));
      }
    }
    return new ForkCount(out);
  }

  /** How many processes were spawned in [from, to). */
  long between(Instant from, Instant to) {
    return spawns.stream().filter(t -> !t.isBefore(from) && t.isBefore(to)).count();
  }

  long total() {
    return spawns.size();
  }
}
