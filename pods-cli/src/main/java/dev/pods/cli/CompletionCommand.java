package dev.pods.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;

/**
 * {@code pods completion}: prints a bash completion script for every command and option (picocli's
 * {@link AutoComplete}); {@code source <(pods completion)} enables it in a shell.
 */
@Command(name = "completion", description = "print a bash completion script: source <(pods completion)")
final class CompletionCommand extends PodsCommand {
  @Override
  public Integer call() {
    out().print(AutoComplete.bash("pods", spec.root().commandLine()));
    out().flush();
    return 0;
  }
}
