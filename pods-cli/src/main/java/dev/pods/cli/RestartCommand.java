package dev.pods.cli;

import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code pods restart POD INSTANCE}: reboots the instance's VM (its reboot and reload blocks run), printing the
 * events until the pod is ready again. Blocks that long.
 */
@Command(name = "restart", description = "reboot an instance (its reboot and reload blocks run); print the events"
    + " until the pod is ready again")
final class RestartCommand extends PodsCommand {
  @Parameters(index = "0", paramLabel = "POD", description = "the pod")
  String pod;

  @Parameters(index = "1", paramLabel = "INSTANCE", description = "the instance, e.g. web-0")
  String instance;

  @Override
  public Integer call() throws IOException {
    return clients().restart(pod, instance);
  }
}
