package dev.pods.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The base of every {@code pods} subcommand: a picocli command object whose {@link #call()} runs the command and
 * returns its exit status ({@link Main#EXIT_STATUS}). It reaches the streams, the terminal and the data folder of
 * the {@link Main} at the root of its command line. Adding a command is one class: a subclass annotated with
 * {@code @Command(name = ...)}, listed in {@link Main#COMMANDS}. One object per parse; not thread-safe.
 */
abstract class PodsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** The {@link Main} this command runs in. */
  final Main main() {
    return (Main) spec.root().userObject();
  }

  final PrintStream out() {
    return main().out();
  }

  final PrintStream err() {
    return main().err();
  }

  /** The data folder: {@code --data-dir}, else the runtime's default. */
  final Path dataDir() {
    return main().dataDir();
  }

  /** The clients of the control sockets in the data folder. */
  final Clients clients() {
    return new Clients(out(), err(), dataDir());
  }

  /** The exception that makes picocli print {@code pods: <message>} and this command's usage; exit status 2. */
  final picocli.CommandLine.ParameterException usage(String message) {
    return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
  }
}
