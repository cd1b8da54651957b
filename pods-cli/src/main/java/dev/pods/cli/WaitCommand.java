package dev.pods.cli;

import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pods wait [--timeout S] POD}: waits until every instance of the pod is ready. */
@Command(name = "wait", description = "wait until every instance of the pod is ready")
final class WaitCommand extends PodsCommand {
  @Option(names = "--timeout", paramLabel = "S", description = "give up after S seconds (default 600)")
  long timeout;

  @Parameters(paramLabel = "POD", description = "the pod")
  String pod;

  @Override
  public Integer call() throws IOException {
    if (spec.commandLine().getParseResult().hasMatchedOption("--timeout") && (timeout < 1 || timeout > 9_999_999)) {
      throw usage("--timeout takes a positive number of seconds");
    }
    return clients().await(pod, timeout);
  }
}
