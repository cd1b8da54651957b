package dev.pods.cli;

import dev.pods.internal.SafeText;
import dev.pods.InstanceState;
import dev.pods.PodEvent;
import dev.pods.OutputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What {@code pods up} prints: one line per event (state changes, phase start and end, each output line),
 * prefixed by the instance's name, and the same lines with a time stamp in the pod's log file (which
 * {@code pods logs} reads). On a terminal the instance names are coloured and a status line at the bottom shows
 * the long steps under way (an image build, instances booting, phases running) with their elapsed time; elsewhere
 * nothing but plain lines is written. Control characters in guest output and in messages (escape sequences,
 * {@code \r}, newlines) are printed escaped ({@link SafeText#outputLine}), lines cut after
 * {@value #MAX_LINE_CHARS} characters with a count.
 *
 * <p>Thread-safe: every method is synchronized (events come on the deployment's event thread, messages from the
 * main and control threads, redraws from the ticker). {@link #close()} stops the ticker and closes the log file.
 */
final class EventPrinter implements AutoCloseable {
  private static final String[] COLOURS = {"36", "35", "33", "32", "34", "31"};
  private static final String RESET = "\033[0m";
  /** The longest line printed, in characters; the rest is cut with a count. */
  static final int MAX_LINE_CHARS = 8000;

  private final PrintStream out;
  private final boolean tty;
  private final @Nullable BufferedWriter log;
  private final Supplier<Instant> clock;
  private final Map<String, String> colours = new LinkedHashMap<>();
  private final Map<String, Step> steps = new LinkedHashMap<>();
  private @Nullable Step global;
  private boolean statusShown;
  private String shownStatus = "";
  private final @Nullable Thread ticker;
  private volatile boolean closed;

  /** A long step under way: what, since when. */
  private record Step(String what, Instant since) {}

  /**
   * @param out where lines go
   * @param tty whether {@code out} is a terminal: colours and the status line
   * @param logFile the pod's log file (started afresh), or {@code null}
   */
  EventPrinter(PrintStream out, boolean tty, @Nullable Path logFile, Supplier<Instant> clock) throws IOException {
    this.out = out;
    this.tty = tty;
    this.clock = clock;
    if (logFile != null) {
      Files.createDirectories(logFile.getParent());
      this.log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } else {
      this.log = null;
    }
    if (tty) {
      ticker = new Thread(this::tick, "pods-status");
      ticker.setDaemon(true);
      ticker.start();
    } else {
      ticker = null;
    }
  }

  private void tick() {
    while (!closed) {
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        return;
      }
      synchronized (this) {
        if (!closed && !status().equals(shownStatus)) {
          drawStatus();
        }
      }
    }
  }

  /** A message of {@code pods up} itself (not about one instance). */
  synchronized void say(String message) {
    line("pods", message, null);
  }

  /** Starts a long step not tied to an instance (an image build), shown on the status line with its elapsed time. */
  synchronized void begin(String what) {
    global = new Step(what, clock.get());
    say(what + "...");
  }

  /** Ends the step begun by {@link #begin}, saying how long it took. */
  synchronized void end(String result) {
    Step s = global;
    global = null;
    say(result + (s == null ? "" : " (" + seconds(Duration.between(s.since(), clock.get())) + ")"));
  }

  /** Prints an event (and tracks the long steps it starts and ends). */
  synchronized void event(PodEvent e) {
    String i = e.instance();
    if (e instanceof PodEvent.StateChanged s) {
      String text = s.from().name().toLowerCase(Locale.ROOT) + " -> " + s.to().name().toLowerCase(Locale.ROOT)
          + (s.reason() == null ? "" : ": " + s.reason());
      switch (s.to()) {
        case CREATING -> steps.put(i, new Step("creating", e.at()));
        case BOOTING -> steps.put(i, new Step("booting", e.at()));
        case INITIALIZING -> steps.put(i, new Step("initial phase", e.at()));
        default -> steps.remove(i);
      }
      line(i, "state " + text, s.to() == InstanceState.FAILED ? "31"
          : s.to() == InstanceState.STOPPED || s.to() == InstanceState.UNHEALTHY ? "33" : null);
    } else if (e instanceof PodEvent.PhaseStarted p) {
      if (!steps.containsKey(i) || !steps.get(i).what().equals("initial phase")) {
        steps.put(i, new Step(trigger(p.trigger()) + " phase", e.at()));
      }
      line(i, "phase " + trigger(p.trigger()) + " started (run " + p.run() + ")", null);
    } else if (e instanceof PodEvent.PhaseFinished f) {
      Step st = steps.get(i);
      if (st != null && st.what().endsWith(" phase")) {
        steps.remove(i);
      }
      line(i, "phase " + trigger(f.trigger()) + (f.ok() ? " ok" : " FAILED in block " + f.failedBlock()
          + " (exit " + f.exitCode() + ")") + " in " + seconds(f.duration()), f.ok() ? null : "31");
    } else if (e instanceof PodEvent.OutputLine o) {
      line(i, (o.stream() == OutputStream.STDERR ? "! " : "| ") + o.line(), null);
    } else if (e instanceof PodEvent.ExecFinished x) {
      line(i, "exec " + String.join(" ", x.argv()) + " -> exit " + x.result().exitCode(), null);
    } else if (e instanceof PodEvent.JournalLine j) {
      line(i, journalPrefix(j.key()) + j.line(), null);
    } else if (e instanceof PodEvent.JournalDropped j) {
      line(i, journalPrefix(j.key()) + j.count() + " lines dropped by the guest (the host was too slow)", "31");
    } else if (e instanceof PodEvent.EventsDropped d) {
      line(i, d.count() + " events dropped (the terminal is too slow)", "31");
    } else if (e instanceof PodEvent.Placed p) {
      line(i, "placement: " + p.why(),
          p.node() == null ? "33" : null);
    }
  }

  /** How a journal input's lines start in the output and the log: {@code journal[KEY] }. */
  static String journalPrefix(String key) {
    return "journal[" + key + "] ";
  }

  private static String trigger(dev.pods.Trigger t) {
    return switch (t) {
      case FIRST_BOOT -> "initial";
      case REBOOT -> "reboot";
      case CLUSTER_CHANGE -> "reload";
    };
  }

  static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  private void line(String rawWho, String rawText, @Nullable String colour) {
    // guest output and template text may hold escape sequences, carriage returns or newlines: shown, not obeyed
    String who = SafeText.oneLine(rawWho, 64);
    String text = SafeText.outputLine(rawText, MAX_LINE_CHARS);
    if (log != null) {
      try {
        log.write(clock.get() + " " + who + " " + text + "\n");
        log.flush();
      } catch (IOException e) {
        // the terminal still shows it; the log file is best effort
      }
    }
    String name = String.format(Locale.ROOT, "%-6s", who);
    if (tty) {
      clearStatus();
      String c = colours.computeIfAbsent(who, k -> who.equals("pods") ? "1" : COLOURS[colours.size() % COLOURS.length]);
      out.print("\033[" + c + "m" + name + RESET + " " + (colour == null ? text : "\033[" + colour + "m" + text + RESET)
          + "\n");
      drawStatus();
    } else {
      out.print(name + " " + text + "\n");
    }
    out.flush();
  }

  private void clearStatus() {
    if (statusShown) {
      out.print("\r\033[K");
      statusShown = false;
    }
  }

  /** The status line's text: every long step under way with its elapsed seconds. */
  private String status() {
    Instant now = clock.get();
    StringJoiner j = new StringJoiner("  ");
    if (global != null) {
      j.add(global.what() + " " + whole(Duration.between(global.since(), now)));
    }
    steps.forEach((i, s) -> j.add(i + " " + s.what() + " " + whole(Duration.between(s.since(), now))));
    return j.toString();
  }

  private void drawStatus() {
    if (!tty) {
      return;
    }
    String text = status();
    clearStatus();
    if (!text.isEmpty()) {
      out.print("\033[2m... " + text + RESET);
      statusShown = true;
    }
    shownStatus = text;
    out.flush();
  }

  private static String whole(Duration d) {
    return Math.max(0, d.toSeconds()) + "s";
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (ticker != null) {
      ticker.interrupt();
    }
    clearStatus();
    out.flush();
    if (log != null) {
      try {
        log.close();
      } catch (IOException e) {
        // nothing more to write
      }
    }
  }
}
