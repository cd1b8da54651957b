package dev.pods.cli;

import dev.pods.ImagePolicy;
import dev.pods.Problem;
import dev.pods.Unit;
import dev.pods.template.ParseResult;
import dev.pods.template.Templates;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code pods validate FILE...}: every problem of the templates as {@code file:line:col: severity: field: message},
 * the host's image policy included; exit status 1 on any error. Reads files only.
 */
@Command(name = "validate", description = "check templates; print every problem as file:line:col")
final class ValidateCommand extends PodsCommand {
  @Mixin ImageOptions images;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "the templates")
  List<Path> files = new ArrayList<>();

  @Override
  public Integer call() throws Up.UsageException {
    ImagePolicy policy = images.policy("validate");
    boolean errors = false;
    for (Path f : files) {
      ParseResult r = Templates.read(f, policy);
      r.problems().forEach(p -> err().println(p));
      r.advice().forEach(p -> err().println(p));
      if (r.hasErrors()) {
        errors = true;
        long n = r.problems().stream().filter(Problem::isError).count();
        err().println(f + ": invalid (" + n + (n == 1 ? " error)" : " errors)"));
      } else {
        out().println(f + ": ok (unit " + r.orThrow().name() + ")");
        domainNotes(r.orThrow()).forEach(out()::println);
      }
    }
    return errors ? 1 : 0;
  }

  /**
   * One note per DNS record: the domain its host application (or {@code pods up --domain}) must register, since a
   * deploy refuses records of unregistered domains.
   */
  static List<String> domainNotes(Unit u) {
    List<String> notes = new ArrayList<>();
    for (dev.pods.spec.DomainRecords d : u.domains()) {
      for (int i = 0; i < d.records().size(); i++) {
        dev.pods.spec.DomainRecord rec = d.records().get(i);
        String name = rec.domain().name();
        notes.add((rec.location() == null ? "" : rec.location() + ": ") + "note: domains[" + d.name() + "].records["
            + i + "].domain: " + rec.name() + " is published under the zone registered for domain '" + name
            + "': register it with PodRuntime.Builder.domain(\"" + name + "\", ZONE[, provider]) or pods up --domain "
            + name + "=ZONE (a deploy without it fails)");
      }
    }
    return notes;
  }
}
