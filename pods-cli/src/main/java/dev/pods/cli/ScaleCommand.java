package dev.pods.cli;

import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code pods scale POD UNIT N}: sets the number of instances of the unit (new ones built, the highest removed,
 * peers reload), printing the events until the pod is ready again. Blocks that long.
 */
@Command(name = "scale", description = "set the number of instances of a unit; print the events until the pod is"
    + " ready again")
final class ScaleCommand extends PodsCommand {
  @Parameters(index = "0", paramLabel = "POD", description = "the pod")
  String pod;

  @Parameters(index = "1", paramLabel = "UNIT", description = "the unit")
  String unit;

  @Parameters(index = "2", paramLabel = "N", description = "its number of instances")
  int count;

  @Override
  public Integer call() throws IOException {
    if (count < 0) {
      throw usage("N must not be negative, not " + count);
    }
    return clients().scale(pod, unit, count);
  }
}
