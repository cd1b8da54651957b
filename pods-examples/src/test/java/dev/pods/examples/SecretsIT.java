package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.Wait;
import dev.pods.kvm.GuestImages;
import dev.pods.secrets.InMemorySecretStore;
import dev.pods.spec.Reference;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Secrets in real tiny guests ({@link RuntimeRig}): the declaring unit reads {@code +/secret/NAME/KEY} with
 * {@code pods get} from a bash and a python block, another unit is refused, a changed value reaches the declaring
 * instance's reload block, and the planted value appears nowhere the run wrote: state and network folders, instance
 * files and console logs, events, the runtime's log output.
 */
@Tag("system")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SecretsIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-secrets-it");
  private static final String OWNER_PREFIX = "podsse-owner-";
  private static final Duration READY = Duration.ofMinutes(4);
  private static final String PLANTED = "Pl4nted-" + Long.toHexString(System.nanoTime()) + "-v4lue";
  private static final String ROTATED = PLANTED + "-rotated";

  private static Pod pod() {
    String get = "pods get +/secret/shop-db/password";
    return Pod.builder().name("sec")
        .unit(Unit.builder().name("db").image("tiny").memoryMib(192)
            .secret(Reference.of("secret", "shop-db"))
            .script(Script.shell(Phase.INITIAL, "echo \"bash: $(" + get + " | sha256sum | cut -c1-64)\"\n"))
            .script(Script.python(Phase.INITIAL, """
                import json, subprocess
                v = subprocess.run(["pods", "get", "+/secret/shop-db/password"], capture_output=True,
                                   text=True, check=True).stdout
                keys = sorted(json.loads(subprocess.run(["pods", "get", "+/secret/shop-db"], capture_output=True,
                                   text=True, check=True).stdout))
                print("python: len=%d sum=%d keys=%s" % (len(v), sum(v.encode()), ",".join(keys)))
                """))
            .script(Script.shell(Phase.RELOAD, "echo \"reload: $(" + get + " | sha256sum | cut -c1-64)\"\n"))
            .build())
        .unit(Unit.builder().name("web").image("tiny").memoryMib(192)
            .script(Script.shell(Phase.INITIAL,
                "if out=$(" + get + " 2>&1); then echo \"web: read it\"; else echo \"web: $out\"; fi\n"))
            .build())
        .build();
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aSecretReachesTheDeclaringUnitOnlyAndIsWrittenNowhere() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "ps", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    InMemorySecretStore secrets = new InMemorySecretStore();
    secrets.put("shop-db", Map.of("password", PLANTED, "user", "shop"));
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    List<String> domains = new ArrayList<>();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream err = System.err;
    PrintStream out = System.out;
    // the runtime logs (slf4j-simple) to System.err: keep a copy to grep
    System.setErr(new PrintStream(tee(err, log), true, StandardCharsets.UTF_8));
    System.setOut(new PrintStream(tee(out, log), true, StandardCharsets.UTF_8));
    RuntimeRig rig = null;
    List<String> found = new ArrayList<>();
    try {
      rig = RuntimeRig.start(RUN_ROOT, "ps", OWNER_PREFIX, image -> {
        if (!image.equals("tiny")) {
          throw new PodsException("this test only knows the image 'tiny', not '" + image + "'");
        }
        return BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline(""));
      }, (p, b) -> b.secrets(secrets));
      Deployment d = rig.runtime.deploy(pod());
      d.events().subscribe(events::add);
      d.instances().forEach(i -> domains.add(i.domainName()));
      Instance db = d.instance("db", 0);
      Instance web = d.instance("web", 0);
      try {
        d.awaitReady(READY);
        String value = PLANTED + "\n"; // pods get ends the value with a newline
        assertThat(db.recentOutput()).contains(
            "bash: " + sha256(value),
            "python: len=" + value.length() + " sum=" + sum(value) + " keys=password,user",
            "reload: " + sha256(value));
        assertThat(web.recentOutput()).containsExactly(
            "web: pods get: +/secret/shop-db/password: not declared by this unit (access refused)");

        secrets.put("shop-db", Map.of("password", ROTATED, "user", "shop"));
        db.await(Wait.forOutput("reload: " + sha256(ROTATED + "\n")), Duration.ofMinutes(2));

        // everything this run wrote so far: instance files (seed, console log), state and network folders
        List<Path> roots = new ArrayList<>(List.of(rig.dir));
        domains.forEach(n -> roots.add(RuntimeRig.DISK_ROOT.resolve("instances").resolve(n)));
        for (Path r : roots) {
          found.addAll(containing(r, PLANTED));
        }
        for (Instance i : d.instances()) {
          if (i.consoleOutput().contains(PLANTED)) {
            found.add("console of " + i.name());
          }
        }
      } catch (Throwable t) {
        for (Instance i : d.instances()) {
          System.out.println("==== " + i.name() + " " + i.state() + " console ====\n" + i.consoleOutput());
        }
        System.out.println("==== events ====\n" + String.join("\n", events.stream().map(Object::toString).toList()));
        throw t;
      } finally {
        d.destroy();
      }
    } finally {
      try {
        if (rig != null) {
          rig.close();
        }
      } finally {
        System.setErr(err);
        System.setOut(out);
      }
    }
    if (events.stream().map(Object::toString).anyMatch(e -> e.contains(PLANTED))) {
      found.add("an event");
    }
    if (log.toString(StandardCharsets.UTF_8).contains(PLANTED)) {
      found.add("the log output");
    }
    assertThat(log.toString(StandardCharsets.UTF_8)).as("the runtime logged").contains("sec");
    assertThat(found).as("where the planted secret value was found").isEmpty();
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  private static long sum(String s) {
    long n = 0;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      n += b & 0xff;
    }
    return n;
  }

  private static List<String> containing(Path root, String text) throws IOException {
    if (!Files.exists(root)) {
      return List.of();
    }
    byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        byte[] b;
        try {
          b = Files.readAllBytes(p);
        } catch (IOException e) {
          continue; // a socket or a file removed meanwhile
        }
        if (indexOf(b, needle) >= 0) {
          out.add(p.toString());
        }
      }
    }
    return out;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static OutputStream tee(OutputStream a, ByteArrayOutputStream b) {
    return new OutputStream() {
      @Override
      public void write(int x) throws IOException {
        a.write(x);
        synchronized (b) {
          b.write(x);
        }
      }

      @Override
      public void write(byte[] buf, int off, int len) throws IOException {
        a.write(buf, off, len);
        synchronized (b) {
          b.write(buf, off, len);
        }
      }

      @Override
      public void flush() throws IOException {
        a.flush();
      }
    };
  }
}
