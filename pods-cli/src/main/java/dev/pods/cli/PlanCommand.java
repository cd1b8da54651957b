package dev.pods.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code pods plan POD FILE...}: what {@code pods apply} would do to the running pod: the diff, then per instance
 * live, recreate, create or remove. Each file replaces the unit of its name or adds a unit. Changes nothing.
 */
@Command(name = "plan", description = "print what applying the templates to the running pod would do: the diff,"
    + " then per instance live or recreate (each FILE replaces the unit of its name, or adds one)")
final class PlanCommand extends PodsCommand {
  @Mixin EtcdOptions.Optional cluster;

  @Parameters(index = "0", paramLabel = "POD", description = "the pod (its pods up process runs the plan)")
  String pod;

  @Parameters(index = "1..*", paramLabel = "FILE", arity = "1..*", description = "the templates that change")
  List<Path> files = new ArrayList<>();

  @Override
  public Integer call() throws IOException, InterruptedException, Up.UsageException {
    if (cluster.given("plan")) {
      return new ClusterCli(out(), err(), cluster.target("plan")).plan(pod, files, new ImageOptions().policy("plan"));
    }
    return clients().plan(pod, files).status();
  }
}
