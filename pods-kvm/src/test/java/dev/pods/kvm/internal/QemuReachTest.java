package dev.pods.kvm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QemuReachTest {
  @TempDir Path tmp;

  /** An account that owns nothing here and is in no group of these folders: only "others" bits count for it. */
  private static final QemuReach.Account STRANGER = new QemuReach.Account("qemu", 987654, Set.of(987654));

  @Test
  void aFolderClosedToOthersBlocksTheWayAndIsNamed() throws Exception {
    Path closed = Files.createDirectory(tmp.resolve("closed"));
    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
    Path data = Files.createDirectories(closed.resolve("data"));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));

    assertThat(QemuReach.blocked(data, STRANGER)).contains(closed);
    assertThat(QemuReach.blocked(closed.resolve("not/yet/made"), STRANGER)).contains(closed);

    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx-----x")); // search only: enough
    assertThat(QemuReach.blocked(data, STRANGER)).isEmpty();
  }

  @Test
  void ownerAndGroupBitsCountForTheOwnerAndTheGroupsMembers() throws Exception {
    Path d = Files.createDirectory(tmp.resolve("d"));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    int uid = (Integer) Files.getAttribute(d, "unix:uid");
    int gid = (Integer) Files.getAttribute(d, "unix:gid");
    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx--x---"));

    assertThat(QemuReach.blocked(d, new QemuReach.Account("member", 987654, Set.of(gid)))).isEmpty();
    assertThat(QemuReach.blocked(d, STRANGER)).contains(d);
    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("---rwxrwx"));
    assertThat(QemuReach.blocked(d, new QemuReach.Account("owner", uid, Set.of()))).contains(d);
  }

  @Test
  void theAccountComesFromQemuConfPasswdAndGroup() throws Exception {
    Path passwd = Files.writeString(tmp.resolve("passwd"),
        "root:x:0:0:root:/root:/bin/bash\nlibvirt-qemu:x:64055:107::/var/lib/libvirt:/usr/sbin/nologin\n"
            + "qemu2:x:500:500::/:/bin/false\n");
    Path group = Files.writeString(tmp.resolve("group"), "kvm:x:107:\nlibvirt-qemu:x:64055:libvirt-qemu\n"
        + "disk:x:6:qemu2,libvirt-qemu\n");
    Path conf = Files.writeString(tmp.resolve("qemu.conf"), "#user = \"libvirt-qemu\"\n");

    assertThat(QemuReach.account(conf, passwd, group))
        .contains(new QemuReach.Account("libvirt-qemu", 64055, Set.of(107, 64055, 6)));
    Files.writeString(conf, "user = \"qemu2\"\n");
    assertThat(QemuReach.account(conf, passwd, group)).contains(new QemuReach.Account("qemu2", 500, Set.of(500, 6)));
    Files.writeString(conf, "user = \"root\"\n");
    assertThat(QemuReach.account(conf, passwd, group)).isEmpty();
    assertThat(QemuReach.account(tmp.resolve("none.conf"), passwd, group)).map(QemuReach.Account::name)
        .contains("libvirt-qemu");
  }
}
