package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.ConflictException;
import dev.pods.Deployment;
import dev.pods.Disks;
import dev.pods.Instance;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.ExecResult;
import dev.pods.kvm.DiskImages;
import dev.pods.kvm.GuestImages;
import dev.pods.kvm.KvmDiskStore;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import dev.pods.spi.DiskStore;
import java.nio.file.Files;
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
 * A named persistent disk on real tiny guests ({@link RuntimeRig}, qcow2 volumes of {@link KvmDiskStore}): created
 * blank on first use, formatted once (ext4) and mounted before the blocks run; a file written to it survives a
 * recreation (memory change), a new runtime adopting the deployment, and a destroy followed by a new deploy;
 * deleting it is refused while an instance uses it, and works after the destroy.
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class DisksIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-disks-it");
  private static final String OWNER_PREFIX = "podsdk-owner-";
  private static final Duration READY = Duration.ofMinutes(4);

  private static Pod pod(String disk, int memory) {
    return Pod.builder().name("dk")
        .unit(Unit.builder().name("db").image("tiny").memoryMib(memory)
            .mount(new Mount("data", Mount.Type.DISK, "/srv/data", null, List.of(Reference.of("disk", disk))))
            // the disk is mounted before the blocks run
            .script(dev.pods.Script.shell(dev.pods.Phase.INITIAL,
                "grep ' /srv/data ext4 ' /proc/mounts >/dev/null && echo mounted, holding: $(ls /srv/data)\n"))
            .build())
        .build();
  }

  private static String exec(Instance i, String script) {
    ExecResult r = i.exec("sh", "-c", script);
    assertThat(r.exitCode()).as("exec in %s: %s", i.name(), r).isZero();
    return r.stdoutText().strip();
  }

  @Test
  void aFileOnADiskSurvivesRecreationAdoptionAndRedeploy() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "pd", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    DiskStore store = KvmDiskStore.on(DiskImages.at(RuntimeRig.DISK_ROOT));
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    List<String> domains = new ArrayList<>();
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "pd", OWNER_PREFIX, image -> {
      if (!image.equals("tiny")) {
        throw new PodsException("this test only knows the image 'tiny', not '" + image + "'");
      }
      return BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline(""));
    }, (p, b) -> b.disks(store));
    String disk = rig.prefix + "-data";
    Deployment d = null;
    try {
      d = rig.runtime.deploy(pod(disk, 192));
      d.events().subscribe(events::add);
      Instance db = d.instance("db", 0);
      domains.add(db.domainName());
      try {
        d.awaitReady(READY);
        assertThat(db.recentOutput()).containsExactly("mounted, holding: lost+found");
        assertThat(db.consoleOutput()).contains("formatting the blank disk /dev/vda (ext4) for /srv/data");
        Disks.Disk made = rig.runtime.disks().find(disk).orElseThrow();
        assertThat(made.sizeBytes()).isEqualTo(DiskStore.DEFAULT_SIZE_BYTES);
        assertThat(made.usedBy()).isEqualTo("dk/db-0");
        assertThat(exec(db, "echo kept > /srv/data/file && sync && df -k /srv/data | tail -n 1"))
            .matches("/dev/vda\\s+(\\d+)\\s.*/srv/data").satisfies(l -> assertThat(
                Long.parseLong(l.split("\\s+")[1])).as("size in KiB").isGreaterThan(9L * 1024 * 1024));

        // a recreation (memory): a new domain and root, the same disk, not formatted again
        d.plan(pod(disk, 256)).apply();
        d.awaitReady(READY);
        db = d.instance("db", 0);
        assertThat(exec(db, "cat /srv/data/file; grep MemTotal /proc/meminfo")).startsWith("kept\n");
        assertThat(db.consoleOutput()).doesNotContain("formatting").contains("mounted /dev/vda (pods-m0)");
        assertThatThrownBy(() -> rig.runtime.disks().delete(disk)).isInstanceOf(ConflictException.class)
            .hasMessageContaining("in use by dk/db-0");

        // a new runtime adopts the running deployment: the same disk, still mounted
        rig.reopen();
        d = rig.runtime.deployment("dk").orElseThrow();
        assertThat(exec(d.instance("db", 0), "cat /srv/data/file")).isEqualTo("kept");

        // destroy keeps the disk; a new deploy mounts it again
        d.destroy();
        d = null;
        assertThat(rig.runtime.disks().find(disk)).get().extracting(Disks.Disk::usedBy).isNull();
        d = rig.runtime.deploy(pod(disk, 192));
        d.awaitReady(READY);
        domains.add(d.instance("db", 0).domainName());
        assertThat(d.instance("db", 0).recentOutput()).containsExactly("mounted, holding: file lost+found");
        assertThat(exec(d.instance("db", 0), "cat /srv/data/file")).isEqualTo("kept");
      } catch (Throwable t) {
        if (d != null) {
          for (Instance i : d.instances()) {
            System.out.println("==== " + i.name() + " " + i.state() + " console ====\n" + i.consoleOutput());
          }
        }
        System.out.println("==== events ====\n" + String.join("\n", events.stream().map(Object::toString).toList()));
        throw t;
      } finally {
        if (d != null) {
          d.destroy();
        }
      }
      Path file = store.find(disk).orElseThrow().path();
      rig.runtime.disks().delete(disk);
      assertThat(rig.runtime.disks().find(disk)).isEmpty();
      assertThat(Files.exists(file)).isFalse();
    } finally {
      try {
        store.delete(disk);
      } finally {
        rig.close();
      }
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }
}
