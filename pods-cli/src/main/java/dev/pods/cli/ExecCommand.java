package dev.pods.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pods exec POD INSTANCE [--timeout S] -- CMD [ARG...]}: runs CMD in the guest (no shell); its output and
 * exit status are pods'. {@code --} ends pods' options, so CMD may have options of its own.
 */
@Command(name = "exec", description = "run CMD in the instance (no shell); its output and exit status are ours")
final class ExecCommand extends PodsCommand {
  @Mixin EtcdOptions.Optional cluster;

  @Option(names = "--timeout", paramLabel = "S", description = "stop CMD after S seconds (exit status 124)")
  long timeout;

  @Parameters(index = "0", paramLabel = "POD", description = "the pod")
  String pod;

  @Parameters(index = "1", paramLabel = "INSTANCE", description = "the instance, e.g. web-0")
  String instance;

  @Parameters(index = "2..*", paramLabel = "CMD", arity = "1..*", description = "the command and its arguments,"
      + " after --")
  List<String> argv = new ArrayList<>();

  @Override
  public Integer call() throws IOException, InterruptedException, Up.UsageException {
    if (spec.commandLine().getParseResult().hasMatchedOption("--timeout") && (timeout < 1 || timeout > 9_999_999)) {
      throw usage("--timeout takes a positive number of seconds");
    }
    if (cluster.given("exec")) {
      return new ClusterCli(out(), err(), cluster.target("exec")).exec(pod, instance, timeout, argv);
    }
    return clients().exec(pod, instance, timeout, argv);
  }
}
