package dev.pods;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.runtime.DefaultPodRuntime;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The API ({@code dev.pods}), the SPI ({@code dev.pods.spi}) and the model's records ({@code dev.pods.spec}) depend on
 * no implementation: read from the constant pools of pods-core's compiled classes (the JDK's {@code javap}), which
 * hold every class a class names (types in signatures, calls, constants, annotations).
 */
class ApiDependenciesTest {
  private static final Set<String> API = Set.of("dev.pods", "dev.pods.spi", "dev.pods.spec");
  /** Implementation packages of pods-core: the engine, the guest agent, host-side phase rules, the fakes. */
  private static final Set<String> IMPLEMENTATION =
      Set.of("dev.pods.runtime", "dev.pods.agent", "dev.pods.phase", "dev.pods.testing");
  /**
   * What the API may reach besides itself: packages of values and stores a host application uses
   * ({@code diff}, {@code secrets}), the metadata protocol's value types that API signatures carry (the IMDS server
   * beside them is not reached), and {@code dev.pods.internal}: pure helpers (name rules, text escaping) that
   * reference no other pods class ({@link #theSharedHelpersAreALeaf}), so no cycle and no implementation.
   */
  private static final Set<String> REACHABLE_PACKAGES =
      Set.of("dev.pods.diff", "dev.pods.secrets", "dev.pods.internal");
  private static final Set<String> REACHABLE_CLASSES = Set.of(
      "dev.pods.imds.ExecRequest", "dev.pods.imds.ExecResult", "dev.pods.imds.OutputStream",
      "dev.pods.imds.ImdsProtocol");
  private static final Pattern CLASS_FILE = Pattern.compile("^Classfile (.*)\\.class$", Pattern.MULTILINE);
  private static final Pattern REFERENCE = Pattern.compile("(?<![/$\\w])L?(dev/pods/(?:[a-z0-9_]+/)*[A-Z][\\w$]*)");

  /** Top-level class -> the top-level pods classes its class files (nested ones included) reference. */
  private static final Map<String, Set<String>> REFS = new TreeMap<>();

  @BeforeAll
  static void readConstantPools() throws IOException, URISyntaxException {
    Path classes = Path.of(PodRuntime.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> args = new ArrayList<>(List.of("-v", "-p"));
    try (Stream<Path> files = Files.walk(classes)) {
      files.filter(p -> p.toString().endsWith(".class") && !p.endsWith("module-info.class"))
          .forEach(p -> args.add(p.toString()));
    }
    ToolProvider javap = ToolProvider.findFirst("javap").orElseThrow();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      rc = javap.run(o, e, args.toArray(String[]::new));
    }
    assertThat(rc).as("javap: %s", err.toString(StandardCharsets.UTF_8)).isZero();
    String text = out.toString(StandardCharsets.UTF_8);
    Matcher m = CLASS_FILE.matcher(text);
    List<int[]> starts = new ArrayList<>();
    List<String> names = new ArrayList<>();
    while (m.find()) {
      starts.add(new int[] {m.start()});
      names.add(topLevel(classes.relativize(Path.of(m.group(1))).toString().replace('/', '.')));
    }
    for (int i = 0; i < starts.size(); i++) {
      String block = text.substring(starts.get(i)[0], i + 1 < starts.size() ? starts.get(i + 1)[0] : text.length());
      Set<String> refs = REFS.computeIfAbsent(names.get(i), k -> new TreeSet<>());
      Matcher r = REFERENCE.matcher(block);
      while (r.find()) {
        refs.add(topLevel(r.group(1).replace('/', '.')));
      }
      refs.remove(names.get(i));
    }
  }

  @Test
  void theScanSeesWhatAClassReferences() {
    assertThat(REFS).containsKeys("dev.pods.PodRuntime", DefaultPodRuntime.class.getName());
    assertThat(REFS.get("dev.pods.PodRuntime")).contains("dev.pods.spi.Providers", "dev.pods.spi.RuntimeSettings");
    assertThat(REFS.get(DefaultPodRuntime.class.getName())).contains("dev.pods.spi.RuntimeSettings");
  }

  @Test
  void apiSpiAndSpecReferenceNoImplementationPackage() {
    List<String> bad = new ArrayList<>();
    REFS.forEach((c, refs) -> {
      if (API.contains(pkg(c))) {
        refs.stream()
            .filter(r -> IMPLEMENTATION.contains(pkg(r)) || (pkg(r).endsWith(".internal") && !pkg(r).equals(
                "dev.pods.internal")) || (pkg(r).equals("dev.pods.imds") && !REACHABLE_CLASSES.contains(r)))
            .forEach(r -> bad.add(c + " -> " + r));
      }
    });
    assertThat(bad).isEmpty();
  }

  @Test
  void everythingTheApiReachesIsApiOrAValueOrAHelper() {
    Set<String> reached = new TreeSet<>();
    Deque<String> todo = REFS.keySet().stream().filter(c -> API.contains(pkg(c)))
        .collect(Collectors.toCollection(ArrayDeque::new));
    while (!todo.isEmpty()) {
      String c = todo.pop();
      if (reached.add(c)) {
        todo.addAll(REFS.getOrDefault(c, Set.of()));
      }
    }
    assertThat(reached).contains("dev.pods.Pod", "dev.pods.spi.Providers", "dev.pods.internal.Names");
    assertThat(reached)
        .filteredOn(c -> !API.contains(pkg(c)) && !REACHABLE_PACKAGES.contains(pkg(c))
            && !REACHABLE_CLASSES.contains(c))
        .isEmpty();
  }

  @Test
  void theSharedHelpersAreALeaf() {
    assertThat(REFS).containsKey("dev.pods.internal.Names");
    REFS.forEach((c, refs) -> {
      if (pkg(c).equals("dev.pods.internal")) {
        assertThat(refs).as(c).allMatch(r -> pkg(r).equals("dev.pods.internal"));
      }
    });
  }

  private static String topLevel(String name) {
    int d = name.indexOf('$');
    return d < 0 ? name : name.substring(0, d);
  }

  private static String pkg(String name) {
    return name.substring(0, name.lastIndexOf('.'));
  }
}
