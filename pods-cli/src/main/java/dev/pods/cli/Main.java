package dev.pods.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.ImagePolicy;
import dev.pods.PodRuntime;
import dev.pods.Problem;
import dev.pods.Unit;
import dev.pods.diff.UnitDiff;
import dev.pods.template.ParseResult;
import dev.pods.template.Templates;
import java.io.IOException;
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
 * pods up [--name POD] [--tiny] FILE...   deploy templates as a pod on this host and stay attached
 * pods ps | logs [-f] | exec | wait | down   talk to up processes through their control sockets
 * </pre>
 *
 * <p>Exit status: see {@link #USAGE}. {@code up} blocks until its pod is destroyed.
 */
public final class Main {
  static final String USAGE =
      String.join(
          "\n",
          "usage: pods [--data-dir DIR] <command> [options] [files]",
          "",
          "templates:",
          "  validate [image options] FILE...  check templates; print every problem as file:line:col",
          "  render [--json] FILE          print a template as canonical Markdown, or its model as JSON",
          "  diff [--exit-code] OLD NEW    print what changed between two versions of a unit, and its impact",
          "                                (live: applied by a reload; recreate: new instances)",
          "",
          "running pods on this host (root, libvirtd):",
          "  up [--name POD] [--tiny] [image options] FILE...",
          "                                deploy the templates as one pod (default name: the templates' folder),",
          "                                print its events, wait until it is ready and stay attached; Ctrl-C,",
          "                                SIGTERM or `pods down POD` destroy it. --tiny boots every unit from the",
          "                                tiny busybox guest (seconds) instead of Debian 12 (about 75 s under TCG).",
          "        [--prefix P]            names of domains, namespaces and links start with P (default pods)",
          "        [--host-namespace NS]   the named network namespace of the VPC and uplink bridges",
          "        [--uplink BRIDGE --public-range CIDR [--public-gateway IP]]",
          "                                public addresses for units with publicAddress (gateway: first address)",
          "        [--node-address IP]     units' node ports listen on IP (an address of the host namespace)",
          "        [--ready-timeout S]     give up (and tear down) when not ready after S seconds (default 600)",
          "        [--domain NAME=ZONE]... DNS records of +/domain/NAME are named under ZONE and answered by every",
          "                                instance's resolver (the gateway DHCP hands out)",
          "        [--dns-server IP]...    where the resolvers forward every other query",
          "        [--secret NAME=FILE]... the value of +/secret/NAME: FILE holds KEY=VALUE lines",
          "        [--host-folder DIR]...  allow host_path mounts of DIR and below (none by default)",
          "  disks                         the named persistent disks of the data folder: size, room taken, user",
          "  ps [--json] [POD]             pods up on this host: instances, states, addresses",
          "  logs [-f] [--journal KEY] [POD [INSTANCE]]",
          "                                phase output, phase and state changes of the pod's latest up; -f follows;",
          "                                --journal KEY: only the lines of the units' journal input KEY",
          "  exec POD INSTANCE [--timeout S] -- CMD [ARG...]",
          "                                run CMD in the instance (no shell); its output and exit status are ours",
          "  wait [--timeout S] POD        wait until every instance of the pod is ready",
          "  down POD                      destroy the pod; its up process exits",
          "  help                          print this text",
          "",
          ImageOptions.USAGE,
          "",
          "data:  --data-dir, else -Dpods.dataDir, else $PODS_DATA_DIR, else /var/lib/pods for root (else",
          "       $XDG_DATA_HOME/pods): networks, instance files, the runtime state of each pod (state/up-POD), and",
          "       in cli/ the control socket and log of each pod (POD.sock, POD.log)",
          "",
          "exit status: 0 ok; 1 invalid template, a pod that failed or did not become ready, a failed teardown",
          "             (diff --exit-code: the units differ); 2 wrong usage; 3 no such pod or no up process for it.",
          "             exec: the command's status, 124 when it timed out, 125 when pods could not run it",
          "");

  private final PrintStream out;
  private final PrintStream err;
  private final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final boolean tty;

  Main(PrintStream out, PrintStream err) {
    this(out, err, false);
  }

  Main(PrintStream out, PrintStream err, boolean tty) {
    this.out = out;
    this.err = err;
    this.tty = tty;
  }

  /** Runs the command and exits the JVM with its status. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8);
    boolean tty = System.console() != null && System.getenv("NO_COLOR") == null
        && !"dumb".equals(System.getenv("TERM"));
    int status = new Main(out, err, tty).run(args);
    out.flush();
    err.flush();
    System.exit(status);
  }

  /** Runs one command; returns the exit status. */
  int run(String... argv) {
    List<String> all = new ArrayList<>(Arrays.asList(argv));
    Path dataDir;
    if (all.size() >= 2 && all.get(0).equals("--data-dir")) {
      dataDir = Path.of(all.get(1)).toAbsolutePath().normalize();
      all = all.subList(2, all.size());
    } else {
      dataDir = PodRuntime.defaultDataDir();
    }
    if (all.isEmpty()) {
      err.print(USAGE);
      return 2;
    }
    String command = all.get(0);
    List<String> rest = new ArrayList<>(all.subList(1, all.size()));
    Clients clients = new Clients(out, err, dataDir);
    try {
      return switch (command) {
        case "validate" -> validate(rest);
        case "render" -> render(rest);
        case "diff" -> diff(rest);
        case "up" -> new Up(out, err, tty, dataDir).run(rest);
        case "ps" -> clients.ps(rest);
        case "logs" -> clients.logs(rest);
        case "exec" -> clients.exec(rest);
        case "wait" -> clients.await(rest);
        case "down" -> clients.down(rest);
        case "disks" -> rest.isEmpty() ? DiskList.print(out, err, dataDir) : usage("disks takes no arguments");
        case "help", "--help", "-h" -> {
          out.print(USAGE);
          yield 0;
        }
        default -> usage("unknown command '" + command + "'");
      };
    } catch (Up.UsageException e) {
      return usage(e.getMessage());
    } catch (JsonProcessingException e) {
      err.println("pods: cannot write JSON: " + e.getMessage());
      return 1;
    } catch (IOException e) {
      err.println("pods: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  private int usage(String message) {
    err.println("pods: " + message);
    err.print(USAGE);
    return 2;
  }

  private int validate(List<String> files) throws Up.UsageException {
    ImagePolicy policy = ImageOptions.take("validate", files);
    if (files.isEmpty() || files.stream().anyMatch(f -> f.startsWith("-"))) {
      return usage("validate takes one or more template files");
    }
    boolean errors = false;
    for (String f : files) {
      ParseResult r = Templates.read(Path.of(f), policy);
      r.problems().forEach(p -> err.println(p));
      r.advice().forEach(p -> err.println(p));
      if (r.hasErrors()) {
        errors = true;
        long n = r.problems().stream().filter(Problem::isError).count();
        err.println(f + ": invalid (" + n + (n == 1 ? " error)" : " errors)"));
      } else {
        out.println(f + ": ok (unit " + r.orThrow().name() + ")");
        domainNotes(r.orThrow()).forEach(out::println);
      }
    }
    return errors ? 1 : 0;
  }

  /**
   * One note per DNS record: the domain its host application (or {@code pods up --domain}) must register, since a
   * deploy refuses records of unregistered domains.
   */
  static List<String> domainNotes(dev.pods.Unit u) {
    List<String> notes = new ArrayList<>();
    for (dev.pods.spec.DomainRecords d : u.domains()) {
      for (int i = 0; i < d.records().size(); i++) {
        dev.pods.spec.DomainRecord rec = d.records().get(i);
        String name = rec.domain().name();
        notes.add((rec.location() == null ? "" : rec.location() + ": ") + "note: domains[" + d.name() + "].records["
            + i + "].domain: " + rec.name() + " is published under the zone registered for domain '" + name
            + "': register it with PodRuntime.Builder.domain(\"" + name + "\", ZONE[, provider]) or pods up --domain "
            + name + "=ZONE (a deploy without it fails)");
      }
    }
    return notes;
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
