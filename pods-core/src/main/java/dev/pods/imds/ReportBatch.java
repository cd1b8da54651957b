package dev.pods.imds;

import dev.pods.OutputStream;
import dev.pods.Trigger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The body of {@code POST /v1/report} (see {@link ImdsProtocol}) parsed into its records: one header line of
 * space-separated words each, an {@code output} header followed by exactly its length in raw bytes. Parsing is
 * all or nothing: a malformed record fails the whole batch before anything is applied. Pure; immutable results.
 */
final class ReportBatch {
  /** The most records in one batch. */
  static final int MAX_RECORDS = 1024;
  /** The longest header line. */
  static final int MAX_HEADER = 1024;
  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9._-]{1," + ImdsProtocol.MAX_RUN_ID_LENGTH + "}");

  private ReportBatch() {}

  /** One record of a batch. */
  sealed interface Record {}

  record Status(AgentStatus status) implements Record {}

  record RunStart(String run, Trigger trigger, String version, String hash, List<Integer> blocks) implements Record {}

  record BlockStart(String run, int block) implements Record {}

  record Output(String run, int block, OutputStream stream, long offset, byte[] bytes) implements Record {}

  record BlockEnd(String run, int block, int exit, boolean timedOut) implements Record {}

  record RunEnd(String run, boolean ok, int failedBlock, int exit) implements Record {}

  /** A malformed batch; the message names the record (1-based) and what is wrong with it. */
  static final class MalformedException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedException(String message) {
      super(message, null, false, false);
    }
  }

  /** Parses a whole batch. */
  static List<Record> parse(byte[] body) throws MalformedException {
    List<Record> out = new ArrayList<>();
    int pos = 0;
    while (pos < body.length) {
      int n = out.size() + 1;
      if (n > MAX_RECORDS) {
        throw new MalformedException("more than " + MAX_RECORDS + " records in one report");
      }
      int nl = -1;
      for (int i = pos; i < body.length && i - pos <= MAX_HEADER; i++) {
        if (body[i] == '\n') {
          nl = i;
          break;
        }
      }
      if (nl < 0) {
        throw new MalformedException("record " + n + ": no header line of at most " + MAX_HEADER + " bytes");
      }
      String header = new String(body, pos, nl - pos, StandardCharsets.US_ASCII);
      pos = nl + 1;
      String[] w = header.split(" ", -1);
      try {
        switch (w[0]) {
          case "status" -> {
            words(w, 2, n);
            AgentStatus s = AgentStatus.fromId(w[1]);
            if (s == null) {
              throw new MalformedException("record " + n + ": unknown status '" + clip(w[1]) + "'");
            }
            out.add(new Status(s));
          }
          case "run-start" -> {
            words(w, 6, n);
            List<Integer> blocks = new ArrayList<>();
            if (!w[5].equals("-")) {
              for (String b : w[5].split(",", -1)) {
                blocks.add(index(b, n));
              }
            }
            out.add(new RunStart(run(w[1], n), trigger(w[2], n), w[3], w[4], List.copyOf(blocks)));
          }
          case "block-start" -> {
            words(w, 3, n);
            out.add(new BlockStart(run(w[1], n), index(w[2], n)));
          }
          case "output" -> {
            words(w, 6, n);
            OutputStream s =
                switch (w[3]) {
                  case "stdout" -> OutputStream.STDOUT;
                  case "stderr" -> OutputStream.STDERR;
                  default -> throw new MalformedException("record " + n + ": stream is stdout or stderr");
                };
            long offset = Long.parseLong(w[4]);
            int length = Integer.parseInt(w[5]);
            if (offset < 0 || length < 0 || length > body.length - pos) {
              throw new MalformedException("record " + n + ": offset or length outside the report");
            }
            out.add(new Output(run(w[1], n), index(w[2], n), s, offset, Arrays.copyOfRange(body, pos, pos + length)));
            pos += length;
          }
          case "block-end" -> {
            words(w, 5, n);
            out.add(new BlockEnd(run(w[1], n), index(w[2], n), Integer.parseInt(w[3]), bool(w[4], n)));
          }
          case "run-end" -> {
            words(w, 5, n);
            out.add(new RunEnd(run(w[1], n), bool(w[2], n), Integer.parseInt(w[3]), Integer.parseInt(w[4])));
          }
          default -> throw new MalformedException("record " + n + ": unknown record '" + clip(w[0]) + "'");
        }
      } catch (NumberFormatException e) {
        throw new MalformedException("record " + n + " (" + w[0] + "): a number is malformed");
      }
    }
    return out;
  }

  private static void words(String[] w, int count, int n) throws MalformedException {
    if (w.length != count) {
      throw new MalformedException("record " + n + " (" + clip(w[0]) + "): " + (count - 1) + " fields expected, not " + (w.length - 1));
    }
  }

  private static String run(String s, int n) throws MalformedException {
    if (!RUN_ID.matcher(s).matches()) {
      throw new MalformedException("record " + n + ": a run id is 1-" + ImdsProtocol.MAX_RUN_ID_LENGTH + " of A-Z a-z 0-9 . _ -");
    }
    return s;
  }

  private static int index(String s, int n) throws MalformedException {
    int i = Integer.parseInt(s);
    if (i < 0) {
      throw new MalformedException("record " + n + ": a block index is not negative");
    }
    return i;
  }

  private static Trigger trigger(String s, int n) throws MalformedException {
    try {
      return Trigger.valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new MalformedException("record " + n + ": trigger is first_boot, reboot or cluster_change");
    }
  }

  private static boolean bool(String s, int n) throws MalformedException {
    return switch (s) {
      case "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw new MalformedException("record " + n + ": true or false expected");
    };
  }

  /** A guest's word, cut and stripped of control characters, for an error message. */
  static String clip(String s) {
    String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
    return t.replaceAll("[\\p{Cntrl}]", "?");
  }
}
