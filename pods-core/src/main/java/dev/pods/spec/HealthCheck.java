package dev.pods.spec;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A health check declared by a unit, run against each of its READY instances, as Kubernetes' probes: a
 * <em>readiness</em> check ({@code Unit.Builder.readinessCheck}, template key {@code readiness}) that fails
 * {@link #failures} times in a row makes the instance {@code UNHEALTHY}, so its peers drop it from their views (they
 * run {@code reload}), from their firewall rules and from the pod's DNS names, until one run passes again; a
 * <em>liveness</em> check ({@code Unit.Builder.livenessCheck}, template key {@code liveness}) that fails
 * {@link #failures} times in a row is a failure of the instance: its domain is powered off and its unit's restart
 * policy starts it again (under {@code restart: never} it stays {@code UNHEALTHY} until the check passes).
 *
 * <p>Kinds: {@link Kind#TCP} passes when a TCP connection to {@link #port} of the instance's private address opens;
 * {@link Kind#HTTP} when a {@code GET} of {@link #path} on {@link #port} answers a status from 200 to 399; both are
 * made by the host from the instance's own network namespace (no guest cooperation). {@link Kind#EXEC} runs {@link #command} in the guest through its agent and passes when it exits 0.
 * A run that does not end within {@link #timeout} fails; an exec check's answer, which comes through the guest's
 * agent, may take {@link #EXEC_ROUND_TRIP} more. Checks run every {@link #interval}, the first one
 * {@link #grace} after the instance's boot phase (initial or reboot) finished; they do not run while the instance
 * boots or is stopped. Immutable and thread-safe.
 *
 * @param kind what is checked
 * @param command the command of an {@link Kind#EXEC} check (not empty); empty for the other kinds
 * @param port the port of a {@link Kind#TCP} or {@link Kind#HTTP} check, 1-65535; 0 for {@link Kind#EXEC}
 * @param path the path of an {@link Kind#HTTP} check, starting with {@code /}, no spaces or control characters;
 *     empty for the other kinds
 * @param interval the time between runs: whole seconds, 1 s to 1 h
 * @param timeout how long one run may take: whole seconds, 1 s to {@code interval}
 * @param failures the failed runs in a row that make the check fail, 1-100
 * @param grace the time after the boot phase before the first run: whole seconds, 0 to 1 h
 */
public record HealthCheck(Kind kind, List<String> command, int port, String path, Duration interval,
    Duration timeout, int failures, Duration grace) {

  /** The default {@link #interval}: 10 s. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
  /** The default {@link #timeout}: 5 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  /** The default {@link #failures}: 3. */
  public static final int DEFAULT_FAILURES = 3;
  /** How much longer than its {@link #timeout} an exec check's answer may take to come back through the agent. */
  public static final Duration EXEC_ROUND_TRIP = Duration.ofSeconds(5);
  /** The longest {@link #interval} and {@link #grace}. */
  public static final Duration MAX_TIME = Duration.ofHours(1);
  /** The most {@link #failures}. */
  public static final int MAX_FAILURES = 100;

  /** What a check runs. */
  public enum Kind {
    /** A command in the guest, through its agent (template key {@code exec}). */
    EXEC,
    /** A TCP connection from the instance's namespace (template key {@code tcp}). */
    TCP,
    /** An HTTP GET from the instance's namespace (template key {@code http}). */
    HTTP
  }

  /**
   * Validates and copies.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public HealthCheck {
    Objects.requireNonNull(kind, "kind");
    command = List.copyOf(command);
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(grace, "grace");
    switch (kind) {
      case EXEC -> {
        if (command.isEmpty() || command.get(0).isEmpty()) {
          throw new IllegalArgumentException("an exec check needs a command");
        }
        if (port != 0 || !path.isEmpty()) {
          throw new IllegalArgumentException("an exec check has no port or path");
        }
      }
      case TCP, HTTP -> {
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException("the port of a " + kind.name().toLowerCase(java.util.Locale.ROOT)
              + " check is 1-65535, not " + port);
        }
        if (!command.isEmpty()) {
          throw new IllegalArgumentException("only an exec check has a command");
        }
        if (kind == Kind.TCP && !path.isEmpty()) {
          throw new IllegalArgumentException("a tcp check has no path");
        }
        if (kind == Kind.HTTP && !validPath(path)) {
          throw new IllegalArgumentException("the path of an http check starts with / and has no spaces or control"
              + " characters, not '" + path + "'");
        }
      }
    }
    if (!seconds(interval) || interval.isZero() || interval.compareTo(MAX_TIME) > 0) {
      throw new IllegalArgumentException("interval is whole seconds from 1 s to 1 h, not " + text(interval));
    }
    if (!seconds(timeout) || timeout.isZero() || timeout.compareTo(interval) > 0) {
      throw new IllegalArgumentException("timeout is whole seconds from 1 s to the interval (" + text(interval)
          + "), not " + text(timeout));
    }
    if (failures < 1 || failures > MAX_FAILURES) {
      throw new IllegalArgumentException("failures is 1-" + MAX_FAILURES + ", not " + failures);
    }
    if (!seconds(grace) || grace.isNegative() || grace.compareTo(MAX_TIME) > 0) {
      throw new IllegalArgumentException("grace is whole seconds from 0 s to 1 h, not " + text(grace));
    }
  }

  /** An exec check of {@code command} (run in the guest by its agent), with the defaults. */
  public static HealthCheck exec(String... command) {
    return new HealthCheck(Kind.EXEC, List.of(command), 0, "", DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_FAILURES,
        Duration.ZERO);
  }

  /** A TCP check of {@code port}, with the defaults. */
  public static HealthCheck tcp(int port) {
    return new HealthCheck(Kind.TCP, List.of(), port, "", DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_FAILURES,
        Duration.ZERO);
  }

  /** An HTTP GET check of {@code path} on {@code port}, with the defaults. */
  public static HealthCheck http(String path, int port) {
    return new HealthCheck(Kind.HTTP, List.of(), port, path, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_FAILURES,
        Duration.ZERO);
  }

  /** This check run every {@code newInterval}; a timeout longer than the new interval is shortened to it. */
  public HealthCheck interval(Duration newInterval) {
    Objects.requireNonNull(newInterval, "newInterval");
    return new HealthCheck(kind, command, port, path, newInterval,
        timeout.compareTo(newInterval) > 0 && !newInterval.isZero() && !newInterval.isNegative() ? newInterval
            : timeout, failures, grace);
  }

  /** This check with runs limited to {@code newTimeout}. */
  public HealthCheck timeout(Duration newTimeout) {
    return new HealthCheck(kind, command, port, path, interval, newTimeout, failures, grace);
  }

  /** This check failing after {@code newFailures} failed runs in a row. */
  public HealthCheck failures(int newFailures) {
    return new HealthCheck(kind, command, port, path, interval, timeout, newFailures, grace);
  }

  /** This check first run {@code newGrace} after the boot phase. */
  public HealthCheck grace(Duration newGrace) {
    return new HealthCheck(kind, command, port, path, interval, timeout, failures, newGrace);
  }

  /** What is checked, for messages: {@code tcp port 22}, {@code http GET /healthz on port 80}, {@code exec [..]}. */
  public String describe() {
    return switch (kind) {
      case EXEC -> "exec " + command;
      case TCP -> "tcp port " + port;
      case HTTP -> "http GET " + path + " on port " + port;
    };
  }

  private static boolean validPath(String p) {
    if (!p.startsWith("/") || p.length() > 1024) {
      return false;
    }
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c <= ' ' || c == 0x7f) {
        return false;
      }
    }
    return true;
  }

  private static boolean seconds(Duration d) {
    return d.getNano() == 0;
  }

  private static String text(Duration d) {
    return d.getNano() == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
