package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.PodRuntime;
import dev.pods.kvm.LibvirtHypervisorProvider;
import dev.pods.net.LinuxNetworkDriverProvider;
import dev.pods.template.MarkdownTemplateReader;
import dev.pods.testing.InMemoryHypervisor;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pods' modules as a host application on the module path sees them: a small consumer module, compiled at test time
 * (javax.tools) against the built modules, may import the exported API and SPI packages, but not the engine nor any
 * {@code internal} package ("not visible"); run in a child JVM with {@code --module-path}, it finds the backends and
 * the template reader as services.
 */
class ModulesTest {
  @TempDir Path tmp;

  /** pods' library modules and the modules they require, as the build made them (jars or class folders). */
  private static String modulePath() {
    Set<String> path = new LinkedHashSet<>();
    for (Class<?> c : List.of(PodRuntime.class, InMemoryHypervisor.class, MarkdownTemplateReader.class,
        LibvirtHypervisorProvider.class, LinuxNetworkDriverProvider.class, org.slf4j.Logger.class,
        com.fasterxml.jackson.databind.ObjectMapper.class,
        com.fasterxml.jackson.core.JsonFactory.class, com.fasterxml.jackson.annotation.JsonProperty.class,
        org.jspecify.annotations.Nullable.class, org.commonmark.parser.Parser.class, org.yaml.snakeyaml.Yaml.class,
        org.libvirt.Connect.class, com.sun.jna.Native.class, org.apache.hc.client5.http.classic.HttpClient.class,
        org.apache.hc.core5.http.HttpHost.class, org.xbill.DNS.Record.class)) {
      try {
        path.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }
    return String.join(File.pathSeparator, path);
  }

  /** Compiles module {@code consumer} whose Main has {@code imports} and {@code body}; javac's diagnostics, or "". */
  private String compile(String imports, String body) throws IOException {
    Path src = tmp.resolve("src");
    Path pkg = Files.createDirectories(src.resolve("consumer"));
    Files.writeString(src.resolve("module-info.java"), """
        module consumer {
          requires dev.pods.core;
          requires dev.pods.template;
          requires dev.pods.kvm;
          requires dev.pods.net;
          requires dev.pods.testing;
          uses dev.pods.spi.HypervisorProvider;
          uses dev.pods.spi.NetworkDriverProvider;
        }
        """);
    Files.writeString(pkg.resolve("Main.java"), "package consumer;\n" + imports + "\npublic class Main {\n"
        + "  public static void main(String[] args) throws Exception {\n" + body + "\n  }\n}\n");
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter out = new StringWriter();
    Boolean ok = javac.getTask(out, null, null,
        // an empty class path: javac would otherwise take this test JVM's, where every package is readable
        List.of("--release", "17", "-proc:none", "--module-path", modulePath(), "--class-path",
            Files.createDirectories(tmp.resolve("no-class-path")).toString(), "-d", tmp.resolve("out").toString()),
        null, javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(
            src.resolve("module-info.java"), pkg.resolve("Main.java"))).call();
    return ok ? "" : out.toString();
  }

  @Test
  void theApiAndSpiPackagesAreReadable() throws IOException {
    assertThat(compile("""
        import dev.pods.Pod;
        import dev.pods.PodRuntime;
        import dev.pods.Unit;
        import dev.pods.spec.Reference;
        import dev.pods.spi.HypervisorProvider;
        import dev.pods.spi.Providers;
        import dev.pods.template.Templates;
        import dev.pods.kvm.LibvirtHypervisorProvider;
        import dev.pods.net.LinuxNetworkDriverProvider;
        import dev.pods.testing.InMemoryHypervisor;
        """, "System.out.println(InMemoryHypervisor.class + \" \" + Pod.class + \" \" + PodRuntime.class"
        + " + Unit.class + Reference.class"
        + " + HypervisorProvider.class + Providers.class + Templates.class + LibvirtHypervisorProvider.class"
        + " + LinuxNetworkDriverProvider.class);")).isEmpty();
  }

  @Test
  void theEngineAndTheInternalPackagesAreNotVisible() throws IOException {
    for (String type : List.of("dev.pods.runtime.DefaultPodRuntime", "dev.pods.agent.AgentScript",
        "dev.pods.internal.Names", "dev.pods.template.internal.YamlWriter", "dev.pods.kvm.internal.DomainXml",
        "dev.pods.net.internal.IpJson")) {
      String pkg = type.substring(0, type.lastIndexOf('.'));
      assertThat(compile("import " + type + ";", "System.out.println(" + type.substring(pkg.length() + 1)
          + ".class);"))
          .as(type)
          .contains("package " + pkg + " is not visible")
          .contains("package " + pkg + " is declared in module");
    }
  }

  /** The fakes (module dev.pods.testing, read by the consumer) are never registered: only the real parts are found. */
  @Test
  void theServicesAreFoundOnTheModulePath() throws Exception {
    Files.writeString(tmp.resolve("web.md"), "# Web\n\n```yaml\nname: web\nkind: instance\nimage: tiny\n```\n");
    assertThat(compile("""
        import dev.pods.Unit;
        import dev.pods.spi.HypervisorProvider;
        import dev.pods.spi.NetworkDriverProvider;
        import dev.pods.spi.Providers;
        import java.nio.file.Path;
        import java.util.ServiceLoader;
        """, """
        for (HypervisorProvider p : ServiceLoader.load(HypervisorProvider.class)) {
          System.out.println("hypervisor " + p.name() + " in " + p.getClass().getModule().getName());
        }
        for (NetworkDriverProvider p : ServiceLoader.load(NetworkDriverProvider.class)) {
          System.out.println("network " + p.name() + " in " + p.getClass().getModule().getName());
        }
        System.out.println("runtime " + Providers.runtime().name() + " in "
            + Providers.runtime().getClass().getModule().getName());
        System.out.println("unit " + Unit.fromMarkdown(Path.of(args[0])).name());
        """)).isEmpty();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "--module-path",
        tmp.resolve("out") + File.pathSeparator + modulePath(), "-m", "consumer/consumer.Main",
        tmp.resolve("web.md").toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out.lines().filter(l -> !l.startsWith("SLF4J")).collect(Collectors.toList())).containsExactly(
        "hypervisor libvirt in dev.pods.kvm",
        "network linux in dev.pods.net",
        "runtime default in dev.pods.core",
        "unit web");
  }
}
