package dev.pods.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.internal.SafeText;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * {@code pods ps}, {@code logs}, {@code exec}, {@code down} and {@code wait}: clients of the control sockets of
 * {@code pods up} processes ({@link Control}), and readers of their log files. Each method runs one command and
 * returns its exit status ({@link Main#EXIT_STATUS} lists them). Stateless; blocks (exec and down as long as the guest
 * or the teardown takes, {@code logs -f} until the up process ends).
 */
final class Clients {
  static final int NOT_UP = 3;
  static final int EXEC_FAILED = 125;

  private final PrintStream out;
  private final PrintStream err;
  private final Path dir;

  Clients(PrintStream out, PrintStream err, Path dataDir) {
    this.out = out;
    this.err = err;
    this.dir = Up.controlDir(dataDir);
  }

  private static ObjectNode op(String op) {
    return Control.JSON.createObjectNode().put("op", op);
  }

  private int failed(ObjectNode reply, int status) {
    err.println("pods: " + SafeText.oneLine(reply.path("error").asText("the up process failed")));
    return status;
  }

  /** {@code ps [--json] [POD]}: the pods up here (or {@code only}), their instances, states and addresses. */
  int ps(boolean json, @Nullable String only) throws IOException {
    List<String> pods = only == null ? Control.pods(dir) : List.of(only);
    ArrayNode all = Control.JSON.createArrayNode();
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"POD", "INSTANCE", "STATE", "PRIVATE", "PUBLIC", "DOMAIN"});
    for (String pod : pods) {
      ObjectNode r;
      try {
        r = Control.call(dir, pod, op("ps"));
      } catch (Control.NotUp e) {
        if (only != null) {
          err.println("pods: " + e.getMessage());
          return NOT_UP;
        }
        continue; // a stale socket of a dead up process, now removed
      }
      r.put("pod", pod);
      all.add(r);
      if (r.path("instances").isEmpty()) {
        rows.add(new String[] {pod, "-", r.path("phase").asText(), "-", "-", "-"});
      }
      for (JsonNode i : r.path("instances")) {
        rows.add(new String[] {pod, i.path("name").asText(), i.path("state").asText().toLowerCase(Locale.ROOT),
            i.path("private").asText("-"), i.path("public").asText("-"), i.path("domain").asText("-"), why(i)});
      }
    }
    // the WHY column only when an instance has something to tell (a stop, a lost contact)
    boolean anyWhy = rows.stream().skip(1).anyMatch(x -> x.length > 6 && !x[6].isEmpty());
    for (int k = 0; k < rows.size(); k++) {
      String[] x = rows.get(k);
      if (k == 0 && anyWhy) {
        rows.set(0, new String[] {x[0], x[1], x[2], x[3], x[4], x[5], "WHY"});
      } else if (k > 0) {
        String[] six = java.util.Arrays.copyOf(x, 6);
        rows.set(k, anyWhy ? java.util.Arrays.copyOf(x, 7) : six);
        if (anyWhy && rows.get(k)[6] == null) {
          rows.get(k)[6] = "";
        }
      }
    }
    if (json) {
      out.println(Control.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(all));
    } else if (rows.size() == 1) {
      err.println("pods: no pod is up (no live control socket in " + dir + ")");
    } else {
      table(out, rows);
    }
    return 0;
  }

  /**
   * What an instance's status tells beyond its state, for the WHY column: {@code since HH:mm:ss: reason; restart N
   * at HH:mm:ss} (times in UTC); empty for the ordinary steps of a start.
   */
  static String why(JsonNode i) {
    String reason = i.path("reason").asText("");
    if (reason.isEmpty()) {
      return "";
    }
    java.time.format.DateTimeFormatter hms = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss")
        .withZone(java.time.ZoneOffset.UTC);
    StringBuilder b = new StringBuilder();
    if (i.hasNonNull("since")) {
      b.append("since ").append(hms.format(java.time.Instant.parse(i.path("since").asText()))).append(" UTC: ");
    }
    b.append(reason);
    if (i.hasNonNull("restartAt")) {
      b.append("; restart ").append(i.path("attempt").asInt()).append(" at ")
          .append(hms.format(java.time.Instant.parse(i.path("restartAt").asText()))).append(" UTC");
    }
    return b.toString();
  }

  /** Prints {@code rows} (the first the heading) as left-aligned columns two spaces apart. */
  static void table(PrintStream out, List<String[]> rows) {
    int[] w = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        b.append(i == r.length - 1 ? r[i] : String.format(Locale.ROOT, "%-" + (w[i] + 2) + "s", r[i]));
      }
      out.println(b.toString().stripTrailing());
    }
  }

  /**
   * {@code logs [-f] [POD [INSTANCE]]}: the lines of the pod's latest up (phase output, phase and state changes),
   * optionally of one instance; {@code -f} follows them until the up process ends. Without POD, the only pod
   * that has a log.
   */
  int logs(boolean follow, @Nullable String journal, @Nullable String podName, @Nullable String instance)
      throws IOException, InterruptedException {
    @Nullable String journalKey = journal;
    String pod;
    if (podName == null) {
      List<String> logs = logged();
      if (logs.size() != 1) {
        err.println("pods: " + (logs.isEmpty() ? "no pod has logs in " + dir
            : "name the pod: " + String.join(", ", logs) + " have logs"));
        return NOT_UP;
      }
      pod = logs.get(0);
    } else {
      pod = podName;
    }
    Path file = Up.logFile(dir.getParent(), pod);
    if (!Files.exists(file)) {
      err.println("pods: no logs of pod '" + pod + "' (no " + file + ")");
      return NOT_UP;
    }
    try (InputStream in = Files.newInputStream(file)) {
      StringBuilder partial = new StringBuilder();
      long lastCheck = 0;
      while (true) {
        byte[] chunk = in.readNBytes(in.available() > 0 ? in.available() : 0);
        if (chunk.length > 0) {
          partial.append(new String(chunk, StandardCharsets.UTF_8));
          int nl;
          while ((nl = partial.indexOf("\n")) >= 0) {
            print(partial.substring(0, nl), instance, journalKey);
            partial.delete(0, nl + 1);
          }
          out.flush();
          continue;
        }
        if (!follow) {
          return 0;
        }
        long now = System.nanoTime();
        if (now - lastCheck > 1_000_000_000L) {
          lastCheck = now;
          if (!alive(pod)) {
            // the up process ended: what it wrote last is in the file already
            byte[] rest = in.readAllBytes();
            partial.append(new String(rest, StandardCharsets.UTF_8));
            partial.toString().lines().forEach(l -> print(l, instance, journalKey));
            out.flush();
            return 0;
          }
        }
        Thread.sleep(100);
      }
    }
  }

  private boolean alive(String pod) {
    try {
      return Control.call(dir, pod, op("ps")).path("ok").asBoolean();
    } catch (IOException e) {
      return false;
    }
  }

  private void print(String line, @Nullable String instance, @Nullable String journal) {
    // <instant> <who> <text>
    String[] f = line.split(" ", 3);
    if (instance != null && (f.length < 2 || !f[1].equals(instance))) {
      return;
    }
    if (journal != null && (f.length < 3 || !f[2].startsWith(EventPrinter.journalPrefix(journal)))) {
      return;
    }
    // the file is written escaped by EventPrinter; escaped again in case anything else wrote to it
    out.println(SafeText.outputLine(line, EventPrinter.MAX_LINE_CHARS + 200));
  }

  private List<String> logged() throws IOException {
    List<String> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log"))
          .map(n -> n.substring(0, n.length() - 4)).sorted().forEach(out::add);
    }
    return out;
  }

  /** {@code exec POD INSTANCE [--timeout S] -- CMD...}: runs CMD in the guest; its exit status is ours. */
  int exec(String pod, String instance, long timeoutSeconds, List<String> argv) throws IOException {
    ObjectNode req = op("exec").put("instance", instance);
    if (timeoutSeconds > 0) {
      req.put("timeoutSeconds", timeoutSeconds);
    }
    ArrayNode a = req.putArray("argv");
    argv.forEach(a::add);
    ObjectNode r;
    try {
      r = Control.call(dir, pod, req);
    } catch (Control.NotUp e) {
      err.println("pods: " + e.getMessage());
      return EXEC_FAILED;
    }
    if (!r.path("ok").asBoolean()) {
      return failed(r, EXEC_FAILED);
    }
    out.write(Base64.getDecoder().decode(r.path("stdout").asText()));
    out.flush();
    err.write(Base64.getDecoder().decode(r.path("stderr").asText()));
    err.flush();
    if (r.path("timedOut").asBoolean()) {
      err.println("pods: the command timed out in " + instance);
      return 124;
    }
    return r.path("exit").asInt();
  }

  /** {@code down POD}: destroys the pod; its up process exits. */
  int down(String pod) throws IOException {
    return simple(pod, op("down"), "destroyed pod " + pod);
  }

  /**
   * {@code wait [--timeout S] POD}: until every instance is ready (1 when one failed or time ran out). A pod whose up
   * process has not opened its socket yet (it is starting, or was started in the background) is waited for within
   * the same timeout; exit status 3 when it does not appear.
   */
  int await(String pod, long timeoutSeconds) throws IOException, InterruptedException {
    long seconds = timeoutSeconds > 0 ? timeoutSeconds : Up.DEFAULT_READY_TIMEOUT.toSeconds();
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
    return await(pod, deadline, seconds, () -> false);
  }

  /**
   * {@link #await(String, long)} until {@code deadline} ({@link System#nanoTime()}), giving up as soon as
   * {@code giveUp} says so while no socket is there.
   */
  int await(String pod, long deadline, long seconds, java.util.function.BooleanSupplier giveUp)
      throws IOException, InterruptedException {
    while (true) {
      long left = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime());
      ObjectNode req = op("wait").put("timeoutSeconds", Math.max(1, left));
      ObjectNode r;
      try {
        r = Control.call(dir, pod, req);
      } catch (Control.NotUp e) {
        if (Control.awaitSocket(dir, pod, deadline, giveUp)) {
          continue;
        }
        err.println("pods: pod '" + pod + "' did not appear within " + seconds + " s: " + e.getMessage());
        return NOT_UP;
      }
      if (!r.path("ok").asBoolean()) {
        return failed(r, 1);
      }
      out.println(pod + " is ready");
      return 0;
    }
  }

  /**
   * {@code plan POD FILE...}: what applying the templates to the running pod would do (the diff, then per instance
   * live, recreate, create or remove); each file replaces the unit of its name or adds one.
   *
   * @return the exit status and, when it is 0, the plan's reply (its {@code id}, {@code empty} and {@code text})
   */
  Planned plan(String pod, List<Path> files) throws IOException {
    ObjectNode req = op("plan");
    ArrayNode a = req.putArray("files");
    files.forEach(f -> a.add(f.toAbsolutePath().normalize().toString()));
    ObjectNode r;
    try {
      r = Control.call(dir, pod, req);
    } catch (Control.NotUp e) {
      err.println("pods: " + e.getMessage());
      return new Planned(NOT_UP, null);
    }
    if (!r.path("ok").asBoolean()) {
      r.path("error").asText("the up process failed").lines()
          .forEach(l -> err.println(l.contains(": error: ") ? SafeText.oneLine(l) : "pods: " + SafeText.oneLine(l)));
      return new Planned(1, null);
    }
    r.path("warnings").forEach(w -> err.println(SafeText.oneLine(w.asText())));
    out.print(r.path("text").asText());
    out.flush();
    return new Planned(0, r);
  }

  /** What {@link #plan} printed: its exit status, and the reply when it is 0. */
  record Planned(int status, @Nullable ObjectNode reply) {}

  /** {@code apply}: applies the plan {@code id} made by {@link #plan}, printing the events until the pod is ready. */
  int apply(String pod, String id) throws IOException {
    return streamed(pod, op("apply").put("id", id), "applied; pod " + pod + " is ready");
  }

  /** {@code scale POD UNIT N}: sets the unit's count, printing the events until the pod is ready again. */
  int scale(String pod, String unit, int count) throws IOException {
    return streamed(pod, op("scale").put("unit", unit).put("count", count),
        "scaled " + unit + " to " + count + "; pod " + pod + " is ready");
  }

  /** {@code restart POD INSTANCE}: reboots the instance, printing the events until the pod is ready again. */
  int restart(String pod, String instance) throws IOException {
    return streamed(pod, op("restart").put("instance", instance), "restarted " + instance + "; pod " + pod
        + " is ready");
  }

  private int streamed(String pod, ObjectNode req, String success) throws IOException {
    ObjectNode r;
    try {
      r = Control.call(dir, pod, req, p -> {
        out.println(SafeText.outputLine(p.path("line").asText(), EventPrinter.MAX_LINE_CHARS + 200));
        out.flush();
      });
    } catch (Control.NotUp e) {
      err.println("pods: " + e.getMessage());
      return NOT_UP;
    }
    if (!r.path("ok").asBoolean()) {
      return failed(r, 1);
    }
    out.println(success);
    return 0;
  }

  private int simple(String pod, ObjectNode req, String success) throws IOException {
    ObjectNode r;
    try {
      r = Control.call(dir, pod, req);
    } catch (Control.NotUp e) {
      err.println("pods: " + e.getMessage());
      return NOT_UP;
    } catch (NoSuchFileException e) {
      err.println("pods: pod '" + pod + "' is not up");
      return NOT_UP;
    }
    if (!r.path("ok").asBoolean()) {
      return failed(r, 1);
    }
    out.println(success);
    return 0;
  }
}
