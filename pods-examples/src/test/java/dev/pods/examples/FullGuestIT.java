package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import dev.pods.ExecResult;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.KvmDiskStore;
import dev.pods.kvm.KvmInstanceFiles;
import dev.pods.secrets.InMemorySecretStore;
import dev.pods.spec.Journal;
import dev.pods.spec.JournalInput;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import dev.pods.spi.DiskStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One full guest ({@link GuestImages#full()}: Debian 12 with systemd and cloud-init, booted with the tiny kernel
 * and initramfs switching root to the disk) deployed through the runtime with the real parts ({@link RuntimeRig}).
 * Nothing but the seed that {@link KvmInstanceFiles} writes starts the agent there: cloud-init configures DHCP
 * (its fallback network config: the seed has none) and installs the agent and its systemd unit from the
 * user-data, which must pass cloud-init's schema check.
 *
 * <p>Checks that a bash block (an associative array: bash, not sh) and a python block (with {@code import json})
 * ran in document order with the environment handed from one to the other, that a persistent disk is mounted
 * before the blocks run, that the unit reads its secret, that a {@code systemd} journal input's lines arrive as
 * events, that {@code exec} works, and that destroy leaves nothing (but the disk, deleted at the end). One guest only (it needs 512 MiB and boots in about 1-3 minutes under TCG). Every name
 * starts with the per-run prefix {@code pf????}.
 */
@Tag("system")
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class FullGuestIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-fullguest-it");
  private static final String OWNER_PREFIX = "podsfg-owner-";
  private static final Duration READY = Duration.ofMinutes(8);

  private static final String SECRET = "full-guest-" + Long.toHexString(System.nanoTime());

  private static Pod pod(String disk) {
    return Pod.builder().name("fg")
        .unit(Unit.builder().name("app").image("full").memoryMib(512).diskSizeGib(3)
            .mount(new Mount("data", Mount.Type.DISK, "/srv/data", null, List.of(Reference.of("disk", disk))))
            .secret(Reference.of("secret", "fg-db"))
            .journal(new Journal("logs", List.of(
                new JournalInput("hello", JournalInput.Type.SYSTEMD, "pods-hello.service", null))))
            .script(Script.bash(Phase.INITIAL, """
                declare -A kind=([shell]="$(readlink -f /proc/$$/exe)")
                export FROM_BASH="bash ${BASH_VERSINFO[0]} as ${kind[shell]}"
                echo "bash: $FROM_BASH on $(hostname)"
                """))
            .script(Script.python(Phase.INITIAL, """
                import json, os, sys
                print("python: " + json.dumps({"from_bash": os.environ["FROM_BASH"], "major": sys.version_info[0]},
                                              sort_keys=True))
                """))
            // the disk is mounted before the blocks run; the secret is read; a systemd unit's journal is shipped
            .script(Script.bash(Phase.INITIAL, """
                grep -q ' /srv/data ext4 ' /proc/mounts && echo "disk: mounted"
                echo "secret: $(pods get +/secret/fg-db/password | sha256sum | cut -c1-64)"
                systemd-run --quiet --unit=pods-hello sh -c 'echo hello from systemd'
                """))
            .build())
        .build();
  }

  @Test
  void aFullGuestRunsTheAgentFromItsCloudInitSeed() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "pf", OWNER_PREFIX, "rig");
    GuestImages.Full full = GuestImages.configured().full();
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    List<String> domains = new ArrayList<>();
    InMemorySecretStore secrets = new InMemorySecretStore();
    secrets.put("fg-db", java.util.Map.of("password", SECRET));
    DiskStore store = KvmDiskStore.on(DiskImages.at(RuntimeRig.DISK_ROOT));
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "pf", OWNER_PREFIX, image -> {
      if (!image.equals("full")) {
        throw new PodsException("this test only knows the image 'full', not '" + image + "'");
      }
      return new BootImage(full.kernel(), full.initrd(), full.cmdline(), full.disk());
    }, (p, b) -> b.secrets(secrets).disks(store));
    String disk = rig.prefix + "-fg";
    try {
      long t0 = System.nanoTime();
      Deployment d = rig.runtime.deploy(pod(disk));
      java.util.concurrent.CountDownLatch hello = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch readySeen = new java.util.concurrent.CountDownLatch(1);
      // one subscriber records and counts: two subscribers are fed independently, so the latch of one could
      // open before the other has recorded the same line
      d.events().subscribe(e -> {
        events.add(e);
        if (e instanceof PodEvent.StateChanged c && c.to() == InstanceState.READY) {
          readySeen.countDown();
        }
        if (e instanceof PodEvent.JournalLine j && j.line().equals("hello from systemd")) {
          hello.countDown();
        }
      });
      d.instances().forEach(i -> domains.add(i.domainName()));
      Instance app = d.instance("app", 0);
      try {
        d.awaitReady(READY);
        System.out.printf("full-guest-it: deploy -> ready %d ms (1 full guest, %s)%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), rig.hv.autoAcceleration());
        // the feed delivers on its own threads: the events up to READY may reach the subscriber after awaitReady
        assertThat(readySeen.await(30, TimeUnit.SECONDS)).as("the READY event delivered").isTrue();
        assertThat(app.state()).isEqualTo(InstanceState.READY);

        assertThat(events).filteredOn(PodEvent.PhaseFinished.class::isInstance)
            .map(PodEvent.PhaseFinished.class::cast)
            .filteredOn(f -> f.trigger() == Trigger.FIRST_BOOT)
            .singleElement()
            .satisfies(f -> assertThat(f.ok()).as("first boot ran: %s", f).isTrue());
        List<String> bash = lines(events, 0);
        List<String> python = lines(events, 1);
        assertThat(bash).singleElement().asString()
            .matches("bash: bash 5 as /(usr/)?bin/bash on app-0");
        String fromBash = bash.get(0).substring("bash: ".length(), bash.get(0).lastIndexOf(" on "));
        assertThat(python).containsExactly(
            "python: {\"from_bash\": \"" + fromBash + "\", \"major\": 3}");
        assertThat(lines(events, 2)).containsExactly("disk: mounted", "secret: " + HexFormat.of().formatHex(
            MessageDigest.getInstance("SHA-256").digest((SECRET + "\n").getBytes(StandardCharsets.UTF_8))));
        assertThat(hello.await(60, TimeUnit.SECONDS)).as("the systemd unit's line arrived").isTrue();
        assertThat(app.journal("hello")).contains("hello from systemd");
        assertThat(events).filteredOn(PodEvent.JournalLine.class::isInstance).map(PodEvent.JournalLine.class::cast)
            .anySatisfy(j -> assertThat(j.key() + " " + j.line()).isEqualTo("hello hello from systemd"));

        ExecResult r = app.exec("sh", "-c",
            "hostname; systemctl is-active " + KvmInstanceFiles.AGENT_UNIT
                + "; . /etc/os-release; echo $ID $VERSION_ID; stat -c %a " + KvmInstanceFiles.AGENT_CONFIG_PATH
                + "; ip -4 -o addr show dev eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p'");
        assertThat(r.exitCode()).as("exec: %s", r).isZero();
        assertThat(r.stdoutText().lines().map(String::strip).toList()).containsExactly(
            "app-0", "active", "debian 12", "600", app.privateAddress().getHostAddress());
        assertThat(app.consoleOutput()).contains("PODS-SWITCH-ROOT", "PODS-AGENT-START");
        // the user-data KvmInstanceFiles writes passes cloud-init's own schema check
        ExecResult schema = app.exec("sh", "-c", "cloud-init schema --system 2>&1");
        assertThat(schema.stdoutText()).as("cloud-init schema: %s", schema).contains("Valid cloud-config");
      } catch (Throwable t) {
        System.out.println("==== " + app.name() + " " + app.state() + " console ====\n" + app.consoleOutput());
        System.out.println("==== events ====\n" + String.join("\n", events.stream().map(Object::toString).toList()));
        throw t;
      } finally {
        d.destroy();
      }
    } finally {
      try {
        store.delete(disk);
      } finally {
        rig.close();
      }
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }

  private static List<String> lines(List<PodEvent> events, int block) {
    return events.stream().filter(PodEvent.OutputLine.class::isInstance).map(PodEvent.OutputLine.class::cast)
        .filter(o -> o.block() == block && o.stream() == dev.pods.OutputStream.STDOUT)
        .map(PodEvent.OutputLine::line).toList();
  }
}
