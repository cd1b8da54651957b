package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.ExecResult;
import dev.pods.kvm.GuestImages;
import dev.pods.spec.Mount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Host folders in a real tiny guest ({@link RuntimeRig}): shared with virtiofs, mounted before the blocks run,
 * read-only by default (a write fails in the guest, also after root there remounts the share read-write: the host
 * shares a read-only bind mount, kept when a new runtime adopts the pod and removed with the domain), writable
 * with {@code readOnly: false} (the host sees the file); a folder outside the runtime's host-folder policy fails
 * the deploy.
 */
@Tag("system")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class HostFoldersIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-hostfolders-it");
  private static final String OWNER_PREFIX = "podshf-owner-";

  @Test
  void aHostFolderIsReadableReadOnlyByDefaultAndWritableWhenAsked() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "ph", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    Path shares = Files.createDirectories(RUN_ROOT.resolve("shares-" + ProcessHandle.current().pid()));
    Path ro = Files.createDirectories(shares.resolve("ro"));
    Path rw = Files.createDirectories(shares.resolve("rw"));
    Files.writeString(ro.resolve("hello.txt"), "from the host\n");
    List<String> domains = new ArrayList<>();
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "ph", OWNER_PREFIX, image -> {
      if (!image.equals("tiny")) {
        throw new PodsException("this test only knows the image 'tiny', not '" + image + "'");
      }
      return BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline(""));
    }, (p, b) -> b.hostFolder(shares));
    try {
      Pod outside = Pod.builder().name("hx").unit(Unit.builder().name("x").image("tiny").memoryMib(192)
          .mount(new Mount(null, Mount.Type.HOST_PATH, "/mnt/etc", "/etc", List.of())).build()).build();
      assertThatThrownBy(() -> rig.runtime.deploy(outside)).isInstanceOf(PodsException.class)
          .hasMessageContaining("unit x mounts[0] (/mnt/etc): hostPath /etc is outside the host folders");

      Pod pod = Pod.builder().name("hf").unit(Unit.builder().name("web").image("tiny").memoryMib(192)
          .mount(new Mount(null, Mount.Type.HOST_PATH, "/srv/www", ro.toString(), List.of()))
          .mount(new Mount(null, Mount.Type.HOST_PATH, "/srv/out", rw.toString(), List.of(), false))
          // mounted before the blocks run
          .script(Script.shell(Phase.INITIAL, "echo \"block sees: $(cat /srv/www/hello.txt)\"\n"))
          .build()).build();
      Deployment d = rig.runtime.deploy(pod);
      Instance web = d.instance("web", 0);
      domains.add(web.domainName());
      try {
        d.awaitReady(Duration.ofMinutes(4));
        assertThat(web.recentOutput()).containsExactly("block sees: from the host");
        ExecResult write = web.exec("sh", "-c", "echo x > /srv/www/new.txt");
        assertThat(write.exitCode()).isNotZero();
        assertThat(write.stderrText()).contains("Read-only file system");
        assertThat(ro.resolve("new.txt")).doesNotExist();
        ExecResult out = web.exec("sh", "-c", "echo written by $(hostname) > /srv/out/guest.txt && "
            + "grep -E ' /srv/(www|out) ' /proc/mounts | cut -d' ' -f2-4");
        assertThat(out.exitCode()).as("%s", out).isZero();
        assertThat(out.stdoutText().lines().map(l -> l.replaceAll(",.*", "")).toList())
            .containsExactlyInAnyOrder("/srv/www virtiofs ro", "/srv/out virtiofs rw");
        assertThat(Files.readString(rw.resolve("guest.txt"))).isEqualTo("written by web-0\n");

        // root in the guest remounts the read-only share read-write: the host still refuses the write
        ExecResult remount = web.exec("sh", "-c", "mount -o remount,rw /srv/www; "
            + "grep ' /srv/www ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; echo x > /srv/www/evil.txt");
        assertThat(remount.exitCode()).as("%s", remount).isNotZero();
        assertThat(remount.stderrText()).contains("Read-only file system");
        assertThat(remount.stdoutText().strip()).as("the guest's own view of the share").isEqualTo("rw");
        assertThat(ro.resolve("evil.txt")).doesNotExist();
        assertThat(hostMounts(web.domainName())).as("the host's read-only share")
            .singleElement().satisfies(opts -> assertThat(opts.split(",")).contains("ro"));

        // a new runtime adopts the running deployment: the same read-only share, still refusing the write
        rig.reopen();
        d = rig.runtime.deployment("hf").orElseThrow();
        web = d.instance("web", 0);
        ExecResult again = web.exec("sh", "-c", "echo x > /srv/www/evil.txt");
        assertThat(again.exitCode()).as("%s", again).isNotZero();
        assertThat(again.stderrText()).contains("Read-only file system");
        assertThat(ro.resolve("evil.txt")).doesNotExist();
        assertThat(hostMounts(web.domainName())).as("the adopted share").singleElement()
            .satisfies(opts -> assertThat(opts.split(",")).contains("ro"));
      } catch (Throwable t) {
        System.out.println("==== console ====\n" + web.consoleOutput());
        throw t;
      } finally {
        d.destroy();
      }
    } finally {
      try {
        rig.close();
      } finally {
        HostTools.deleteTree(shares);
      }
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
    assertThat(hostMounts(domains.get(0))).as("mounts left behind").isEmpty();
  }

  /** The options of this host's mounts whose mount point names {@code domain} (its read-only shares). */
  private static List<String> hostMounts(String domain) throws Exception {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" "))
        .filter(f -> f[4].contains("/shares/" + domain + "/")).map(f -> f[5]).toList();
  }
}
