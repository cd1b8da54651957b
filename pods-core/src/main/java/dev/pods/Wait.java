package dev.pods;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What {@link Instance#await} and {@link Deployment#await} wait for, in the spirit of Testcontainers' wait
 * strategies. Immutable values; build them with the factories.
 *
 * <pre>{@code
 * d.await(Wait.forPhase(Phase.INITIAL), Duration.ofMinutes(2));           // every instance initialised
 * web.await(Wait.allOf(Wait.forOutput("httpd up"), Wait.forPort(80)), Duration.ofSeconds(30));
 * web.restart();
 * web.await(Wait.forPhase(Phase.REBOOT), Duration.ofMinutes(1));          // the new boot's run finished OK
 * }</pre>
 *
 * <p><b>Meaning of each condition</b> (for one instance):
 * <ul>
 *   <li>{@link #forPhase forPhase(INITIAL)}: the run of the instance's first boot (every block) finished
 *       successfully, at any time since the runtime created the instance. A later restart does not undo it.
 *   <li>{@link #forPhase forPhase(REBOOT)}: the run of the instance's <em>current</em> boot (the first boot, or
 *       the boot after the latest {@link Instance#restart()} or guest reboot) finished successfully. Phases are
 *       cumulative, so before any restart this is the same as {@code INITIAL}; after {@code restart()} returns it
 *       holds only once the new boot's {@code reboot} and {@code reload} blocks ran. (After a reboot the guest
 *       did by itself, the condition turns false when the agent reports the new boot's run.)
 *   <li>{@link #forPhase forPhase(RELOAD)}: the instance's reload blocks ran successfully for its current cluster
 *       state: the current boot's run finished OK, and the latest successful run (of any trigger: every trigger
 *       runs the {@code reload} blocks) was served the state hash the instance's metadata service serves now.
 *       After a change of peers it holds once the reload for the new state finished.
 *   <li>{@link #forOutput}: a line printed by a phase block matches the regular expression
 *       ({@link java.util.regex.Matcher#find()}); lines printed before the wait began count, since the runtime
 *       created the instance (the runtime keeps the last {@value #OUTPUT_HISTORY} lines of each instance).
 *   <li>{@link #forPort}: a TCP connection to the VM's private address and that port, opened from inside the
 *       instance's network namespace, succeeds (it is closed at once). Tried at most every
 *       {@value #PORT_RETRY_MILLIS} ms; the other conditions are event-driven and never poll the guest.
 *   <li>{@link #allOf}: each part held at some moment during the wait (once met, a part stays met).
 * </ul>
 *
 * <p>A wait fails at once, without waiting for its timeout, when the instance is or becomes
 * {@link InstanceState#FAILED} or {@link InstanceState#DESTROYED}, and when the reload it waits for failed.
 *
 * @since 0.1
 */
public sealed interface Wait {

  /** How many output lines per instance {@link #forOutput} looks back on. */
  int OUTPUT_HISTORY = 10_000;

  /** The least interval between two connection attempts of {@link #forPort}. */
  long PORT_RETRY_MILLIS = 500;

  /** What is waited for, for messages: {@code phase reboot}, {@code output /httpd up/}, {@code port 80}. */
  String describe();

  /** See the type's description. */
  static Wait forPhase(Phase phase) {
    return new ForPhase(phase);
  }

  /**
   * See the type's description.
   *
   * @throws IllegalArgumentException when {@code regex} is not a valid regular expression
   */
  static Wait forOutput(String regex) {
    return forOutput(regex, 1);
  }

  /**
   * At least {@code times} phase output lines matching {@code regex} (e.g. 2 to see a block's line again after a
   * restart); otherwise as {@link #forOutput(String)}.
   *
   * @throws IllegalArgumentException when {@code regex} is not a valid regular expression or {@code times < 1}
   */
  static Wait forOutput(String regex, int times) {
    Objects.requireNonNull(regex, "regex");
    try {
      return new ForOutput(Pattern.compile(regex), times);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("not a regular expression: " + regex + ": " + e.getDescription(), e);
    }
  }

  /**
   * See the type's description.
   *
   * @throws IllegalArgumentException unless {@code 1 <= port <= 65535}
   */
  static Wait forPort(int port) {
    return new ForPort(port);
  }

  /**
   * Every one of {@code waits}; see the type's description.
   *
   * @throws IllegalArgumentException when {@code waits} is empty
   */
  static Wait allOf(Wait... waits) {
    return new AllOf(List.of(waits));
  }

  /** {@link #forPhase}. */
  record ForPhase(Phase phase) implements Wait {
    /** Validates. */
    public ForPhase {
      Objects.requireNonNull(phase, "phase");
    }

    @Override
    public String describe() {
      return "phase " + phase.id();
    }
  }

  /** {@link #forOutput(String, int)}. */
  record ForOutput(Pattern pattern, int times) implements Wait {
    /** Validates. */
    public ForOutput {
      Objects.requireNonNull(pattern, "pattern");
      if (times < 1) {
        throw new IllegalArgumentException("times must be at least 1, not " + times);
      }
    }

    @Override
    public String describe() {
      return "output /" + pattern.pattern() + "/" + (times == 1 ? "" : " " + times + " times");
    }
  }

  /** {@link #forPort}. */
  record ForPort(int port) implements Wait {
    /** Validates. */
    public ForPort {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port must be in 1..65535, not " + port);
      }
    }

    @Override
    public String describe() {
      return "port " + port;
    }
  }

  /** {@link #allOf}. */
  record AllOf(List<Wait> waits) implements Wait {
    /** Copies and validates. */
    public AllOf {
      waits = List.copyOf(waits);
      if (waits.isEmpty()) {
        throw new IllegalArgumentException("allOf needs at least one wait");
      }
    }

    @Override
    public String describe() {
      return String.join(" and ", waits.stream().map(Wait::describe).toList());
    }
  }
}
