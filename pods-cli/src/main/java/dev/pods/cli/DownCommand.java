package dev.pods.cli;

import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code pods down POD}: destroys the pod; its up process exits. Blocks for the teardown. */
@Command(name = "down", description = "destroy the pod; its up process exits")
final class DownCommand extends PodsCommand {
  @Mixin EtcdOptions.Optional cluster;

  @Parameters(paramLabel = "POD", description = "the pod")
  String pod;

  @Override
  public Integer call() throws IOException, InterruptedException, Up.UsageException {
    if (cluster.given("down")) {
      return new ClusterCli(out(), err(), cluster.target("down")).down(pod);
    }
    return clients().down(pod);
  }
}
