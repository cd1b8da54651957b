package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control channel and its clients against a real Unix socket served by a handler of this test. */
@SuppressWarnings("try") // a server only has to be up while the commands talk to it
class ControlTest {
  @TempDir Path state;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private Main main() {
    return new Main(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private Path dir() {
    return Up.controlDir(state);
  }

  /** A handler that answers like an up process with one instance, and runs "exec" by echoing its argv. */
  private ObjectNode handle(ObjectNode req) {
    return switch (req.get("op").asText()) {
      case "ps" -> {
        ObjectNode o = Control.ok().put("phase", "ready");
        o.putArray("instances").addObject().put("name", "web-0").put("state", "READY").put("private", "10.98.0.2")
            .put("domain", "pods-shop-web-0");
        yield o;
      }
      case "exec" -> {
        StringBuilder cmd = new StringBuilder();
        req.get("argv").forEach(n -> cmd.append(cmd.length() == 0 ? "" : " ").append(n.asText()));
        yield Control.ok().put("exit", 7).put("timedOut", false)
            .put("stdout", java.util.Base64.getEncoder().encodeToString((cmd + "\n").getBytes(StandardCharsets.UTF_8)))
            .put("stderr", "");
      }
      case "boom" -> throw new IllegalStateException("it broke");
      default -> Control.error("unknown op");
    };
  }

  @Test
  void psTellsWhyAnInstanceIsStoppedSinceWhenAndWhenItRestarts() {
    ObjectNode i = Control.JSON.createObjectNode().put("name", "web-0").put("state", "STOPPED")
        .put("since", "2026-01-01T17:02:11Z").put("reason", "its domain was destroyed at 17:02:11 UTC")
        .put("restartAt", "2026-01-01T17:02:21Z").put("attempt", 1);
    assertThat(Clients.why(i)).isEqualTo("since 17:02:11 UTC: its domain was destroyed at 17:02:11 UTC; restart 1 "
        + "at 17:02:21 UTC");
    assertThat(Clients.why(Control.JSON.createObjectNode().put("state", "READY").put("reason", ""))).isEmpty();
  }

  @Test
  @SuppressWarnings("try") // the server only has to be up while ps talks to it
  void psAddsAWhyColumnWhenAnInstanceHasSomethingToTell() throws Exception {
    try (Control.Server s = Control.serve(dir(), "lab", req -> {
      ObjectNode o = Control.ok().put("phase", "ready");
      var a = o.putArray("instances");
      a.addObject().put("name", "web-0").put("state", "STOPPED").put("private", "10.98.0.2").put("domain", "d0")
          .put("since", "2026-01-01T17:02:11Z").put("reason", "its domain was destroyed at 17:02:11 UTC")
          .put("restartAt", "2026-01-01T17:02:21Z").put("attempt", 1);
      a.addObject().put("name", "web-1").put("state", "READY").put("private", "10.98.0.6").put("domain", "d1")
          .put("since", "2026-01-01T17:00:00Z").put("reason", "");
      return o;
    }, r -> {})) {
      assertThat(main().run("--data-dir", state.toString(), "ps", "lab")).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(
          "POD  INSTANCE  STATE    PRIVATE    PUBLIC  DOMAIN  WHY\n"
              + "lab  web-0     stopped  10.98.0.2  -       d0      since 17:02:11 UTC: its domain was destroyed at "
              + "17:02:11 UTC; restart 1 at 17:02:21 UTC\n"
              + "lab  web-1     ready    10.98.0.6  -       d1\n");
    }
  }

  @Test
  void psExecAndErrorsGoThroughTheSocket() throws Exception {
    List<String> replied = new CopyOnWriteArrayList<>();
    try (Control.Server s = Control.serve(dir(), "shop", this::handle, r -> replied.add(r.get("op").asText()))) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s.socket()))).isEqualTo("rw-------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir()))).isEqualTo("rwx------");

      assertThat(main().run("--data-dir", state.toString(), "ps")).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(
          "POD   INSTANCE  STATE  PRIVATE    PUBLIC  DOMAIN\n"
              + "shop  web-0     ready  10.98.0.2  -       pods-shop-web-0\n");
      out.reset();

      assertThat(main().run("--data-dir", state.toString(), "exec", "shop", "web-0", "--", "echo", "a b"))
          .isEqualTo(7);
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("echo a b\n");

      ObjectNode r = Control.call(dir(), "shop", Control.JSON.createObjectNode().put("op", "boom"));
      assertThat(r.get("ok").asBoolean()).isFalse();
      assertThat(r.get("error").asText()).isEqualTo("it broke");
      // afterReply runs once the reply is written, so possibly after the client read it
      for (int i = 0; i < 500 && replied.size() < 3; i++) {
        Thread.sleep(10);
      }
      assertThat(replied).containsExactlyInAnyOrder("ps", "exec", "boom");

      IOException twice = catchThrowableOfType(IOException.class,
          () -> Control.serve(dir(), "shop", this::handle, x -> {}));
      assertThat(twice).hasMessageContaining("pod 'shop' is already up in another pods up process");
    }
    assertThat(Control.socket(dir(), "shop")).doesNotExist();
  }

  @Test
  void noUpProcessIsExitThreeWithAClearMessage() {
    assertThat(main().run("--data-dir", state.toString(), "down", "shop")).isEqualTo(3);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("pods: pod 'shop' is not up: no pods up process runs it (no ");
    err.reset();
    assertThat(main().run("--data-dir", state.toString(), "exec", "shop", "web-0", "--", "true")).isEqualTo(125);
    assertThat(main().run("--data-dir", state.toString(), "ps")).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("pods: no pod is up");
    assertThat(main().run("--data-dir", state.toString(), "logs", "shop")).isEqualTo(3);
  }

  @Test
  void aStaleSocketOfADeadUpProcessIsRemovedAndReported() throws Exception {
    Files.createDirectories(dir());
    Path sock = Control.socket(dir(), "shop");
    // bound, then closed without removing the file: what a killed up process leaves
    try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.bind(UnixDomainSocketAddress.of(sock));
    }
    assertThat(sock).exists();
    assertThat(main().run("--data-dir", state.toString(), "ps", "shop")).isEqualTo(3);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("its pods up process is gone");
    assertThat(sock).doesNotExist();
  }

  @Test
  void logsPrintsTheLogFileFilteredByInstance() throws Exception {
    Files.createDirectories(dir());
    Files.writeString(Up.logFile(state, "shop"), String.join("\n",
        "2026-01-01T00:00:00Z pods ready",
        "2026-01-01T00:00:01Z web-0 | served by web-0",
        "2026-01-01T00:00:02Z web-1 | served by web-1", ""));
    assertThat(main().run("--data-dir", state.toString(), "logs", "shop", "web-1")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("2026-01-01T00:00:02Z web-1 | served by web-1\n");
    out.reset();
    assertThat(main().run("--data-dir", state.toString(), "logs")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8).lines()).hasSize(3);
  }

  @Test
  void logsPrintsControlCharactersEscapedWhateverWroteTheFile() throws Exception {
    Files.createDirectories(dir());
    Files.writeString(Up.logFile(state, "shop"), "2026-01-01T00:00:01Z web-0 | \033[2J\033[Hpwned\rok\ttab\n");
    assertThat(main().run("--data-dir", state.toString(), "logs", "shop")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo("2026-01-01T00:00:01Z web-0 | \\e[2J\\e[Hpwned\\rok\ttab\n");
  }

  @Test
  void upRejectsBadOptionsBeforeTouchingTheHost() throws Exception {
    Path web = Files.writeString(state.resolve("web.md"), "# Web\n\n```yaml\nname: web\nkind: instance\nimage: debian12\n```\n");
    assertThat(main().run("--data-dir", state.toString(), "up", "--uplink", "br0", web.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("pods: up: a public network needs --uplink BRIDGE and --public-range CIDR");
    err.reset();
    assertThat(main().run("--data-dir", state.toString(), "up", "--prefix", "Bad_", web.toString())).isEqualTo(2);
    assertThat(main().run("--data-dir", state.toString(), "up", "--public-range", "198.51.100.0/24", "--uplink",
        "br0", "--public-gateway", "192.0.2.1", "--name", "shop", web.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("gateway 192.0.2.1 is not in 198.51.100.0/24");
    err.reset();
    assertThat(main().run("--data-dir", state.toString(), "up", "--node-address", "10.77.0", "--name", "shop",
        web.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("up: --node-address takes an IPv4 address, not '10.77.0'");
    err.reset();
    assertThat(main().run("--data-dir", state.toString(), "up", "--name", "Shop!", web.toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("Shop!");
  }

  /**
   * Answers plan and apply like an up process: the plan text, then apply's progress lines before its reply; records
   * the ops it was asked for.
   */
  private Control.Server planningServer(List<String> ops, boolean empty) throws IOException {
    return Control.serve(dir(), "shop", (Control.Handler) (req, progress) -> {
      ops.add(req.get("op").asText() + (req.has("id") ? ":" + req.get("id").asText() : ""));
      return switch (req.get("op").asText()) {
        case "plan" -> {
          if (req.get("files").get(0).asText().endsWith("bad.md")) {
            yield Control.error(req.get("files").get(0).asText() + ":3:1: error: instance.memroy: unknown key\n"
                + "the pod has no unit 'x'");
          }
          yield Control.ok().put("id", "p1").put("empty", empty)
              .put("text", "unit web: 1 change (live)\n  ~ scripts.reload[0]  [live]\nweb-0  live  (scripts)\n");
        }
        case "apply", "scale", "restart" -> {
          progress.accept(Control.JSON.createObjectNode().put("line", "web-0  phase reload started"));
          progress.accept(Control.JSON.createObjectNode().put("line", "web-0  phase reload ok \033[2J"));
          yield Control.ok();
        }
        default -> Control.error("unknown op");
      };
    }, r -> {});
  }

  private Main main(Main.Confirm confirm) {
    return new Main(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        false, confirm);
  }

  @Test
  void planPrintsThePlanOfTheUpProcessForTheFilesGivenAbsolute() throws Exception {
    List<String> ops = new CopyOnWriteArrayList<>();
    try (Control.Server s = planningServer(ops, false)) {
      assertThat(main().run("plan", "shop", "web.md", "--data-dir", state.toString())).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8))
          .isEqualTo("unit web: 1 change (live)\n  ~ scripts.reload[0]  [live]\nweb-0  live  (scripts)\n");
      assertThat(ops).containsExactly("plan");

      assertThat(main().run("--data-dir", state.toString(), "plan", "shop", "bad.md")).isEqualTo(1);
      Path bad = Path.of("bad.md").toAbsolutePath();
      assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(bad + ":3:1: error: instance.memroy: unknown key\n"
          + "pods: the pod has no unit 'x'\n");
    }
    assertThat(main().run("--data-dir", state.toString(), "plan", "shop", "web.md")).isEqualTo(3);
  }

  @Test
  void applyWithoutATerminalNorYesRefusesAndAppliesNothing() throws Exception {
    List<String> ops = new CopyOnWriteArrayList<>();
    try (Control.Server s = planningServer(ops, false)) {
      assertThat(main(q -> java.util.Optional.empty()).run("--data-dir", state.toString(), "apply", "shop", "web.md"))
          .isEqualTo(2);
      assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("unit web: 1 change (live)\n");
      assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("pods: apply: no terminal to ask on: nothing was"
          + " applied; add --yes to apply without asking\n");
      assertThat(ops).containsExactly("plan");
    }
  }

  @Test
  void applyAsksAndAppliesThePlanItShowedStreamingTheEvents() throws Exception {
    List<String> ops = new CopyOnWriteArrayList<>();
    List<String> asked = new CopyOnWriteArrayList<>();
    try (Control.Server s = planningServer(ops, false)) {
      assertThat(main(q -> {
        asked.add(q);
        return java.util.Optional.of(false);
      }).run("--data-dir", state.toString(), "apply", "shop", "web.md")).isEqualTo(1);
      assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("pods: apply: not applied\n");
      assertThat(ops).containsExactly("plan");
      out.reset();

      assertThat(main(q -> {
        asked.add(q);
        return java.util.Optional.of(true);
      }).run("--data-dir", state.toString(), "apply", "shop", "web.md")).isZero();
      assertThat(asked).containsExactly("apply this plan to pod shop?", "apply this plan to pod shop?");
      assertThat(ops).containsExactly("plan", "plan", "apply:p1");
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("unit web: 1 change (live)\n"
          + "  ~ scripts.reload[0]  [live]\nweb-0  live  (scripts)\n"
          + "web-0  phase reload started\nweb-0  phase reload ok \\e[2J\napplied; pod shop is ready\n");
      out.reset();

      assertThat(main(q -> {
        throw new AssertionError("--yes does not ask");
      }).run("--data-dir", state.toString(), "apply", "--yes", "shop", "web.md")).isZero();
      assertThat(ops).containsExactly("plan", "plan", "apply:p1", "plan", "apply:p1");
    }
  }

  @Test
  void applyOfAnEmptyPlanSaysSoAndAppliesNothing() throws Exception {
    List<String> ops = new CopyOnWriteArrayList<>();
    try (Control.Server s = planningServer(ops, true)) {
      assertThat(main().run("--data-dir", state.toString(), "apply", "shop", "web.md", "-y")).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).endsWith("nothing to apply: pod shop runs these templates"
          + " already\n");
      assertThat(ops).containsExactly("plan");
    }
  }

  @Test
  void scaleAndRestartStreamTheEventsUntilReady() throws Exception {
    List<String> ops = new CopyOnWriteArrayList<>();
    try (Control.Server s = planningServer(ops, false)) {
      assertThat(main().run("scale", "shop", "web", "3", "--data-dir=" + state)).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).endsWith("web-0  phase reload ok \\e[2J\n"
          + "scaled web to 3; pod shop is ready\n");
      out.reset();
      assertThat(main().run("restart", "shop", "web-0", "--data-dir=" + state)).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).endsWith("restarted web-0; pod shop is ready\n");
      assertThat(main().run("scale", "shop", "web", "-1", "--data-dir=" + state)).isEqualTo(2);
      assertThat(ops).containsExactly("scale", "restart");
    }
  }

  @Test
  void waitWaitsForAPodWhoseUpProcessHasNotOpenedItsSocketYet() throws Exception {
    java.util.concurrent.CompletableFuture<Integer> waiting = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> main().run("--data-dir", state.toString(), "wait", "--timeout", "60", "shop"));
    // no socket: it must still be waiting, not fail at once
    assertThat(catchThrowableOfType(java.util.concurrent.TimeoutException.class,
        () -> waiting.get(300, java.util.concurrent.TimeUnit.MILLISECONDS))).isNotNull();
    try (Control.Server s = Control.serve(dir(), "shop", req -> Control.ok(), r -> {})) {
      assertThat(waiting.get(30, java.util.concurrent.TimeUnit.SECONDS)).isZero();
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("shop is ready\n");
  }

  @Test
  void waitForAPodThatNeverAppearsEndsAtItsTimeoutWithExitThree() {
    long t0 = System.nanoTime();
    assertThat(main().run("--data-dir", state.toString(), "wait", "--timeout=1", "shop")).isEqualTo(3);
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(1_000_000_000L);
    assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("pods: pod 'shop' did not appear within 1 s: pod"
        + " 'shop' is not up: no pods up process runs it");
  }
}
