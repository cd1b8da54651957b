package dev.pods.cli;

import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pods help [CMD]}: the generated help of {@code pods}, or of one command, on stdout. */
@Command(name = "help", description = "print the commands and exit statuses, or a command's options")
final class HelpCommand extends PodsCommand {
  @Parameters(paramLabel = "CMD", arity = "0..1", description = "the command")
  @Nullable String command;

  @Override
  public Integer call() {
    CommandLine root = spec.root().commandLine();
    CommandLine target = root;
    if (command != null) {
      target = root.getSubcommands().get(command);
      if (target == null) {
        throw usage("unknown command '" + command + "'");
      }
    }
    out().print(target.getUsageMessage());
    return 0;
  }
}
