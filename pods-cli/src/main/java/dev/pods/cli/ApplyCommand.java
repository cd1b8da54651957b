package dev.pods.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pods apply POD FILE... [--yes]}: prints the plan as {@code pods plan} does, asks on the terminal (without
 * one, only {@code --yes} applies), then has the pod's up process apply exactly that plan, printing the events until
 * the pod is ready again. Blocks that long.
 */
@Command(name = "apply", description = "print the plan as `pods plan` does, ask, apply it (live changes in the"
    + " running guests, recreations one instance at a time) and print the events until the pod is ready again")
final class ApplyCommand extends PodsCommand {
  @Mixin EtcdOptions.Optional cluster;

  @Option(names = {"-y", "--yes"}, description = "apply without asking (required without a terminal)")
  boolean yes;

  @Parameters(index = "0", paramLabel = "POD", description = "the pod")
  String pod;

  @Parameters(index = "1..*", paramLabel = "FILE", arity = "1..*", description = "the templates that change")
  List<Path> files = new ArrayList<>();

  @Override
  public Integer call() throws IOException, InterruptedException, Up.UsageException {
    if (cluster.given("apply")) {
      return new ClusterCli(out(), err(), cluster.target("apply")).apply(pod, files, new ImageOptions().policy("apply"), yes, main().confirm());
    }
    Clients c = clients();
    Clients.Planned p = c.plan(pod, files);
    ObjectNode plan = p.reply();
    if (plan == null) {
      return p.status();
    }
    if (plan.path("empty").asBoolean()) {
      out().println("nothing to apply: pod " + pod + " runs these templates already");
      return 0;
    }
    if (!yes) {
      Optional<Boolean> answer = main().confirm().ask("apply this plan to pod " + pod + "?");
      if (answer.isEmpty()) {
        err().println("pods: apply: no terminal to ask on: nothing was applied; add --yes to apply without asking");
        return Main.USAGE;
      }
      if (!answer.get()) {
        err().println("pods: apply: not applied");
        return 1;
      }
    }
    return c.apply(pod, plan.path("id").asText());
  }
}
