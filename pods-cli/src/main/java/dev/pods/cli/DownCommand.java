package dev.pods.cli;

import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pods down POD}: destroys the pod; its up process exits. Blocks for the teardown. */
@Command(name = "down", description = "destroy the pod; its up process exits")
final class DownCommand extends PodsCommand {
  @Parameters(paramLabel = "POD", description = "the pod")
  String pod;

  @Override
  public Integer call() throws IOException {
    return clients().down(pod);
  }
}
