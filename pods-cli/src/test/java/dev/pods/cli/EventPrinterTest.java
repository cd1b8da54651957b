package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.InstanceState;
import dev.pods.PodEvent;
import dev.pods.Trigger;
import dev.pods.OutputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventPrinterTest {
  private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private static void feed(EventPrinter p) {
    p.event(new PodEvent.StateChanged("web-0", T, InstanceState.BOOTING, InstanceState.INITIALIZING, null));
    p.event(new PodEvent.PhaseStarted("web-0", T, Trigger.FIRST_BOOT, "r-1"));
    p.event(new PodEvent.OutputLine("web-0", T, "r-1", 0, OutputStream.STDOUT, "served by web-0"));
    p.event(new PodEvent.OutputLine("lb-0", T, "r-1", 1, OutputStream.STDERR, "nginx: test is successful"));
    p.event(new PodEvent.PhaseFinished("web-0", T, Trigger.CLUSTER_CHANGE, "r-2", false, 3, 1, Duration.ofMillis(1500)));
  }

  @Test
  void plainLinesOffATerminalAndTheSameLinesWithTimeStampsInTheLog() throws Exception {
    Path log = dir.resolve("cli/shop.log");
    try (EventPrinter p = new EventPrinter(out, false, log, () -> T)) {
      feed(p);
      p.say("ready");
    }
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(String.join("\n",
        "web-0  state booting -> initializing",
        "web-0  phase initial started (run r-1)",
        "web-0  | served by web-0",
        "lb-0   ! nginx: test is successful",
        "web-0  phase reload FAILED in block 3 (exit 1) in 1.5 s",
        "pods   ready", ""));
    assertThat(Files.readAllLines(log)).first().isEqualTo("2026-01-01T00:00:00Z web-0 state booting -> initializing");
    assertThat(Files.readAllLines(log)).hasSize(6).last().isEqualTo("2026-01-01T00:00:00Z pods ready");
  }

  @Test
  void guestOutputWithEscapeSequencesAndCarriageReturnsIsPrintedEscapedOnTheTerminalAndInTheLog() throws Exception {
    Path log = dir.resolve("cli/shop.log");
    String hostile = "\033[2J\033[1;1Hpods   ready\r\033[Kweb-0  | fine\nt.md:1:1: error: forged";
    try (EventPrinter p = new EventPrinter(out, true, log, () -> T)) {
      p.event(new PodEvent.OutputLine("web-0", T, "r-1", 0, OutputStream.STDOUT, hostile));
      p.event(new PodEvent.OutputLine("web-0", T, "r-1", 1, OutputStream.STDOUT, "y".repeat(9000)));
    }
    String shown = "\\e[2J\\e[1;1Hpods   ready\\r\\e[Kweb-0  | fine\\nt.md:1:1: error: forged";
    String s = bytes.toString(StandardCharsets.UTF_8);
    assertThat(s).contains("\033[36mweb-0 \033[0m | " + shown + "\n")
        .contains("y".repeat(EventPrinter.MAX_LINE_CHARS - 2) + "... (1002 more characters)\n")
        .doesNotContain("\033[2J").doesNotContain("\033[K").doesNotContain("\rweb");
    assertThat(Files.readAllLines(log)).hasSize(2)
        .first().isEqualTo("2026-01-01T00:00:00Z web-0 | " + shown);
  }

  @Test
  void onATerminalNamesAreColouredAndTheStatusLineShowsTheStepsUnderWay() throws Exception {
    try (EventPrinter p = new EventPrinter(out, true, null, () -> T)) {
      p.event(new PodEvent.StateChanged("web-0", T, InstanceState.CREATING, InstanceState.BOOTING, null));
    }
    String s = bytes.toString(StandardCharsets.UTF_8);
    assertThat(s).contains("\033[36mweb-0 \033[0m state creating -> booting\n")
        .contains("\033[2m... web-0 booting 0s\033[0m")
        .endsWith("\r\033[K"); // the status line is cleared on close
  }

  @Test
  void journalLinesArePrintedWithTheirKeyAndLogsFiltersThem() throws Exception {
    Path data = dir.resolve("data");
    try (EventPrinter p = new EventPrinter(out, false, Up.logFile(data, "shop"), () -> T)) {
      feed(p);
      p.event(new PodEvent.JournalLine("db-0", T, "postgres", "database system is ready"));
      p.event(new PodEvent.JournalLine("web-0", T, "access", "GET /"));
      p.event(new PodEvent.JournalDropped("db-0", T, "postgres", 7));
    }
    assertThat(bytes.toString(StandardCharsets.UTF_8)).contains(
        "db-0   journal[postgres] database system is ready\n", "web-0  journal[access] GET /\n",
        "db-0   journal[postgres] 7 lines dropped by the guest (the host was too slow)\n");
    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    int rc = new Main(new PrintStream(logs, true, StandardCharsets.UTF_8), out)
        .run("--data-dir", data.toString(), "logs", "--journal", "postgres", "shop");
    assertThat(rc).isZero();
    assertThat(logs.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(
        "2026-01-01T00:00:00Z db-0 journal[postgres] database system is ready",
        "2026-01-01T00:00:00Z db-0 journal[postgres] 7 lines dropped by the guest (the host was too slow)");
  }

  @Test
  void placementsOfAClusterArePrintedWithTheLeadersExplanation() throws Exception {
    try (EventPrinter p = new EventPrinter(out, false, null, () -> T)) {
      p.event(new PodEvent.Placed("web-2", T, "h3", "web-2 on h3: least loaded of h1, h3; h2 already runs web-0"));
      p.event(new PodEvent.Placed("web-3", T, null, "web-3: no node has room"));
    }
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(String.join("\n",
        "web-2  placement: web-2 on h3: least loaded of h1, h3; h2 already runs web-0",
        "web-3  placement: web-3: no node has room", ""));
  }
}
