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
import dev.pods.imds.ExecResult;
import dev.pods.imds.ImdsProtocol;
import dev.pods.kvm.GuestImages;
import dev.pods.secrets.InMemorySecretStore;
import dev.pods.spec.Reference;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A hostile guest floods its metadata service on a real tiny guest ({@link RuntimeRig}), while a second instance of
 * the same pod takes reloads. The flooding guest runs, from inside the VM, parallel loops of busybox {@code wget}
 * and {@code nc}: new run ids with 1 MiB output chunks, report batches naming hundreds of runs, bodies of 5 MiB
 * (refused), declared bodies of 100 MB never sent, and {@value #HELD} connections held open (more than
 * {@link ImdsProtocol#MAX_CONNECTIONS}). The other instance ({@code good}) declares a secret; each rotation of it
 * changes its state hash, and its reload block prints the new value, so a reload's latency is the time from the
 * rotation to that line.
 *
 * <p>Measured in the same test: {@value #RELOADS} reloads of {@code good} before the flood and as many during it
 * (medians compared: at most {@value #LATENCY_FACTOR} times the quiet one; under TCG the flooding guest's emulation
 * takes a host core, which slows the other guest's block itself, whatever its metadata service does), and the host JVM's heap in use after a
 * full GC before the flood and near its end (growth under {@value #HEAP_BOUND_MIB} MiB). The connections over the
 * cap are counted by the instance's nftables table, and once the flood is over the flooded instance serves its
 * guest again (an exec). The flood lasts {@code pods.test.floodSeconds} (default 60) seconds.
 */
@Tag("system")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ImdsFloodIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-flood-it");
  private static final String OWNER_PREFIX = "podsfl-owner-";
  private static final Duration READY = Duration.ofMinutes(4);
  private static final int FLOOD_SECONDS = Integer.getInteger("pods.test.floodSeconds", 60);
  private static final int HELD = 100;
  private static final int RELOADS = 5;
  private static final double LATENCY_FACTOR = 5.0;
  private static final long HEAP_BOUND_MIB = 64;

  /** The flood, as a busybox sh script; {@code $1} is its length in seconds. */
  private static final String FLOOD = """
      T=$(sed -n 's/^token=//p' /tmp/flood.token)
      U=http://169.254.169.254/v1
      END=$(( $(date +%s) + $1 ))
      H="X-Pods-Token: $T"
      # connections held open for the whole flood: the ones over the cap are reset
      i=0
      while [ $i -lt HELD ]; do (sleep "$1") | nc 169.254.169.254 80 >/dev/null 2>&1 & i=$((i + 1)); done
      # new run ids, each with a 1 MiB output chunk
      churn() {
        n=0
        while [ "$(date +%s)" -lt "$END" ]; do
          n=$((n + 1)); r="f$1-$n"
          wget -q -O /dev/null --header "$H" --post-data '' "$U/runs/$r/start?trigger=reboot&blocks=0"
          wget -q -O /dev/null --header "$H" --post-file /tmp/chunk "$U/runs/$r/blocks/0/output?stream=stdout&offset=0"
        done
      }
      # report batches naming hundreds of runs, and bodies over the limit
      reports() {
        while [ "$(date +%s)" -lt "$END" ]; do
          wget -q -O /dev/null --header "$H" --post-file /tmp/report "$U/report"
          wget -q -O /dev/null --header "$H" --post-file /tmp/huge "$U/report"
        done
      }
      # declared bodies of 100 MB that never come
      never() {
        while [ "$(date +%s)" -lt "$END" ]; do
          { printf 'POST /v1/report HTTP/1.1\\r\\nHost: x\\r\\n%s\\r\\nContent-Length: 104857600\\r\\n\\r\\n' "$H"; sleep 3; } \\
            | nc 169.254.169.254 80 >/dev/null 2>&1
        done
      }
      churn 1 & churn 2 & churn 3 & reports & reports & never & never &
      wait
      """.replace("HELD", Integer.toString(HELD));

  /** Writes the flood's script and its inputs (run by the flooding unit's initial block). */
  private static final String PREPARE = """
      cp "$PODS_AGENT_CONF" /tmp/flood.token
      head -c 2000 /dev/zero | tr '\\0' x > /tmp/chunk; echo >> /tmp/chunk
      for i in 1 2 3 4 5 6 7 8 9; do cat /tmp/chunk /tmp/chunk > /tmp/chunk2; mv /tmp/chunk2 /tmp/chunk; done
      : > /tmp/report; i=0
      while [ $i -lt 400 ]; do printf 'run-start b%d first_boot 1 h 0\\nblock-start b%d 0\\n' $i $i >> /tmp/report; i=$((i + 1)); done
      dd if=/dev/zero of=/tmp/huge bs=1024 count=5120 2>/dev/null
      echo prepared $(wc -c < /tmp/chunk) $(wc -c < /tmp/report) $(wc -c < /tmp/huge)
      """;

  private static Pod pod() {
    return Pod.builder().name("fl")
        .unit(Unit.builder().name("bad").image("tiny").memoryMib(192)
            .script(Script.shell(Phase.INITIAL, PREPARE + "cat > /tmp/flood.sh <<'EOF'\n" + FLOOD + "EOF\n"))
            .build())
        .unit(Unit.builder().name("good").image("tiny").memoryMib(192)
            .secret(Reference.of("secret", "flood-s"))
            .script(Script.shell(Phase.RELOAD, "echo \"reload: $(pods get +/secret/flood-s/v)\"\n"))
            .build())
        .build();
  }

  @Test
  void aGuestFloodingItsMetadataServiceForAMinuteNeitherGrowsTheHeapNorSlowsAnotherInstancesReload()
      throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "fl", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    InMemorySecretStore secrets = new InMemorySecretStore();
    secrets.put("flood-s", Map.of("v", "v0"));
    List<String> domains = new ArrayList<>();
    Map<String, CompletableFuture<Long>> seen = new ConcurrentHashMap<>();
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "fl", OWNER_PREFIX, image -> {
      if (!image.equals("tiny")) {
        throw new PodsException("this test only knows the image 'tiny', not '" + image + "'");
      }
      return BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline(""));
    }, (p, b) -> b.secrets(secrets));
    try {
      Deployment d = rig.runtime.deploy(pod());
      d.instances().forEach(i -> domains.add(i.domainName()));
      Instance bad = d.instance("bad", 0);
      Instance good = d.instance("good", 0);
      d.events().subscribe(e -> {
        if (e instanceof PodEvent.OutputLine l && l.instance().equals(good.name()) && l.line().startsWith("reload: ")) {
          seen.computeIfAbsent(l.line().substring(8), k -> new CompletableFuture<>()).complete(System.nanoTime());
        }
      });
      try {
        d.awaitReady(READY);
        assertThat(bad.recentOutput()).contains("prepared 1024512 20180 5242880");
        List<Long> quiet = reloads(secrets, seen, "q", RELOADS, Duration.ZERO);
        long heap0 = heapAfterGc();

        ExecResult started = bad.exec("sh", "-c",
            "setsid sh /tmp/flood.sh " + FLOOD_SECONDS + " >/dev/null 2>&1 </dev/null &");
        assertThat(started.exitCode()).isZero();
        long floodEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(FLOOD_SECONDS);
        // spread the flooded reloads over the flood, its first seconds aside (the loops start)
        Duration pause = Duration.ofSeconds(Math.max(1, FLOOD_SECONDS / (RELOADS + 2)));
        List<Long> flooded = reloads(secrets, seen, "f", RELOADS, pause);
        long heap1 = heapAfterGc();
        long refused = rig.driver.imdsConnectionsRefused(bad.id());
        boolean stillFlooding = System.nanoTime() < floodEnd;
        long left = floodEnd - System.nanoTime();
        if (left > 0) {
          TimeUnit.NANOSECONDS.sleep(left); // the flood's own length, not a synchronisation
        }
        double q = median(quiet);
        double f = median(flooded);
        System.out.printf(Locale.ROOT,
            "IMDS flood of %d s from a real guest: heap in use after GC before %.1f MiB, near the flood's end %.1f MiB"
                + " (growth %.1f MiB); reload latency of another instance: quiet median %.0f ms %s, flooded median"
                + " %.0f ms %s, ratio %.2f; connections over the cap reset: %d%n",
            FLOOD_SECONDS, heap0 / 1048576.0, heap1 / 1048576.0, (heap1 - heap0) / 1048576.0, q, ms(quiet), f,
            ms(flooded), f / q, refused);

        assertThat(stillFlooding).as("the flooded reloads were all taken during the flood").isTrue();
        assertThat((heap1 - heap0) / 1048576.0).as("heap growth in MiB").isLessThan(HEAP_BOUND_MIB);
        assertThat(f).as("flooded median reload latency (ms) against quiet %.0f ms", q)
            .isLessThanOrEqualTo(LATENCY_FACTOR * q);
        assertThat(refused).as("connections over the cap of %d reset", ImdsProtocol.MAX_CONNECTIONS).isPositive();
        // the flood is over: the flooded instance's metadata service serves its guest again
        ExecResult after = bad.exec("echo", "served");
        assertThat(after.stdoutText()).isEqualTo("served\n");
      } catch (Throwable t) {
        for (Instance i : d.instances()) {
          System.out.println("==== " + i.name() + " " + i.state() + " console ====\n" + i.consoleOutput());
        }
        throw t;
      } finally {
        d.destroy();
      }
    } finally {
      rig.close();
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  /** {@code n} rotations of the secret, each timed from the rotation to good's reload line with the new value. */
  private static List<Long> reloads(InMemorySecretStore secrets, Map<String, CompletableFuture<Long>> seen,
      String tag, int n, Duration pause) throws Exception {
    List<Long> out = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      if (!pause.isZero()) {
        Thread.sleep(pause.toMillis()); // spreads the samples over the flood; not a synchronisation
      }
      String v = tag + k + "-" + Long.toString(System.nanoTime(), 36);
      CompletableFuture<Long> line = seen.computeIfAbsent(v, x -> new CompletableFuture<>());
      long t0 = System.nanoTime();
      secrets.put("flood-s", Map.of("v", v));
      out.add(line.get(2, TimeUnit.MINUTES) - t0);
    }
    return out;
  }

  private static double median(List<Long> ns) {
    List<Long> s = new ArrayList<>(ns);
    Collections.sort(s);
    return s.get(s.size() / 2) / 1e6;
  }

  private static String ms(List<Long> ns) {
    return ns.stream().map(x -> Long.toString(x / 1_000_000)).toList().toString();
  }

  private static long heapAfterGc() throws InterruptedException {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200); // lets the collector's reference processing finish; the minimum of three is taken
      best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return best;
  }
}
