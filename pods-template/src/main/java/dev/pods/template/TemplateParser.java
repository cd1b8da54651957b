package dev.pods.template;

import dev.pods.ImagePolicy;
import dev.pods.Block;
import dev.pods.PodSpecException;
import dev.pods.Problem;
import dev.pods.ResourceBlock;
import dev.pods.Unit;
import dev.pods.spec.InstanceOptions;
import dev.pods.template.internal.InstanceSpec;
import dev.pods.template.internal.Limits;
import dev.pods.template.internal.MarkdownSplitter;
import dev.pods.template.internal.Problems;
import dev.pods.template.internal.ResourceDecoder;
import dev.pods.template.internal.Segment;
import dev.pods.template.internal.SourceText;
import dev.pods.template.internal.YamlComposer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Reads one template into a {@link ParseResult}; all state is local to a call. */
final class TemplateParser {
  private TemplateParser() {}

  static ParseResult read(Path file) {
    return read(file, null);
  }

  static ParseResult read(Path file, @Nullable ImagePolicy imagePolicy) {
    String source = file.toString();
    Problems problems = new Problems(source);
    byte[] bytes;
    try {
      bytes = readAtMost(file, Limits.MAX_TEMPLATE_BYTES + 1);
    } catch (NoSuchFileException e) {
      problems.error(problems.at(1, 1), "template", "cannot read the template: no such file");
      return new ParseResult(source, null, problems.sorted());
    } catch (AccessDeniedException e) {
      problems.error(problems.at(1, 1), "template", "cannot read the template: permission denied");
      return new ParseResult(source, null, problems.sorted());
    } catch (IOException | RuntimeException e) {
      problems.error(problems.at(1, 1), "template", "cannot read the template: " + e);
      return new ParseResult(source, null, problems.sorted());
    }
    return read(source, bytes, imagePolicy);
  }

