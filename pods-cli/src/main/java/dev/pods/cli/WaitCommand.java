package dev.pods.cli;

import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pods wait [--timeout S] POD}: waits until every instance of the pod is ready; a pod whose up process has not
 * opened its control socket yet is waited for within the same timeout.
 */
@Command(name = "wait", description = "wait until every instance of the pod is ready (and for the pod to appear, when its up"
    + " process is starting)")
final class WaitCommand extends PodsCommand {
  @Option(names = "--timeout", paramLabel = "S", description = "give up after S seconds (default 600)")
  long timeout;

  @Parameters(paramLabel = "POD", description = "the pod")
  String pod;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (spec.commandLine().getParseResult().hasMatchedOption("--timeout") && (timeout < 1 || timeout > 9_999_999)) {
      throw usage("--timeout takes a positive number of seconds");
    }
    return clients().await(pod, timeout);
  }
}
