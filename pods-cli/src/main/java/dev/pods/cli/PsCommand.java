package dev.pods.cli;

import java.io.IOException;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pods ps [--json] [POD]}: the pods up on this host, their instances, states and addresses. */
@Command(name = "ps", description = "pods up on this host: instances, states, addresses")
final class PsCommand extends PodsCommand {
  @Mixin EtcdOptions.Optional cluster;

  @Option(names = "--json", description = "print the up processes' answers as JSON")
  boolean json;

  @Parameters(paramLabel = "POD", arity = "0..1", description = "only this pod")
  @Nullable String pod;

  @Override
  public Integer call() throws IOException, InterruptedException, Up.UsageException {
    if (cluster.given("ps")) {
      return new ClusterCli(out(), err(), cluster.target("ps")).ps(json, pod);
    }
    return clients().ps(json, pod);
  }
}