  private static byte[] readAtMost(Path file, int max) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(max);
    }
  }

  /** Decodes UTF-8 strictly (a malformed byte is an error at its line and column), then parses. */
  static ParseResult read(String source, byte[] bytes) {
    return read(source, bytes, null);
  }

  static ParseResult read(String source, byte[] bytes, @Nullable ImagePolicy imagePolicy) {
    Problems problems = new Problems(source);
    if (bytes.length > Limits.MAX_TEMPLATE_BYTES) {
      tooLarge(problems);
      return new ParseResult(source, null, problems.sorted());
    }
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length + 1);
    CoderResult r = decoder.decode(in, out, true);
    if (!r.isError()) {
      r = decoder.flush(out);
    }
    if (r.isError()) {
      out.flip();
      String before = out.toString();
      SourceText lines = new SourceText(before + "x");
      int line = lines.lineCount();
      int column = lines.lineEnd(line - 1) - lines.lineStart(line - 1);
      int bad = bytes[in.position()] & 0xFF;
      problems.error(
          problems.at(line, column),
          "template",
          "invalid UTF-8 (byte 0x" + String.format("%02X", bad) + "): a template is UTF-8 text");
      return new ParseResult(source, null, problems.sorted());
    }
    out.flip();
    String text = out.toString();
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    return parse(source, text, imagePolicy);
  }

  /** Parses a decoded template; never throws for any content. */
  static ParseResult parse(String source, String markdown) {
    return parse(source, markdown, null);
  }

  /** Parses a decoded template, checking its image against {@code imagePolicy} when given; never throws. */
  static ParseResult parse(String source, String markdown, @Nullable ImagePolicy imagePolicy) {
    Problems problems = new Problems(source);
    Unit unit = null;
    try {
      unit = parse(markdown, problems, imagePolicy);
    } catch (RuntimeException | StackOverflowError e) {
      // A bug, never a property of the input: reported so that no input makes read() throw.
      problems.error(problems.at(1, 1), "template", "internal error while reading the template: " + e);
      unit = null;
    }
    return problems.hasErrors() ? new ParseResult(source, null, problems.sorted())
        : new ParseResult(source, unit, problems.sorted(), problems.advice());
  }

  private static @Nullable Unit parse(String markdown, Problems problems, @Nullable ImagePolicy imagePolicy) {
    if (utf8Length(markdown) > Limits.MAX_TEMPLATE_BYTES) {
      tooLarge(problems);
      return null;
    }
    SourceText src = new SourceText(markdown);
    MarkdownSplitter.Split split = MarkdownSplitter.split(src, problems);
    List<Segment> segments = split.segments();
    if (segments.isEmpty() && problems.hasErrors()) {
      return null;
    }
    List<Block> blocks = new ArrayList<>();
    ResourceDecoder decoder = null;
    boolean yamlComplete = !split.yamlIncomplete();
    Segment.YamlSegment firstYaml = null;
    for (Segment s : segments) {
      if (problems.isFull()) {
        return null;
      }
      if (s instanceof Segment.ProseSegment p) {
        blocks.add(p.prose());
      } else if (s instanceof Segment.ScriptSegment sc) {
        blocks.add(sc.script());
      } else if (s instanceof Segment.YamlSegment y) {
        if (decoder == null) {
          decoder = new ResourceDecoder(problems, y, imagePolicy);
          firstYaml = y;
        } else {
          decoder.startBlock(y);
        }
        boolean hadErrors = problems.hasErrors();
        ResourceDecoder d = decoder;
        boolean complete = YamlComposer.compose(y, problems, d::document);
        yamlComplete &= complete;
        List<String> names = decoder.blockNames();
        if (names.isEmpty() && complete && !problems.hasErrors() && !hadErrors) {
          problems.warning(
              problems.at(y.fenceLine(), y.fenceColumn()), "yaml", "this yaml fence declares no resource");
        }
        blocks.add(new ResourceBlock(names));
      }
    }
    InstanceSpec spec = decoder == null ? null : decoder.instance();
    if (spec == null) {
      if (yamlComplete) {
        problems.error(
            firstYaml == null ? problems.at(1, 1) : problems.at(firstYaml.fenceLine(), firstYaml.fenceColumn()),
            "instance",
            firstYaml == null
                ? "no resources: a template needs a ```yaml fence with a 'kind: instance' resource"
                : "no instance resource: a template needs one resource of 'kind: instance'");
      }
      return null;
    }
    return build(spec, decoder, blocks, problems);
  }

  private static @Nullable Unit build(
      InstanceSpec spec, ResourceDecoder decoder, List<Block> blocks, Problems problems) {
    Unit.Builder b = Unit.builder();
    if (spec.name != null) {
      b.name(spec.name);
    }
    if (spec.image != null) {
      b.image(spec.image);
    }
    if (spec.count != null) {
      b.count(spec.count);
    }
    if (spec.processors != null) {
      b.processors(spec.processors);
    }
    if (spec.memoryMib != null) {
      b.memoryMib(spec.memoryMib);
    }
    if (spec.diskSizeGib != null) {
      b.diskSizeGib(spec.diskSizeGib);
    }
    if (spec.vpc != null) {
      b.vpc(spec.vpc);
    }
    b.subnet(spec.subnet);
    if (spec.publicAddress != null) {
      b.publicAddress(spec.publicAddress);
    }
    if (spec.restart != null) {
      b.restart(spec.restart);
    }
    if (spec.livenessTimeoutSeconds != null) {
      b.livenessTimeout(java.time.Duration.ofSeconds(spec.livenessTimeoutSeconds));
    }
    b.readinessChecks(spec.readinessChecks).livenessChecks(spec.livenessChecks);
    b.nodePorts(spec.nodePorts).mounts(spec.mounts).roles(spec.roles).secrets(spec.secrets);
    try {
      b.options(
          new InstanceOptions(
              spec.zone, spec.node, spec.shape, spec.plan, spec.uefi, spec.secureBoot, spec.cloudType, spec.tpm,
              spec.vnc, spec.gui, spec.deleteProtection, spec.skipSourceDestCheck, spec.dhcpServer,
              spec.hostAddress, spec.publicAddress6, spec.certificates, spec.pods, spec.failover));
    } catch (IllegalArgumentException e) {
      problems.error(spec.start, "instance", String.valueOf(e.getMessage()));
    }
    b.firewalls(decoder.firewalls()).domains(decoder.domains()).journals(decoder.journals()).blocks(blocks);
    try {
      Unit unit = b.build();
      if (!problems.hasErrors()) {
        decoder.reportNoEffect();
      }
      if (unit.firewalls().isEmpty()) {
        problems.advise(spec.start, "firewall", "unit " + unit.name() + " has no firewall: every port of its"
            + " instances is open to its VPC peers and, with a public address, to anyone; a 'kind: firewall'"
            + " resource admits only what its rules name");
      }
      return problems.hasErrors() ? null : unit;
    } catch (PodSpecException e) {
      for (Problem p : e.problems()) {
        // The decoder already reported a missing or invalid name or image at its node.
        if ((p.field().equals("name") && spec.name == null) || (p.field().equals("image") && spec.image == null)) {
          continue;
        }
        problems.error(spec.locate(p.field()), "instance." + p.field(), p.message());
      }
      return null;
    }
  }

  private static void tooLarge(Problems problems) {
    problems.error(
        problems.at(1, 1),
        "template",
        "the template is larger than " + Limits.MAX_TEMPLATE_BYTES + " bytes (1 MiB, the limit)");
  }

  private static long utf8Length(String s) {
    if (s.length() > Limits.MAX_TEMPLATE_BYTES || s.length() <= Limits.MAX_TEMPLATE_BYTES / 3) {
      return s.length(); // over the bound either way, or within it even at 3 bytes a character
    }
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
