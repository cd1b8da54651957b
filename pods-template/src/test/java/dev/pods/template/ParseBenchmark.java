package dev.pods.template;

import dev.pods.Unit;
import dev.pods.template.internal.MarkdownSplitter;
import dev.pods.template.internal.Problems;
import dev.pods.template.internal.Segment;
import dev.pods.template.internal.SourceText;
import dev.pods.template.internal.YamlComposer;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Parsing throughput on one core, for the typical 150-line template in {@code templates/typical.md}: prints
 * templates per second for the whole parse and for its main stages, after a warm-up.
 *
 * <p>Run it with {@code pods-template/bench.sh} (which builds the module and its test classpath), or with any
 * {@code java -cp <test classpath> dev.pods.template.ParseBenchmark [seconds-per-round]}.
 */
public final class ParseBenchmark {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static volatile Object sink;

  private ParseBenchmark() {}

  public static void main(String[] args) throws IOException {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
    String template;
    try (InputStream in = ParseBenchmark.class.getResourceAsStream("/templates/typical.md")) {
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Unit parsed = Templates.parse("typical.md", template);
    List<Segment> segments = MarkdownSplitter.split(new SourceText(template), new Problems("typical.md")).segments();
    Segment.YamlSegment yaml =
        segments.stream()
            .filter(Segment.YamlSegment.class::isInstance)
            .map(Segment.YamlSegment.class::cast)
            .findFirst()
            .orElseThrow();
    System.out.printf(
        Locale.ROOT,
        "template: %d lines, %d bytes, %d blocks; yaml fence: %d lines; java %s%n",
        new SourceText(template).lineCount(),
        template.getBytes(StandardCharsets.UTF_8).length,
        parsed.blocks().size(),
        new SourceText(yaml.yaml()).lineCount(),
        System.getProperty("java.version"));

    run("warm-up (full parse)", 3 * seconds, () -> Templates.read("typical.md", template));
    run("full parse (Templates.read)", seconds, () -> Templates.read("typical.md", template));
    run("  markdown split only", seconds, () -> MarkdownSplitter.split(new SourceText(template), new Problems("b")));
    run("    commonmark blocks only", seconds, () -> MarkdownSplitter.parseBlocks(template));
    run("  yaml compose only", seconds, () -> {
      Problems p = new Problems("b");
      YamlComposer.compose(yaml, p, n -> sink = n);
      return p;
    });
    run("  Unit.Builder.build only", seconds, () -> parsed.toBuilder().build());
    run("render (Templates.render)", seconds, () -> Templates.render(parsed));
    run("full parse, again", seconds, () -> Templates.read("typical.md", template));
  }

  /**
   * Runs the work in rounds of about {@code seconds} of this thread's CPU time each and prints the rate per CPU
   * second (what one core does, whatever else runs on the machine) as the median and the best of the rounds,
   * and the median per wall-clock second. On a machine shared with other work the best round is the closest to
   * an idle core: contention (shared caches, hyper-threads) only ever slows a round down.
   */
  private static void run(String name, double seconds, Supplier<Object> work) {
    int rounds = 7;
    double[] cpuRates = new double[rounds];
    double[] wallRates = new double[rounds];
    long budget = (long) (seconds * 1e9 / rounds);
    for (int r = 0; r < rounds; r++) {
      long wallStart = System.nanoTime();
      long cpuStart = THREADS.getCurrentThreadCpuTime();
      long n = 0;
      long cpu;
      do {
        for (int i = 0; i < 50; i++) {
          sink = work.get();
        }
        n += 50;
        cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
      } while (cpu < budget);
      cpuRates[r] = n / (cpu / 1e9);
      wallRates[r] = n / ((System.nanoTime() - wallStart) / 1e9);
    }
    java.util.Arrays.sort(cpuRates);
    java.util.Arrays.sort(wallRates);
    double median = cpuRates[rounds / 2];
    double best = cpuRates[rounds - 1];
    System.out.printf(
        Locale.ROOT,
        "%-30s median %7.0f /s (%6.1f us)  best %7.0f /s (%6.1f us) per CPU second;  median %7.0f /s wall%n",
        name,
        median,
        1e6 / median,
        best,
        1e6 / best,
        wallRates[rounds / 2]);
  }
}
