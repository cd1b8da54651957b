package dev.pods.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.pods.PodRuntime;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code pods} command: its command line, parsed with picocli. Options go in any position, as
 * {@code --opt value} or {@code --opt=value}; the global {@code --data-dir} and {@code --help} may follow any
 * command. {@code pods help [CMD]} and {@code pods CMD --help} print the generated help, {@code pods completion} a
 * bash completion script. Each {@link #run} parses anew, prints to the given streams and returns an exit status
 * ({@link #EXIT_STATUS}); nothing is kept between calls. Not thread-safe: one {@link #run} at a time.
 *
 * <p>The commands are the classes in {@link #COMMANDS}, one per command.
 */
@Command(
    name = "pods",
    customSynopsis = "pods [--data-dir DIR] <command> [options] [files]",
    description = "Runs pods of KVM virtual machines on this host from Markdown templates.",
    commandListHeading = "%ncommands (`pods help CMD` or `pods CMD --help` for a command's options):%n",
    footerHeading = "%n",
    footer = {
        "data: --data-dir, else -Dpods.dataDir, else $PODS_DATA_DIR, else /var/lib/pods for root (else",
        "$XDG_DATA_HOME/pods): networks, instance files, the runtime state of each pod (state/up-POD), and in cli/",
        "the control socket and logs of each pod (POD.sock, POD.log).",
        "",
        Main.EXIT_STATUS})
public final class Main implements Callable<Integer> {
  /** The exit statuses of every command, as printed at the end of {@code pods help}. */
  static final String EXIT_STATUS = "exit status: 0 ok; 1 invalid template, a pod that failed or did not become ready,"
      + " a failed teardown or apply (diff --exit-code: the units differ), etcd not answering (nodes, node, --etcd),"
      + " a node that cannot join or was lost (node); 2 wrong usage; 3 no such pod (or no up process for it; with"
      + " --etcd: not in the cluster). exec: the command's status, 124 when it timed out, 125 when pods could not run"
      + " it.";

  /** Exit status of a wrong command line. */
  static final int USAGE = 2;

  /** Every command, one class each (each a {@link PodsCommand} annotated with its name). */
  static final List<Class<?>> COMMANDS = List.of(
      ValidateCommand.class, RenderCommand.class, DiffCommand.class,
      UpCommand.class, PsCommand.class, LogsCommand.class, ExecCommand.class, WaitCommand.class, DownCommand.class,
      PlanCommand.class, ApplyCommand.class, ScaleCommand.class, RestartCommand.class,
      DisksCommand.class, NodesCommand.class, NodeCommand.class, CompletionCommand.class, HelpCommand.class);

  /** Asks a yes/no question on the terminal; empty when there is no terminal to ask on. */
  interface Confirm {
    /** Blocks until answered; {@code Optional.empty()} when nobody can answer. */
    Optional<Boolean> ask(String question);
  }

  private final PrintStream out;
  private final PrintStream err;
  private final boolean tty;
  private final Confirm confirm;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--data-dir", paramLabel = "DIR", scope = ScopeType.INHERIT,
      description = "the data folder (see `pods help`)")
  private @Nullable Path dataDir;

  @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "print this help")
  private boolean help;

  Main(PrintStream out, PrintStream err) {
    this(out, err, false, q -> Optional.empty());
  }

  Main(PrintStream out, PrintStream err, boolean tty, Confirm confirm) {
    this.out = out;
    this.err = err;
    this.tty = tty;
    this.confirm = confirm;
  }

  /** Runs the command and exits the JVM with its status. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8);
    boolean tty = System.console() != null && System.getenv("NO_COLOR") == null
        && !"dumb".equals(System.getenv("TERM"));
    Confirm confirm = q -> {
      java.io.Console c = System.console();
      if (c == null) {
        return Optional.empty();
      }
      String a = c.readLine("%s [y/N] ", q);
      return Optional.of(a != null && (a.trim().equalsIgnoreCase("y") || a.trim().equalsIgnoreCase("yes")));
    };
    int status = new Main(out, err, tty, confirm).run(args);
    out.flush();
    err.flush();
    System.exit(status);
  }

  /** Runs one command; returns the exit status. */
  int run(String... argv) {
    CommandLine cl = new CommandLine(this);
    for (Class<?> c : COMMANDS) {
      cl.addSubcommand(c);
    }
    usageLayout(cl);
    PrintWriter o = new PrintWriter(out, true, StandardCharsets.UTF_8);
    PrintWriter e = new PrintWriter(err, true, StandardCharsets.UTF_8);
    cl.setOut(o).setErr(e).setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler((ex, args) -> usageError(ex.getCommandLine(), message(ex)));
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      if (ex instanceof Up.UsageException) {
        return usageError(cmd, ex.getMessage());
      }
      if (ex instanceof JsonProcessingException) {
        err.println("pods: cannot write JSON: " + ex.getMessage());
        return 1;
      }
      if (ex instanceof IOException) {
        err.println("pods: " + ex.getMessage());
        return 1;
      }
      if (ex instanceof InterruptedException) {
        Thread.currentThread().interrupt();
        return 1;
      }
      throw ex;
    });
    try {
      return cl.execute(argv);
    } finally {
      o.flush();
      e.flush();
    }
  }

  /** The same help layout for every command: {@code usage: } and 110 columns whatever the terminal. */
  private static void usageLayout(CommandLine cl) {
    cl.setUsageHelpWidth(110);
    cl.getCommandSpec().usageMessage().synopsisHeading("usage: ");
    cl.getSubcommands().values().forEach(Main::usageLayout);
  }

  /** No command: the usage on stderr, exit status 2. */
  @Override
  public Integer call() {
    err.println("pods: name a command");
    err.print(spec.commandLine().getUsageMessage());
    return USAGE;
  }

  private static String message(CommandLine.ParameterException ex) {
    CommandLine cl = ex.getCommandLine();
    if (ex instanceof CommandLine.UnmatchedArgumentException u && cl.getParent() == null
        && cl.getParseResult() != null && !cl.getParseResult().hasSubcommand() && !u.getUnmatched().isEmpty()
        && !u.getUnmatched().get(0).startsWith("-")) {
      return "unknown command '" + u.getUnmatched().get(0) + "'";
    }
    String name = cl.getParent() == null ? "" : cl.getCommandName() + ": ";
    return name + ex.getMessage();
  }

  private int usageError(CommandLine cl, String message) {
    err.println("pods: " + dev.pods.internal.SafeText.oneLine(message));
    err.print(cl.getUsageMessage());
    return USAGE;
  }

  PrintStream out() {
    return out;
  }

  PrintStream err() {
    return err;
  }

  boolean tty() {
    return tty;
  }

  Confirm confirm() {
    return confirm;
  }

  /** {@code --data-dir}, made absolute, else {@link PodRuntime#defaultDataDir()}. */
  Path dataDir() {
    return dataDir == null ? PodRuntime.defaultDataDir() : dataDir.toAbsolutePath().normalize();
  }
}
