package dev.pods.junit;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The owner label of one test run: {@code pods-junit-<pid>-<start>-<prefix>}, where {@code pid} and {@code start}
 * (the JVM's start, epoch milliseconds, as {@link ProcessHandle.Info#startInstant()} reports it) identify the JVM,
 * and {@code prefix} is the run's name prefix. A later run reaps what a label owns when that JVM is gone: no live
 * process has the pid, or the process that has it started at another time (the pid was reused). A label of a live
 * JVM, or any other label, is never considered dead. Immutable.
 *
 * @param pid the run's JVM
 * @param startMillis the JVM's start, epoch milliseconds (0 when the platform does not say)
 * @param prefix the run's name prefix
 */
record RunOwner(long pid, long startMillis, String prefix) {
  static final String LABEL_PREFIX = "pods-junit-";
  private static final Pattern LABEL = Pattern.compile("pods-junit-(\\d+)-(\\d+)-([a-z][a-z0-9]{0,11})");

  RunOwner {
    Objects.requireNonNull(prefix, "prefix");
  }

  /** This JVM's label for a run with {@code prefix}. */
  static RunOwner current(String prefix) {
    ProcessHandle me = ProcessHandle.current();
    return new RunOwner(me.pid(), startMillis(me), prefix);
  }

  private static long startMillis(ProcessHandle p) {
    return p.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
  }

  /** Parses a label; empty when it is not a run label. */
  static Optional<RunOwner> parse(String label) {
    Matcher m = LABEL.matcher(label);
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new RunOwner(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), m.group(3)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Whether the label names a run label of a JVM that is gone. */
  static boolean isDeadLabel(String label) {
    return parse(label).map(RunOwner::isDead).orElse(false);
  }

  /** The label. */
  String label() {
    return LABEL_PREFIX + pid + "-" + startMillis + "-" + prefix;
  }

  /** Whether the JVM of this run is gone (pid free, or reused by a process that started at another time). */
  boolean isDead() {
    Optional<ProcessHandle> p = ProcessHandle.of(pid);
    if (p.isEmpty() || !p.get().isAlive()) {
      return true;
    }
    long started = startMillis(p.get());
    return started != 0 && startMillis != 0 && started != startMillis;
  }
}
