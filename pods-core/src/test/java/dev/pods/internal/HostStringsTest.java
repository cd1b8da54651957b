package dev.pods.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.spec.JournalInput;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostStringsTest {
  @Test
  void pathsAreAbsoluteNormalizedAndPrintable() {
    for (String ok : List.of("/", "/data", "/srv/app/", "/mnt/with space", "/a:b", "/\u00e9t\u00e9/x")) {
      assertThat(HostStrings.pathProblem(ok)).as(ok).isNull();
    }
    assertThat(HostStrings.pathProblem("rel/x")).isEqualTo("a path is absolute (starts with '/'), not 'rel/x'");
    for (String bad : List.of("/a/../b", "/..", "/a/./b", "/a//b", "//x")) {
      assertThat(HostStrings.pathProblem(bad)).as(bad).startsWith("a path has no '.', '..' or empty segments");
    }
    assertThat(HostStrings.pathProblem("/srv\n/x")).isEqualTo(
        "a path has no control characters or line breaks: '/srv\\n/x'");
    assertThat(HostStrings.pathProblem("/" + "a".repeat(HostStrings.MAX_PATH))).contains("at most 1024 characters");
    assertThat(HostStrings.pathProblem("")).isEqualTo("a path is not empty");
  }

  @Test
  void unitNamesAreSystemdNamesThatCannotBeOptions() {
    for (String ok : List.of("nginx", "nginx.service", "getty@tty1.service", "sys-devices-x\\x2d1.device")) {
      assertThat(HostStrings.unitProblem(ok)).as(ok).isNull();
    }
    for (String bad : List.of("-x", "--no-pager", "a b", "a/b", "a..b", "", "x".repeat(256), "nginx\n")) {
      assertThat(HostStrings.unitProblem(bad)).as(bad).isNotNull();
    }
  }

  @Test
  void theModelRecordsRefuseThem() {
    List<Reference> d = List.of(Reference.of("disk", "d"));
    assertThatThrownBy(() -> new Mount(null, Mount.Type.DISK, "/data/../etc", null, d))
        .hasMessage("mount path: a path has no '.', '..' or empty segments, not '/data/../etc'");
    assertThatThrownBy(() -> new Mount(null, Mount.Type.HOST_PATH, "/srv", "/etc/../\n", List.of()))
        .hasMessageStartingWith("mount hostPath: a path has no control characters");
    assertThatThrownBy(() -> new Mount("../x", Mount.Type.DISK, "/data", null, d))
        .hasMessageContaining("a mount name is 1-63 letters");
    assertThatThrownBy(() -> new JournalInput("k", JournalInput.Type.SYSTEMD, "--all", null))
        .hasMessageStartingWith("a systemd unit name is");
    assertThatThrownBy(() -> new JournalInput("k", JournalInput.Type.FILE, null, "/var/log/../../etc/shadow"))
        .hasMessageStartingWith("a path has no '.', '..'");
  }
}
