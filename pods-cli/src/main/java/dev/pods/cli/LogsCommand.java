package dev.pods.cli;

import java.io.IOException;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pods logs [-f] [--journal KEY] [POD [INSTANCE]]}: the log of a pod's latest up, optionally followed. */
@Command(name = "logs", description = "phase output, phase and state changes of the pod's latest up")
final class LogsCommand extends PodsCommand {
  @Mixin EtcdOptions.Optional cluster;

  @Option(names = {"-f", "--follow"}, description = "follow the log until the up process ends")
  boolean follow;

  @Option(names = "--journal", paramLabel = "KEY", description = "only the lines of the units' journal input KEY")
  @Nullable String journal;

  @Parameters(index = "0", paramLabel = "POD", arity = "0..1", description = "the pod (default: the only one logged)")
  @Nullable String pod;

  @Parameters(index = "1", paramLabel = "INSTANCE", arity = "0..1", description = "only this instance's lines")
  @Nullable String instance;

  @Override
  public Integer call() throws IOException, InterruptedException, Up.UsageException {
    if (cluster.given("logs")) {
      return new ClusterCli(out(), err(), cluster.target("logs")).logs(follow, journal, pod, instance);
    }
    return clients().logs(follow, journal, pod, instance);
  }
}
