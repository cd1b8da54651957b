package dev.pods.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.template.ParseResult;
import dev.pods.template.Templates;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pods render [--json] FILE}: the unit as canonical Markdown, or its model as JSON. Reads the file only. */
@Command(name = "render", description = "print a template as canonical Markdown, or its model as JSON")
final class RenderCommand extends PodsCommand {
  @Option(names = "--json", description = "print the parsed model as JSON")
  boolean json;

  @Parameters(paramLabel = "FILE", description = "the template")
  Path file;

  @Override
  public Integer call() throws JsonProcessingException {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ParseResult r = Templates.read(file);
    if (r.hasErrors()) {
      if (json) {
        ObjectNode o = mapper.createObjectNode().put("source", r.source());
        ArrayNode a = o.putArray("problems");
        JsonView v = new JsonView(mapper);
        r.problems().forEach(p -> a.add(v.problem(p)));
        out().println(mapper.writeValueAsString(o));
      }
      r.problems().forEach(p -> err().println(p));
      return 1;
    }
    r.problems().forEach(p -> err().println(p));
    if (json) {
      out().println(mapper.writeValueAsString(new JsonView(mapper).unit(r.orThrow())));
    } else {
      out().print(Templates.render(r.orThrow()));
    }
    return 0;
  }
}
