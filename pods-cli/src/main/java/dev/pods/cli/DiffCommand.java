package dev.pods.cli;

import dev.pods.Problem;
import dev.pods.diff.UnitDiff;
import dev.pods.template.ParseResult;
import dev.pods.template.Templates;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pods diff [--exit-code] OLD NEW}: what changed between two versions of a unit and its impact (live:
 * applied by a reload; recreate: new instances). Reads the files only.
 */
@Command(name = "diff", description = "print what changed between two versions of a unit, and its impact (live:"
    + " applied by a reload; recreate: new instances)")
final class DiffCommand extends PodsCommand {
  @Option(names = "--exit-code", description = "exit 1 when the units differ")
  boolean exitCode;

  @Parameters(index = "0", paramLabel = "OLD", description = "the old version")
  Path before;

  @Parameters(index = "1", paramLabel = "NEW", description = "the new version")
  Path after;

  @Override
  public Integer call() {
    ParseResult a = Templates.read(before);
    ParseResult b = Templates.read(after);
    if (a.hasErrors() || b.hasErrors()) {
      a.problems().stream().filter(Problem::isError).forEach(p -> err().println(p));
      b.problems().stream().filter(Problem::isError).forEach(p -> err().println(p));
      return 1;
    }
    UnitDiff d = UnitDiff.between(a.orThrow(), b.orThrow());
    out().print(d.toText());
    return exitCode && !d.isEmpty() ? 1 : 0;
  }
}
