package dev.pods.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.Problem;
import dev.pods.Unit;
import dev.pods.diff.UnitDiff;
import dev.pods.template.ParseResult;
import dev.pods.template.Templates;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code pods} command. Each call reads its arguments, prints to the given streams and returns an exit
 * status; nothing is kept between calls.
 *
 * <pre>
 * pods validate FILE...        problems as file:line:col: severity: field: message; exit 1 on any error
 * pods render [--json] FILE    the unit as canonical Markdown, or its model as JSON
 * pods diff [--exit-code] OLD NEW   the structural diff of two versions of a unit
 * </pre>
 *
 * <p>Exit status: 0 success, 1 invalid input (or, with {@code diff --exit-code}, a difference), 2 wrong usage.
 */
public final class Main {
  static final String USAGE =
      String.join(
          "\n",
          "usage: pods <command> [options] [files]",
          "",
          "commands:",
          "  validate FILE...              check templates; print every problem as file:line:col",
          "  render [--json] FILE          print a template as canonical Markdown, or its model as JSON",
          "  diff [--exit-code] OLD NEW    print what changed between two versions of a unit, and its impact",
          "                                (live: applied by a reload; recreate: new instances)",
          "  help                          print this text",
          "",
          "exit status: 0 ok, 1 invalid template (diff --exit-code: the units differ), 2 wrong usage",
          "");

  private final PrintStream out;
  private final PrintStream err;
  private final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  Main(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** Runs the command and exits the JVM with its status. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8);
    int status = new Main(out, err).run(args);
    out.flush();
    err.flush();
    System.exit(status);
  }

  /** Runs one command; returns the exit status. */
  int run(String... args) {
    if (args.length == 0) {
      err.print(USAGE);
      return 2;
    }
    List<String> rest = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
    try {
      return switch (args[0]) {
        case "validate" -> validate(rest);
        case "render" -> render(rest);
        case "diff" -> diff(rest);
        case "help", "--help", "-h" -> {
          out.print(USAGE);
          yield 0;
        }
        default -> usage("unknown command '" + args[0] + "'");
      };
    } catch (JsonProcessingException e) {
      err.println("pods: cannot write JSON: " + e.getMessage());
      return 1;
    }
  }

  private int usage(String message) {
    err.println("pods: " + message);
    err.print(USAGE);
    return 2;
  }

  private int validate(List<String> files) {
    if (files.isEmpty() || files.stream().anyMatch(f -> f.startsWith("-"))) {
      return usage("validate takes one or more template files");
    }
    boolean errors = false;
    for (String f : files) {
      ParseResult r = Templates.read(Path.of(f));
      r.problems().forEach(p -> err.println(p));
      if (r.hasErrors()) {
        errors = true;
        long n = r.problems().stream().filter(Problem::isError).count();
        err.println(f + ": invalid (" + n + (n == 1 ? " error)" : " errors)"));
      } else {
        out.println(f + ": ok (unit " + r.orThrow().name() + ")");
      }
    }
    return errors ? 1 : 0;
  }

  private int render(List<String> args) throws JsonProcessingException {
    boolean json = args.remove("--json");
    if (args.size() != 1 || args.get(0).startsWith("-")) {
      return usage("render takes [--json] and one template file");
    }
    ParseResult r = Templates.read(Path.of(args.get(0)));
    if (r.hasErrors()) {
      if (json) {
        ObjectNode o = mapper.createObjectNode().put("source", r.source());
        ArrayNode a = o.putArray("problems");
        JsonView v = new JsonView(mapper);
        r.problems().forEach(p -> a.add(v.problem(p)));
        out.println(mapper.writeValueAsString(o));
      }
      r.problems().forEach(p -> err.println(p));
      return 1;
    }
    r.problems().forEach(p -> err.println(p));
    Unit u = r.orThrow();
    if (json) {
      out.println(mapper.writeValueAsString(new JsonView(mapper).unit(u)));
    } else {
      out.print(Templates.render(u));
    }
    return 0;
  }

  private int diff(List<String> args) {
    boolean exitCode = args.remove("--exit-code");
    if (args.size() != 2 || args.stream().anyMatch(a -> a.startsWith("-"))) {
      return usage("diff takes [--exit-code] OLD NEW");
    }
    ParseResult a = Templates.read(Path.of(args.get(0)));
    ParseResult b = Templates.read(Path.of(args.get(1)));
    if (a.hasErrors() || b.hasErrors()) {
      a.problems().stream().filter(Problem::isError).forEach(p -> err.println(p));
      b.problems().stream().filter(Problem::isError).forEach(p -> err.println(p));
      return 1;
    }
    UnitDiff d = UnitDiff.between(a.orThrow(), b.orThrow());
    out.print(d.toText());
    return exitCode && !d.isEmpty() ? 1 : 0;
  }
}
